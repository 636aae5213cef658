/**
 * The SSHSIG container in a COB change's `gpgsig` header, decoded the way heartwood loads it.
 *
 * heartwood (`radicle-crypto` `ssh.rs` `ExtendedSignature::from_pem`) calls the `ssh-key` crate's
 * `SshSig::from_pem`, which reads PEM through a reader with a fixed 70-column wrap (trust.md §1.5a), and
 * `SshSig::decode`: magic "SSHSIG", version ≤ 1, string(public key blob), non-empty namespace string,
 * reserved string, hash algorithm "sha256" | "sha512", string(signature); no trailing bytes. heartwood then
 * requires an Ed25519 key and a 64-byte signature, and verifies the signature as **raw Ed25519 over the
 * 20 raw tree-OID bytes** (not over SSHSIG signed-data; namespace and hash algorithm are never used).
 * Its writer always puts namespace `radicle`, hash `sha256`, version 1, and an empty reserved field.
 */
import { createHash } from 'node:crypto';
import { parseSshKeyBlob, sshString, SshReader, verifyEd25519 } from './keys.ts';
import { Violations, type Violation } from './violations.ts';

export const SSHSIG_LINE_WIDTH = 70;

export interface SshSig {
  readonly version: number;
  /** Raw 32-byte Ed25519 public key of the signer. */
  readonly publicKey: Buffer;
  readonly namespace: string;
  readonly reserved: Buffer;
  readonly hashAlgorithm: string;
  readonly signatureAlgorithm: string;
  /** Raw 64-byte Ed25519 signature. */
  readonly signature: Buffer;
}

export interface SshSigParse {
  /** `null` when heartwood could not decode it at all (the change would fail to load). */
  readonly sig: SshSig | null;
  readonly violations: Violation[];
}

const BEGIN = '-----BEGIN SSH SIGNATURE-----';
const END = '-----END SSH SIGNATURE-----';

/** Decodes an armored SSHSIG (the `gpgsig` header value, continuation spaces already removed). */
export function parseArmoredSshSig(pem: string): SshSigParse {
  const v = new Violations();
  const lines = pem.replace(/\n$/, '').split('\n');
  if (lines[0] !== BEGIN || lines[lines.length - 1] !== END || lines.length < 3) {
    v.reject('sshsig-armor', `not a "${BEGIN}" … "${END}" block`);
    return { sig: null, violations: v.list };
  }
  const body = lines.slice(1, -1);
  const badWidth = body.findIndex((l, i) =>
    i < body.length - 1 ? l.length !== SSHSIG_LINE_WIDTH : l.length === 0 || l.length > SSHSIG_LINE_WIDTH,
  );
  if (badWidth >= 0) {
    v.reject(
      'sshsig-armor-width',
      `armor line ${badWidth + 1} has ${body[badWidth]?.length} columns; ssh-key reads exactly ${SSHSIG_LINE_WIDTH}`,
    );
    return { sig: null, violations: v.list };
  }
  const b64 = body.join('');
  const bytes = Buffer.from(b64, 'base64');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || bytes.toString('base64') !== b64) {
    v.reject('sshsig-base64', 'armor body is not canonical padded base64');
    return { sig: null, violations: v.list };
  }
  return decodeSshSigBlob(bytes, v);
}

function decodeSshSigBlob(bytes: Buffer, v: Violations): SshSigParse {
  const fail = (msg: string): SshSigParse => {
    v.reject('sshsig-decode', msg);
    return { sig: null, violations: v.list };
  };
  const r = new SshReader(bytes);
  if (r.bytes(6)?.toString('latin1') !== 'SSHSIG') return fail('missing "SSHSIG" magic preamble');
  const version = r.u32();
  if (version === null || version > 1) return fail(`unsupported SSHSIG version ${version}`);
  const keyBlob = r.string();
  const namespace = r.string();
  const reserved = r.string();
  const hashAlg = r.string();
  const sigBlob = r.string();
  if (keyBlob === null || namespace === null || reserved === null || hashAlg === null || sigBlob === null) {
    return fail('truncated SSHSIG structure');
  }
  if (!r.done()) return fail('trailing bytes after the SSHSIG signature field');
  if (namespace.length === 0) return fail('empty SSHSIG namespace (ssh-key refuses it)');
  const hashAlgorithm = hashAlg.toString('latin1');
  if (hashAlgorithm !== 'sha256' && hashAlgorithm !== 'sha512') return fail(`unknown hash algorithm ${hashAlgorithm}`);
  const publicKey = parseSshKeyBlob(keyBlob);
  if (publicKey === null) return fail('public key is not an ssh-ed25519 key (heartwood: UnsupportedAlgorithm)');
  const sr = new SshReader(sigBlob);
  const sigAlg = sr.string()?.toString('latin1');
  const signature = sr.string();
  if (sigAlg !== 'ssh-ed25519' || signature === null || signature.length !== 64 || !sr.done()) {
    return fail('signature field is not string("ssh-ed25519") ‖ string(64 bytes)');
  }
  const sig: SshSig = {
    version,
    publicKey,
    namespace: namespace.toString('utf8'),
    reserved: Buffer.from(reserved),
    hashAlgorithm,
    signatureAlgorithm: sigAlg,
    signature: Buffer.from(signature),
  };
  if (version !== 1) v.nonstandard('sshsig-version', `SSHSIG version ${version}; heartwood writes 1`);
  if (sig.namespace !== 'radicle') v.nonstandard('sshsig-namespace', `namespace "${sig.namespace}"; heartwood writes "radicle"`);
  if (hashAlgorithm !== 'sha256') v.nonstandard('sshsig-hash', `hash algorithm ${hashAlgorithm}; heartwood writes sha256`);
  if (sig.reserved.length > 0) v.nonstandard('sshsig-reserved', 'non-empty reserved field; heartwood writes ""');
  return { sig, violations: v.list };
}

/** heartwood's check: raw Ed25519 by the embedded key over the 20 raw bytes of the tree OID. */
export function verifyTreeSignature(sig: SshSig, treeOid: string): boolean {
  return verifyEd25519(sig.publicKey, Buffer.from(treeOid, 'hex'), sig.signature);
}

/**
 * OpenSSH's own meaning of an SSHSIG (what `ssh-keygen -Y verify` checks): Ed25519 over
 * "SSHSIG" ‖ string(namespace) ‖ string(reserved) ‖ string(hash alg) ‖ string(H(message)).
 * Radicle never uses this; the reader exposes it to show a change signed this way is *not* valid.
 */
export function verifySshSigSignedData(sig: SshSig, message: Uint8Array): boolean {
  const digest = createHash(sig.hashAlgorithm).update(message).digest();
  const signed = Buffer.concat([
    Buffer.from('SSHSIG'),
    sshString(Buffer.from(sig.namespace)),
    sshString(sig.reserved),
    sshString(Buffer.from(sig.hashAlgorithm)),
    sshString(digest),
  ]);
  return verifyEd25519(sig.publicKey, signed, sig.signature);
}
