/**
 * DSSE envelopes (secure-systems-lab/dsse v1.0.2; reference trust.md §2.2): a run's attestation is
 * `{payload, payloadType, signatures:[{keyid, sig}]}` with sig = Ed25519(PAE(type, payload)) by the
 * node key and `keyid` = the node's did:key. Verification uses the exact payload bytes, accepts
 * standard and URL-safe base64, treats `keyid` as a hint only, and says which given key verified.
 */
import { z } from 'zod';
import { didFromNid, nidFromPublicKey, publicKeyFromNid } from '../model/node-id.ts';
import { verifyEd25519 } from './node-signer.ts';

export const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** What signing needs of the node key (the node signer and storage's CobSigner both fit). */
export type EnvelopeSigner = { readonly publicKey: Buffer; sign: (data: Buffer) => Promise<Buffer> };

const B64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/);
export const DsseEnvelope = z.object({
  payload: B64,
  payloadType: z.string(),
  signatures: z.array(z.object({ keyid: z.string().optional(), sig: B64 })).min(1),
});
export type DsseEnvelope = z.infer<typeof DsseEnvelope>;

export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

/** The did:key of an Ed25519 public key. */
export function didKeyOf(publicKey: Buffer): string {
  return didFromNid(nidFromPublicKey(publicKey));
}

/** The raw key of a `did:key:z6Mk…` or bare NID; null when it is neither. */
export function keyOfDid(did: string): Buffer | null {
  try {
    return publicKeyFromNid(did.startsWith('did:key:') ? did.slice('did:key:'.length) : did);
  } catch {
    return null;
  }
}

export async function signEnvelope(signer: EnvelopeSigner, payloadType: string, payload: Buffer): Promise<DsseEnvelope> {
  const sig = await signer.sign(pae(payloadType, payload));
  return { payload: payload.toString('base64'), payloadType, signatures: [{ keyid: didKeyOf(signer.publicKey), sig: sig.toString('base64') }] };
}

export type EnvelopeCheck =
  | { ok: true; payloadType: string; payload: Buffer; signers: string[] }
  | { ok: false; why: string };

/** Parses `json` as an envelope and returns which of `trusted` (did:keys) signed its exact bytes. */
export function verifyEnvelope(json: unknown, trusted: readonly string[]): EnvelopeCheck {
  const parsed = DsseEnvelope.safeParse(json);
  if (!parsed.success) return { ok: false, why: 'not a DSSE envelope' };
  const env = parsed.data;
  const payload = Buffer.from(env.payload, 'base64');
  const message = pae(env.payloadType, payload);
  const signers = new Set<string>();
  for (const s of env.signatures) {
    const sig = Buffer.from(s.sig, 'base64');
    for (const did of trusted) {
      const key = keyOfDid(did);
      if (key !== null && verifyEd25519(key, message, sig)) signers.add(didKeyOf(key));
    }
  }
  if (signers.size === 0) return { ok: false, why: 'no signature verifies with the expected key' };
  return { ok: true, payloadType: env.payloadType, payload, signers: [...signers] };
}
