/**
 * Reads an OpenSSH private key file (`openssh-key-v1`, PROTOCOL.key) holding one Ed25519 key, as
 * Radicle keeps its node key in `$RAD_HOME/keys/radicle`. An encrypted key (bcrypt KDF, aes256-ctr,
 * what `rad auth` and `ssh-keygen` write) is opened with its passphrase. The public key is readable
 * without the passphrase. Errors never contain key material or the passphrase.
 */
import { createDecipheriv } from 'node:crypto';
import { bcryptPbkdf } from './bcrypt-pbkdf.ts';
import { WireReader } from './ssh-wire.ts';

const MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');
const BEGIN = '-----BEGIN OPENSSH PRIVATE KEY-----';
const END = '-----END OPENSSH PRIVATE KEY-----';

/** Why a key could not be opened: routed on by the caller (exit 2 and a message naming it). */
export type KeyProblem = 'malformed' | 'unsupported' | 'needs-passphrase' | 'wrong-passphrase';

export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
  readonly problem: KeyProblem;
  constructor(problem: KeyProblem, message: string) {
    super(message);
    this.problem = problem;
  }
}

export type OpenSshKey = {
  /** The 32-byte Ed25519 public key. */
  publicKey: Buffer;
  encrypted: boolean;
  /** Returns the 32-byte seed; throws KeyFileError when the passphrase is missing or wrong. */
  decrypt: (passphrase: string | null) => Buffer;
};

const CIPHERS: Record<string, { algorithm: string; keyLength: number; ivLength: number }> = {
  'aes256-ctr': { algorithm: 'aes-256-ctr', keyLength: 32, ivLength: 16 },
  'aes256-cbc': { algorithm: 'aes-256-cbc', keyLength: 32, ivLength: 16 },
  'aes128-ctr': { algorithm: 'aes-128-ctr', keyLength: 16, ivLength: 16 },
};

function malformed(why: string): KeyFileError {
  return new KeyFileError('malformed', `not an OpenSSH private key (${why})`);
}

export function parseOpenSshKey(text: string): OpenSshKey {
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw malformed('no OPENSSH PRIVATE KEY block');
  const raw = Buffer.from(text.slice(start + BEGIN.length, end).replace(/\s+/g, ''), 'base64');
  if (raw.length < MAGIC.length || !raw.subarray(0, MAGIC.length).equals(MAGIC)) throw malformed('bad magic');
  let r: WireReader;
  let cipher: string;
  let kdf: string;
  let kdfOptions: Buffer;
  let publicKey: Buffer;
  let secret: Buffer;
  try {
    r = new WireReader(raw.subarray(MAGIC.length), 'OpenSSH private key');
    cipher = r.text();
    kdf = r.text();
    kdfOptions = r.string();
    if (r.u32() !== 1) throw new KeyFileError('unsupported', 'the key file must hold exactly one key');
    const pub = new WireReader(r.string(), 'public key');
    if (pub.text() !== 'ssh-ed25519') throw new KeyFileError('unsupported', 'the key is not an ssh-ed25519 key');
    publicKey = Buffer.from(pub.string());
    secret = r.string();
  } catch (e) {
    if (e instanceof KeyFileError) throw e;
    throw malformed('truncated');
  }
  if (publicKey.length !== 32) throw malformed('bad public key length');
  const encrypted = cipher !== 'none';
  if (encrypted && (kdf !== 'bcrypt' || CIPHERS[cipher] === undefined)) {
    throw new KeyFileError('unsupported', `unsupported key encryption ${JSON.stringify(`${cipher}/${kdf}`)}`);
  }
  const decrypt = (passphrase: string | null): Buffer => {
    let plain = secret;
    if (encrypted) {
      if (passphrase === null || passphrase === '') {
        throw new KeyFileError('needs-passphrase', 'the key is encrypted and no passphrase was given');
      }
      const spec = CIPHERS[cipher];
      if (spec === undefined) throw new KeyFileError('unsupported', 'unsupported key encryption');
      const opts = new WireReader(kdfOptions, 'KDF options');
      const salt = opts.string();
      const rounds = opts.u32();
      const material = bcryptPbkdf(Buffer.from(passphrase, 'utf8'), salt, spec.keyLength + spec.ivLength, rounds);
      const d = createDecipheriv(spec.algorithm, material.subarray(0, spec.keyLength), material.subarray(spec.keyLength));
      d.setAutoPadding(false);
      plain = Buffer.concat([d.update(secret), d.final()]);
    }
    const p = new WireReader(plain, 'private key section');
    let check1: number;
    let check2: number;
    try {
      check1 = p.u32();
      check2 = p.u32();
    } catch {
      throw malformed('truncated private section');
    }
    if (check1 !== check2) {
      throw encrypted ? new KeyFileError('wrong-passphrase', 'the passphrase does not open the key') : malformed('check bytes differ');
    }
    try {
      if (p.text() !== 'ssh-ed25519') throw malformed('private key is not ssh-ed25519');
      const pub = p.string();
      const priv = p.string();
      if (!pub.equals(publicKey) || priv.length !== 64 || !priv.subarray(32).equals(publicKey)) {
        throw malformed('private and public key do not match');
      }
      return Buffer.from(priv.subarray(0, 32));
    } catch (e) {
      if (e instanceof KeyFileError) throw e;
      throw encrypted ? new KeyFileError('wrong-passphrase', 'the passphrase does not open the key') : malformed('truncated');
    }
  };
  return { publicKey, encrypted, decrypt };
}
