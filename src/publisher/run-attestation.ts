/**
 * The signed claim about a finished run (issue 9; reference trust.md §2.6): the in-toto Test Result
 * Statement for the run's commit — result, the adapter and (for native runs) `.radicle/native.yaml`'s
 * gitBlob, the log's URL and sha256, start and finish times, every reported artifact's sha256 —
 * serialized as canonical JSON, wrapped in a DSSE envelope signed by the node key with keyid =
 * did:key, as one line of `attestation.intoto.jsonl`.
 */
import { createHash } from 'node:crypto';
import type { FinishedUpdate } from '../model/run.ts';
import { reportFileUrl, runLogPath } from '../model/run-page.ts';
import { testResultStatement } from '../model/test-result.ts';
import { didKeyOf, INTOTO_PAYLOAD_TYPE, signEnvelope, type EnvelopeSigner } from '../signing/dsse.ts';
import { canonicalJson } from '../storage/canonical-json.ts';

export type AttestationInput = {
  update: FinishedUpdate;
  /** The job COB's id, null when the Finished change creates the job. */
  jobId: string | null;
  /** The job's `log` URL for the run. */
  url: string;
  nativeConfigBlob: string | null;
  reportUrl: string | null;
};

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** The envelope line (with its newline) for the `embeds/attestation.intoto.jsonl` of the Finished change. */
export async function runAttestation(signer: EnvelopeSigner, a: AttestationInput): Promise<Buffer> {
  const u = a.update;
  const logUri = a.reportUrl !== null ? reportFileUrl(a.reportUrl, runLogPath(u.subject.id)) : null;
  const statement = testResultStatement({
    rid: u.subject.repo,
    commit: u.subject.commit,
    result: u.result === 'success' ? 'PASSED' : 'FAILED',
    node: didKeyOf(signer.publicKey),
    job: a.jobId,
    run: u.subject.id,
    adapter: { name: u.subject.adapter, version: u.report?.adapter_version ?? null },
    nativeConfigBlob: a.nativeConfigBlob,
    url: a.url,
    startedOn: u.started_at ?? null,
    finishedOn: u.at,
    log: u.log !== undefined ? { name: 'log.txt', uri: logUri, sha256: sha256(u.log) } : null,
    artifacts: u.report?.artifacts ?? [],
    tests: u.report?.tests ? { passed: u.report.tests.passed ?? 0, failed: u.report.tests.failed ?? 0, warned: u.report.tests.warned ?? 0 } : null,
  });
  const envelope = await signEnvelope(signer, INTOTO_PAYLOAD_TYPE, Buffer.from(canonicalJson(statement), 'utf8'));
  return Buffer.from(`${JSON.stringify(envelope)}\n`, 'utf8');
}
