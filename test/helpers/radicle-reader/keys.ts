/**
 * Node ids, did:keys and OpenSSH public keys, decoded independently of cibq's src/ (which the reader
 * must not share code with): base58btc, the multicodec prefix, and the SSH wire format are written
 * here from radicle-node.md §5 and heartwood's `radicle-crypto` (`to_human`, `ssh::fmt::key`).
 *
 * NID = "z" + base58btc(0xED 0x01 ‖ pub32); DID = "did:key:" + NID; OpenSSH public key =
 * "ssh-ed25519 " + base64(string("ssh-ed25519") ‖ string(pub32)).
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const ED25519_MULTICODEC = Buffer.from([0xed, 0x01]);

export function base58btcEncode(bytes: Uint8Array): string {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  let out = '';
  while (n > 0n) {
    out = ALPHABET.charAt(Number(n % 58n)) + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = '1' + out;
  }
  return out;
}

/** Decodes base58btc; `null` for any character outside the alphabet. */
export function base58btcDecode(text: string): Buffer | null {
  let n = 0n;
  for (const ch of text) {
    const digit = ALPHABET.indexOf(ch);
    if (digit < 0) return null;
    n = n * 58n + BigInt(digit);
  }
  const bytes: number[] = [];
  while (n > 0n) {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  for (const ch of text) {
    if (ch !== '1') break;
    bytes.unshift(0);
  }
  return Buffer.from(bytes);
}

/** `z6Mk…` for a raw 32-byte Ed25519 public key. */
export function nidFromPublicKey(pub32: Uint8Array): string {
  if (pub32.length !== 32) throw new Error(`an Ed25519 public key has 32 bytes, got ${pub32.length}`);
  return 'z' + base58btcEncode(Buffer.concat([ED25519_MULTICODEC, pub32]));
}

export function didFromPublicKey(pub32: Uint8Array): string {
  return 'did:key:' + nidFromPublicKey(pub32);
}

/** Raw 32-byte key from a NID (`z6Mk…`) or DID (`did:key:z6Mk…`); `null` if it is not an Ed25519 key. */
export function publicKeyFromNid(nidOrDid: string): Buffer | null {
  const nid = nidOrDid.startsWith('did:key:') ? nidOrDid.slice('did:key:'.length) : nidOrDid;
  if (!nid.startsWith('z')) return null;
  const bytes = base58btcDecode(nid.slice(1));
  if (bytes === null || bytes.length !== 34) return null;
  if (!bytes.subarray(0, 2).equals(ED25519_MULTICODEC)) return null;
  const pub = bytes.subarray(2);
  // Reject non-canonical encodings (e.g. extra leading '1's), which would re-encode differently.
  return nidFromPublicKey(pub) === nid ? Buffer.from(pub) : null;
}

/** The SSH wire-format key blob: string("ssh-ed25519") ‖ string(pub32). */
export function sshKeyBlob(pub32: Uint8Array): Buffer {
  return Buffer.concat([sshString(Buffer.from('ssh-ed25519')), sshString(pub32)]);
}

/** `ssh-ed25519 AAAA…` as `ssh-add -L` and heartwood's `ssh::fmt::key` print it (no comment). */
export function openSshPublicKey(pub32: Uint8Array): string {
  return `ssh-ed25519 ${sshKeyBlob(pub32).toString('base64')}`;
}

/** Raw key from an OpenSSH public key line (`ssh-ed25519 AAAA… [comment]`); `null` if not Ed25519. */
export function parseOpenSshPublicKey(line: string): Buffer | null {
  const [type, b64] = line.trim().split(/\s+/);
  if (type !== 'ssh-ed25519' || b64 === undefined) return null;
  return parseSshKeyBlob(Buffer.from(b64, 'base64'));
}

/** Raw key from an SSH wire-format public key blob; `null` unless it is exactly an Ed25519 key blob. */
export function parseSshKeyBlob(blob: Buffer): Buffer | null {
  const r = new SshReader(blob);
  const type = r.string();
  const pub = r.string();
  if (type === null || pub === null || !r.done()) return null;
  if (type.toString('latin1') !== 'ssh-ed25519' || pub.length !== 32) return null;
  return pub;
}

export function sshString(bytes: Uint8Array): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

/** Reads SSH wire-format fields; every read returns `null` past the end instead of throwing. */
export class SshReader {
  #buf: Buffer;
  #pos = 0;

  constructor(buf: Buffer) {
    this.#buf = buf;
  }

  bytes(n: number): Buffer | null {
    if (this.#pos + n > this.#buf.length) return null;
    const out = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  u32(): number | null {
    const b = this.bytes(4);
    return b === null ? null : b.readUInt32BE(0);
  }

  string(): Buffer | null {
    const len = this.u32();
    return len === null ? null : this.bytes(len);
  }

  done(): boolean {
    return this.#pos === this.#buf.length;
  }
}

export function ed25519PublicKeyObject(pub32: Uint8Array): KeyObject {
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(pub32).toString('base64url') },
    format: 'jwk',
  });
}

/** Plain Ed25519 verification of `sig64` over `message` (no hashing, no SSHSIG framing). */
export function verifyEd25519(pub32: Uint8Array, message: Uint8Array, sig64: Uint8Array): boolean {
  if (pub32.length !== 32 || sig64.length !== 64) return false;
  try {
    return verify(null, message, ed25519PublicKeyObject(pub32), sig64);
  } catch {
    return false;
  }
}
