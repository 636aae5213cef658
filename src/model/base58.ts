/**
 * base58btc (the bitcoin alphabet), as used by Radicle's multibase strings (NIDs, RIDs, signatures).
 * Leading zero bytes encode as leading '1' characters and back.
 */
const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const INDEX = new Map<string, number>([...ALPHABET].map((c, i) => [c, i]));

export function base58Encode(bytes: Uint8Array): string {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  // Little-endian base-58 digits of the big-endian number in `bytes`.
  const digits: number[] = [];
  for (let i = zeros; i < bytes.length; i++) {
    let carry = bytes[i] ?? 0;
    for (let j = 0; j < digits.length; j++) {
      carry += (digits[j] ?? 0) * 256;
      digits[j] = carry % 58;
      carry = Math.floor(carry / 58);
    }
    while (carry > 0) {
      digits.push(carry % 58);
      carry = Math.floor(carry / 58);
    }
  }
  let out = '1'.repeat(zeros);
  for (let k = digits.length - 1; k >= 0; k--) out += ALPHABET[digits[k] ?? 0];
  return out;
}

/** Decodes base58btc; throws on a character outside the alphabet. */
export function base58Decode(s: string): Buffer {
  let zeros = 0;
  while (zeros < s.length && s[zeros] === '1') zeros++;
  // Little-endian base-256 bytes.
  const bytes: number[] = [];
  for (let i = zeros; i < s.length; i++) {
    const ch = s[i] ?? '';
    const value = INDEX.get(ch);
    if (value === undefined) throw new Error(`invalid base58 character ${JSON.stringify(ch)}`);
    let carry = value;
    for (let j = 0; j < bytes.length; j++) {
      carry += (bytes[j] ?? 0) * 58;
      bytes[j] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  return Buffer.concat([Buffer.alloc(zeros), Buffer.from(bytes.reverse())]);
}
