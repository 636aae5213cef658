/**
 * DSSE envelopes (secure-systems-lab/dsse `protocol.md`, `envelope.md` v1.0.2) verified with nothing but
 * did:keys, as trust.md §2.2/§2.6 specifies for cibq's run attestations (issue 9).
 *
 * sig = Ed25519(PAE(payloadType, payload)), PAE = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body with
 * ASCII decimal byte lengths. Payload and sig are base64 (standard or URL-safe both accepted). `keyid` is
 * an unauthenticated hint: every signature is tried against every trusted key. The statement is parsed
 * from the exact verified bytes, never re-serialized; cibq additionally writes it as canonical JSON.
 */
import { z } from 'zod';
import { checkCanonical } from './canonical-json.ts';
import { parseTestResultStatement, type TestResultStatement } from './in-toto.ts';
import { publicKeyFromNid, verifyEd25519 } from './keys.ts';
import { Violations, type Violation } from './violations.ts';

export const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

const B64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'base64 (standard or URL-safe)');
export const Envelope = z.object({
  payload: B64,
  payloadType: z.string(),
  signatures: z.array(z.object({ keyid: z.string().optional(), sig: B64 })).min(1),
});
export type Envelope = z.infer<typeof Envelope>;

export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

export interface DsseSignatureCheck {
  readonly keyid: string | null;
  /** The trusted DID that verified this signature, or `null`. */
  readonly signer: string | null;
}

export interface DsseExpectations {
  /** The commit the statement's subject must carry as `gitCommit`. */
  readonly commit?: string;
  /** The repository (`rad:z…`) the subject must name. */
  readonly rid?: string;
}

export interface DsseVerification {
  /** At least one signature verifies with a trusted key and the envelope has no attestation violation. */
  readonly valid: boolean;
  readonly payloadType: string | null;
  /** The exact bytes the signatures cover. */
  readonly payload: Buffer | null;
  readonly statement: TestResultStatement | null;
  readonly signatures: readonly DsseSignatureCheck[];
  /** Trusted DIDs with a valid signature. */
  readonly signers: readonly string[];
  readonly violations: readonly Violation[];
}

/** Verifies one envelope (parsed JSON or its text) against the trusted did:key(s). */
export function verifyDsse(
  envelope: unknown,
  trusted: string | readonly string[],
  expect: DsseExpectations = {},
): DsseVerification {
  const v = new Violations();
  const fail = (): DsseVerification => ({
    valid: false, payloadType: null, payload: null, statement: null, signatures: [], signers: [], violations: v.list,
  });
  let json = envelope;
  if (typeof envelope === 'string') {
    try {
      json = JSON.parse(envelope);
    } catch {
      v.attestation('dsse-json', 'envelope is not JSON');
      return fail();
    }
  }
  const parsed = Envelope.safeParse(json);
  if (!parsed.success) {
    v.attestation('dsse-shape', z.prettifyError(parsed.error));
    return fail();
  }
  const env = parsed.data;
  const payload = Buffer.from(env.payload, 'base64');
  const message = pae(env.payloadType, payload);
  const keys = (typeof trusted === 'string' ? [trusted] : trusted).map((did) => ({ did, pub: publicKeyFromNid(did) }));
  for (const k of keys) if (k.pub === null) v.attestation('trusted-key', `${k.did} is not an Ed25519 did:key`);

  const signatures = env.signatures.map((s) => {
    const sig = Buffer.from(s.sig, 'base64');
    const hit = keys.find((k) => k.pub !== null && verifyEd25519(k.pub, message, sig));
    const signer = hit ? (hit.did.startsWith('did:key:') ? hit.did : `did:key:${hit.did}`) : null;
    if (signer !== null && s.keyid !== undefined && s.keyid !== signer) {
      v.attestation('dsse-keyid', `keyid ${s.keyid} does not name its signer ${signer}`);
    }
    return { keyid: s.keyid ?? null, signer };
  });
  const signers = [...new Set(signatures.map((s) => s.signer).filter((s): s is string => s !== null))];
  if (signers.length === 0) v.attestation('dsse-signature', 'no signature verifies with a trusted key');
  if (env.payloadType !== INTOTO_PAYLOAD_TYPE) {
    v.attestation('dsse-payload-type', `payloadType ${env.payloadType}, expected ${INTOTO_PAYLOAD_TYPE}`);
  }

  const statement = signers.length > 0 ? checkStatement(payload, signers, expect, v) : null;
  return {
    valid: signers.length > 0 && v.list.length === 0,
    payloadType: env.payloadType,
    payload,
    statement,
    signatures,
    signers,
    violations: v.list,
  };
}

function checkStatement(payload: Buffer, signers: readonly string[], expect: DsseExpectations, v: Violations) {
  const canon = checkCanonical(payload);
  if (canon.value === undefined) {
    v.attestation('statement-json', `payload: ${canon.reason}`);
    return null;
  }
  if (!canon.ok) v.attestation('statement-not-canonical', `payload ${canon.reason}`);
  const res = parseTestResultStatement(canon.value);
  if (!res.ok) {
    v.attestation('statement-shape', res.error);
    return null;
  }
  const st = res.statement;
  const node = st.predicate.radicle.node;
  if (!signers.includes(node)) v.attestation('statement-node', `radicle.node ${node} is not the signer (${signers.join(', ')})`);
  if (expect.commit !== undefined && !st.subject.some((s) => s.digest?.gitCommit === expect.commit)) {
    v.attestation('statement-subject', `no subject has gitCommit ${expect.commit}`);
  }
  if (expect.rid !== undefined && !st.subject.some((s) => s.name === expect.rid || s.uri === expect.rid)) {
    v.attestation('statement-repo', `no subject names ${expect.rid}`);
  }
  return st;
}

/** Splits an `*.intoto.jsonl` bundle into envelopes (one JSON object per non-empty line). */
export function parseIntotoBundle(text: string): { envelopes: unknown[]; violations: Violation[] } {
  const v = new Violations();
  const envelopes: unknown[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      envelopes.push(JSON.parse(line));
    } catch {
      v.attestation('bundle-line', `line ${i + 1} is not JSON`);
    }
  });
  if (envelopes.length === 0 && v.list.length === 0) v.attestation('bundle-empty', 'no envelope in the bundle');
  return { envelopes, violations: v.list };
}
