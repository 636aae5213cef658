/**
 * bcrypt_pbkdf (OpenBSD `bcrypt_pbkdf.c`): the KDF OpenSSH uses to turn a passphrase into the
 * cipher key and IV of an encrypted `openssh-key-v1` private key, such as Radicle's node key.
 */
import { createHash } from 'node:crypto';
import { Blowfish, streamWord } from './blowfish.ts';

const MAGIC = Buffer.from('OxychromaticBlowfishSwatDynamite', 'latin1');
const HASH_BYTES = 32;

function sha512(data: Buffer): Buffer {
  return createHash('sha512').update(data).digest();
}

function bcryptHash(sha2pass: Buffer, sha2salt: Buffer): Buffer {
  const bf = new Blowfish();
  bf.expandState(sha2salt, sha2pass);
  for (let i = 0; i < 64; i++) {
    bf.expand0State(sha2salt);
    bf.expand0State(sha2pass);
  }
  const cdata = new Uint32Array(HASH_BYTES / 4);
  const pos = { j: 0 };
  for (let i = 0; i < cdata.length; i++) cdata[i] = streamWord(MAGIC, pos);
  for (let i = 0; i < 64; i++) for (let b = 0; b < cdata.length; b += 2) bf.encipher(cdata, b);
  const out = Buffer.alloc(HASH_BYTES);
  for (let i = 0; i < cdata.length; i++) out.writeUInt32LE(cdata[i] as number, 4 * i);
  return out;
}

/** `keyLength` bytes derived from `passphrase` and `salt` with `rounds` rounds. */
export function bcryptPbkdf(passphrase: Buffer, salt: Buffer, keyLength: number, rounds: number): Buffer {
  if (rounds < 1 || keyLength < 1 || keyLength > HASH_BYTES * HASH_BYTES || salt.length === 0) {
    throw new Error('invalid bcrypt_pbkdf parameters');
  }
  const stride = Math.ceil(keyLength / HASH_BYTES);
  const amount = Math.ceil(keyLength / stride);
  const key = Buffer.alloc(keyLength);
  const sha2pass = sha512(passphrase);
  const count = Buffer.alloc(4);
  for (let block = 1, left = keyLength; left > 0; block++) {
    count.writeUInt32BE(block);
    let tmp = bcryptHash(sha2pass, sha512(Buffer.concat([salt, count])));
    const out = Buffer.from(tmp);
    for (let r = 1; r < rounds; r++) {
      tmp = bcryptHash(sha2pass, sha512(tmp));
      for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) ^ (tmp[i] as number);
    }
    const take = Math.min(amount, left);
    let i = 0;
    for (; i < take; i++) {
      const dest = i * stride + (block - 1);
      if (dest >= keyLength) break;
      key[dest] = out[i] as number;
    }
    left -= i;
  }
  return key;
}
