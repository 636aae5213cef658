/**
 * cibq's signed run results inside job COBs (issue 9; trust.md §2.6–§2.7): a `Finished` change may carry
 * the embed `embeds/attestation.intoto.jsonl`, one DSSE envelope per line, each signed by the node key.
 *
 * Radicle ignores embeds (radicle-job reads only the integer-named blobs), so every rule here has
 * severity `attestation`: the envelope verifies with the did:key of *the change's signer* (an envelope
 * signed by anyone else is invalid), its statement's subject is the job's commit in this repository, and
 * it describes the run this change finishes (`radicle.run` = the Finished uuid, result matching the reason,
 * `radicle.job` = the job id when present).
 */
import type { DecodedChange } from './cob-change.ts';
import { parseIntotoBundle, verifyDsse, type DsseVerification } from './dsse.ts';
import { Violations, type Violation } from './violations.ts';

export const ATTESTATION_EMBED = 'attestation.intoto.jsonl';

export interface AttestationCheck {
  /** The change carrying the embed. */
  readonly change: string;
  /** Whether Radicle applies that change (it is neither pruned nor unreachable). */
  readonly applied: boolean;
  /** The uuid of the run the change finishes, if it has one Finished action. */
  readonly run: string | null;
  readonly envelopes: readonly DsseVerification[];
  /** All envelopes verify and describe this change's run. */
  readonly valid: boolean;
  readonly violations: readonly Violation[];
}

const RESULT_OF = { Succeeded: 'PASSED', Failed: 'FAILED' } as const;

export function checkAttestations(
  rid: string,
  changes: ReadonlyMap<string, DecodedChange>,
  applied: readonly string[],
  commit: string | null,
): AttestationCheck[] {
  const checks: AttestationCheck[] = [];
  for (const change of changes.values()) {
    const embed = change.embeds.find((e) => e.name === ATTESTATION_EMBED);
    if (embed === undefined) continue;
    const v = new Violations({ change: change.oid });
    const finished = change.actions.filter((a) => a?.type === 'Finished');
    const fin = finished.length === 1 && finished[0]?.type === 'Finished' ? finished[0] : null;
    if (fin === null) v.attestation('attestation-placement', `${ATTESTATION_EMBED} is not in a change with exactly one Finished`);
    const bundle = parseIntotoBundle(embed.content.toString('utf8'));
    v.add(bundle.violations);
    const envelopes = bundle.envelopes.map((env) => {
      if (change.signer === null) return verifyDsse(env, []);
      return verifyDsse(env, change.signer.did, { rid, ...(commit === null ? {} : { commit }) });
    });
    for (const e of envelopes) {
      v.add(e.violations);
      const radicle = e.statement?.predicate.radicle;
      if (radicle === undefined || fin === null) continue;
      if (radicle.run !== fin.uuid) v.attestation('attestation-run', `radicle.run ${radicle.run} ≠ finished run ${fin.uuid}`);
      if (e.statement?.predicate.result !== RESULT_OF[fin.reason]) {
        v.attestation('attestation-result', `result ${e.statement?.predicate.result} but the run ${fin.reason}`);
      }
      const job = applied[0]; // the root change's OID is the job id
      if (radicle.job !== undefined && job !== undefined && radicle.job !== job) {
        v.attestation('attestation-job', `radicle.job ${radicle.job} ≠ job ${job}`);
      }
    }
    checks.push({
      change: change.oid,
      applied: applied.includes(change.oid),
      run: fin?.uuid ?? null,
      envelopes,
      valid: envelopes.length > 0 && v.list.length === 0,
      violations: v.list,
    });
  }
  return checks;
}
