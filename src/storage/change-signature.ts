/**
 * The `gpgsig` header of a COB change: an armored SSHSIG container whose inner signature is a raw
 * Ed25519 signature over the 20 raw bytes of the change's tree OID (reference radicle-node.md §4).
 * Namespace `radicle`, hash `sha256`; the base64 is wrapped at exactly 70 columns, because Radicle's
 * reader (the ssh-key crate) reads the armor with a fixed 70-column reader (trust.md §1.5a). Since
 * the signature does not cover SSHSIG's signed data, `ssh-keygen -Y verify` rejects it by design.
 */
import { createPublicKey, verify } from 'node:crypto';

export type ChangeSignature = { publicKey: Buffer; signature: Buffer };

/** What the storage writers need of the node's key (src/signing's Signer has this shape). */
export type CobSigner = {
  readonly nid: string;
  readonly publicKey: Buffer;
  /** A raw 64-byte Ed25519 signature of `data`. */
  sign: (data: Buffer) => Promise<Buffer>;
};

function sshString(b: Buffer | string): Buffer {
  const buf = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(buf.length);
  return Buffer.concat([len, buf]);
}

/** The armored `gpgsig` value (without header continuation spaces) signing a change whose tree is `treeOid`. */
export async function changeSignatureArmor(signer: CobSigner, treeOid: string): Promise<string> {
  if (!/^[0-9a-f]{40}$/.test(treeOid)) throw new Error(`not a tree oid: ${JSON.stringify(treeOid)}`);
  const sig = await signer.sign(Buffer.from(treeOid, 'hex'));
  const version = Buffer.alloc(4);
  version.writeUInt32BE(1);
  const blob = Buffer.concat([
    Buffer.from('SSHSIG', 'latin1'),
    version,
    sshString(Buffer.concat([sshString('ssh-ed25519'), sshString(signer.publicKey)])),
    sshString('radicle'),
    sshString(''),
    sshString('sha256'),
    sshString(Buffer.concat([sshString('ssh-ed25519'), sshString(sig)])),
  ]);
  const lines = blob.toString('base64').match(/.{1,70}/g) ?? [];
  return ['-----BEGIN SSH SIGNATURE-----', ...lines, '-----END SSH SIGNATURE-----'].join('\n');
}

class Reader {
  readonly #buf: Buffer;
  #at = 0;
  constructor(buf: Buffer) {
    this.#buf = buf;
  }
  bytes(n: number): Buffer {
    if (this.#at + n > this.#buf.length) throw new Error('truncated SSHSIG');
    const out = this.#buf.subarray(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }
  u32(): number {
    return this.bytes(4).readUInt32BE(0);
  }
  string(): Buffer {
    return this.bytes(this.u32());
  }
}

/** Parses an armored `-----BEGIN SSH SIGNATURE-----` block holding an ssh-ed25519 signature. */
export function parseSshSig(armored: string): ChangeSignature {
  const body = armored
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('-----'))
    .join('');
  const r = new Reader(Buffer.from(body, 'base64'));
  if (r.bytes(6).toString('latin1') !== 'SSHSIG') throw new Error('not an SSHSIG blob');
  r.u32(); // version
  const pk = new Reader(r.string());
  if (pk.string().toString('latin1') !== 'ssh-ed25519') throw new Error('SSHSIG key is not ssh-ed25519');
  const publicKey = pk.string();
  r.string(); // namespace
  r.string(); // reserved
  r.string(); // hash algorithm
  const sig = new Reader(r.string());
  if (sig.string().toString('latin1') !== 'ssh-ed25519') throw new Error('SSHSIG signature is not ssh-ed25519');
  const signature = sig.string();
  if (publicKey.length !== 32 || signature.length !== 64) throw new Error('bad ed25519 key or signature length');
  return { publicKey, signature };
}

/** True when `sig` is a valid Ed25519 signature of the raw bytes of `treeOid`. */
export function verifyChangeSignature(sig: ChangeSignature, treeOid: string): boolean {
  const key = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: sig.publicKey.toString('base64url') },
    format: 'jwk',
  });
  return verify(null, Buffer.from(treeOid, 'hex'), key, sig.signature);
}
