/**
 * Blowfish's state and its expensive key schedule, as bcrypt_pbkdf uses them (OpenBSD `blf.c`).
 * Blowfish is not in Node's OpenSSL build, and no package is needed for it: the initial P-array
 * and S-boxes are, by definition, the first 1042 32-bit words of the fractional part of π, which
 * are computed once here (Machin's formula over BigInt, a few milliseconds) instead of being
 * pasted in as 8 KiB of constants. The first words are checked against the published values.
 */

const WORDS = 18 + 4 * 256;

function arctanInverse(x: bigint, scale: bigint): bigint {
  const x2 = x * x;
  let term = scale / x;
  let sum = term;
  for (let k = 1n; term !== 0n; k++) {
    term /= x2;
    const t = term / (2n * k + 1n);
    sum += k % 2n === 1n ? -t : t;
  }
  return sum;
}

let piWords: Uint32Array | null = null;

/** The first `WORDS` 32-bit words of π's fractional part (0x243f6a88, 0x85a308d3, …). */
export function piFractionWords(): Uint32Array {
  if (piWords !== null) return piWords;
  const bits = BigInt(WORDS * 32);
  const guard = 64n;
  const scale = 1n << (bits + guard);
  const pi = 16n * arctanInverse(5n, scale) - 4n * arctanInverse(239n, scale);
  const fraction = (pi - 3n * scale) >> guard;
  const out = new Uint32Array(WORDS);
  for (let i = 0; i < WORDS; i++) out[i] = Number((fraction >> (bits - 32n * BigInt(i + 1))) & 0xffffffffn);
  if (out[0] !== 0x243f6a88 || out[17] !== 0x8979fb1b || out[18] !== 0xd1310ba6 || out[WORDS - 1] !== 0x3ac372e6) {
    throw new Error('internal error: the Blowfish constants computed from pi are wrong');
  }
  piWords = out;
  return out;
}

export class Blowfish {
  readonly p = new Uint32Array(18);
  readonly s = new Uint32Array(1024);

  constructor() {
    const pi = piFractionWords();
    this.p.set(pi.subarray(0, 18));
    this.s.set(pi.subarray(18));
  }

  #f(x: number): number {
    const s = this.s;
    return ((((s[x >>> 24] as number) + (s[256 + ((x >>> 16) & 0xff)] as number)) ^ (s[512 + ((x >>> 8) & 0xff)] as number)) +
      (s[768 + (x & 0xff)] as number)) >>> 0;
  }

  /** Encrypts one block (two words) in place at `data[i]`, `data[i + 1]`. */
  encipher(data: Uint32Array, i: number): void {
    const p = this.p;
    let l = (data[i] as number) ^ (p[0] as number);
    let r = data[i + 1] as number;
    for (let n = 1; n <= 16; n += 2) {
      r = (r ^ this.#f(l) ^ (p[n] as number)) >>> 0;
      l = (l ^ this.#f(r) ^ (p[n + 1] as number)) >>> 0;
    }
    data[i] = (r ^ (p[17] as number)) >>> 0;
    data[i + 1] = l;
  }

  /** Blowfish_expandstate: the key schedule salted with `data`. */
  expandState(data: Buffer, key: Buffer): void {
    this.#xorKey(key);
    const block = new Uint32Array(2);
    const pos = { j: 0 };
    for (let i = 0; i < 18; i += 2) {
      block[0] = (block[0] as number) ^ streamWord(data, pos);
      block[1] = (block[1] as number) ^ streamWord(data, pos);
      this.encipher(block, 0);
      this.p[i] = block[0];
      this.p[i + 1] = block[1];
    }
    for (let i = 0; i < 1024; i += 2) {
      block[0] = (block[0] as number) ^ streamWord(data, pos);
      block[1] = (block[1] as number) ^ streamWord(data, pos);
      this.encipher(block, 0);
      this.s[i] = block[0];
      this.s[i + 1] = block[1];
    }
  }

  /** Blowfish_expand0state: the plain key schedule. */
  expand0State(key: Buffer): void {
    this.#xorKey(key);
    const block = new Uint32Array(2);
    for (let i = 0; i < 18; i += 2) {
      this.encipher(block, 0);
      this.p[i] = block[0] as number;
      this.p[i + 1] = block[1] as number;
    }
    for (let i = 0; i < 1024; i += 2) {
      this.encipher(block, 0);
      this.s[i] = block[0] as number;
      this.s[i + 1] = block[1] as number;
    }
  }

  #xorKey(key: Buffer): void {
    const pos = { j: 0 };
    for (let i = 0; i < 18; i++) this.p[i] = ((this.p[i] as number) ^ streamWord(key, pos)) >>> 0;
  }
}

/** Blowfish_stream2word: the next 4 bytes of `data`, big-endian, wrapping around. */
export function streamWord(data: Buffer, pos: { j: number }): number {
  let w = 0;
  for (let i = 0; i < 4; i++) {
    if (pos.j >= data.length) pos.j = 0;
    w = ((w << 8) | (data[pos.j] as number)) >>> 0;
    pos.j++;
  }
  return w;
}
