/**
 * Secrets never leave the worker: every value of an adapter's `sensitive_env` is replaced by `***`
 * in the run's log, job log, reason and the worker's own log lines, together with
 * - its base64 (standard and URL alphabet, with and without `=` padding),
 * - the part of its base64 that does not depend on neighbouring bytes, at each of the 3 byte
 *   offsets, so the secret is also found inside longer base64 text (e.g. base64 of "user:secret"),
 * - its URL-encoded form (encodeURIComponent).
 *
 * Values shorter than 4 characters are not redacted: replacing "1" or "on" everywhere would garble
 * logs and hide nothing worth hiding. Overlapping and adjacent matches are replaced by one `***`.
 *
 * `StreamRedactor` does the same for text that arrives in chunks: it holds back the last
 * (longest form − 1) characters until the next chunk or `end()`, so a secret split across writes
 * is still found. Unless a secret contains a newline, complete lines are released at once and only
 * the unfinished last line can wait.
 */
export type Redactor = (text: string) => string;

/** Values shorter than this are not redacted. */
export const MIN_SECRET_LENGTH = 4;

const MASK = '***';

/** The compiled forms of a set of secrets. */
/** `singleLine`: no form contains a newline, so no match spans lines. */
export type SecretForms = { pattern: RegExp | null; maxLength: number; singleLine: boolean };

export function secretForms(secrets: readonly string[]): SecretForms {
  const forms = new Set<string>();
  for (const s of secrets) {
    if (s.length < MIN_SECRET_LENGTH) continue;
    forms.add(s);
    forms.add(encodeURIComponent(s));
    const bytes = Buffer.from(s, 'utf8');
    for (const b64 of [bytes.toString('base64'), bytes.toString('base64url')]) {
      forms.add(b64);
      forms.add(b64.replace(/=+$/, ''));
    }
    for (const core of base64Cores(bytes)) {
      forms.add(core);
      forms.add(core.replace(/\+/g, '-').replace(/\//g, '_'));
    }
  }
  // Longest first, so at any position the longest form wins.
  const list = [...forms].filter((f) => f.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
  if (list.length === 0) return { pattern: null, maxLength: 0, singleLine: true };
  const pattern = new RegExp(list.map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return { pattern, maxLength: list[0]!.length, singleLine: list.every((f) => !f.includes('\n')) };
}

/**
 * For the secret starting at byte offset 0, 1 and 2 of a 3-byte base64 group: the base64 characters
 * whose 6 bits all come from the secret, i.e. what any base64 text containing the secret contains.
 */
function base64Cores(bytes: Buffer): string[] {
  const cores: string[] = [];
  for (let k = 0; k < 3; k++) {
    const encoded = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64').replace(/=+$/, '');
    const first = Math.ceil((8 * k) / 6);
    const end = Math.floor((8 * (k + bytes.length)) / 6);
    cores.push(encoded.slice(first, end));
  }
  return cores;
}

/** Every match, overlapping ones included, merged into sorted disjoint [start, end) intervals. */
function findIntervals(text: string, pattern: RegExp): [number, number][] {
  const out: [number, number][] = [];
  pattern.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = pattern.exec(text)) !== null) {
    const start = m.index;
    const end = start + m[0].length;
    const last = out[out.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else out.push([start, end]);
    pattern.lastIndex = start + 1; // look for overlapping matches too
  }
  return out;
}

export function makeRedactor(secrets: readonly string[]): Redactor {
  const forms = secretForms(secrets);
  if (forms.pattern === null) return (t) => t;
  return (text) => {
    const r = new StreamRedactor(forms);
    return r.push(text) + r.end();
  };
}

export class StreamRedactor {
  readonly #pattern: RegExp | null;
  /** Characters held back: a form starting in them may continue in the next chunk. */
  readonly #keep: number;
  /** Raw text kept from earlier chunks (always the last #keep characters seen, or fewer). */
  #carry = '';
  /** How many characters at the start of #carry were already released. */
  #released = 0;
  /** True unless a secret contains a newline. */
  readonly #singleLine: boolean;
  /** Whether the released text ends with a mask, so a continuing match does not add another. */
  #endsMasked = false;

  constructor(secrets: readonly string[] | SecretForms) {
    const forms = Array.isArray(secrets) ? secretForms(secrets) : (secrets as SecretForms);
    this.#pattern = forms.pattern;
    this.#keep = Math.max(0, forms.maxLength - 1);
    this.#singleLine = forms.singleLine;
  }

  /** The redacted text that can be released now; the rest waits for the next chunk or end(). */
  push(chunk: string): string {
    if (this.#pattern === null) return chunk;
    return this.#scan(this.#carry + chunk, false);
  }

  /** Everything still held back, redacted. */
  end(): string {
    if (this.#pattern === null) return '';
    const out = this.#scan(this.#carry, true);
    this.#carry = '';
    this.#released = 0;
    this.#endsMasked = false;
    return out;
  }

  #scan(buf: string, final: boolean): string {
    const intervals = findIntervals(buf, this.#pattern!);
    // A match starting before `cut` is complete: at least #keep + 1 characters follow its start.
    let cut = final ? buf.length : Math.max(0, buf.length - this.#keep);
    // No form spans a newline, so everything up to the last newline is decided: whole lines go out at once.
    if (this.#singleLine) cut = Math.max(cut, buf.lastIndexOf('\n') + 1);
    let releaseTo = Math.max(cut, this.#released);
    for (const [s, e] of intervals) if (s < releaseTo && e > releaseTo) releaseTo = e;
    let out = '';
    let pos = this.#released;
    for (const [s, e] of intervals) {
      if (e <= pos) continue;
      if (s >= releaseTo) break;
      const from = Math.max(s, pos);
      out += buf.slice(pos, from);
      if (!(from === this.#released && from === pos && this.#endsMasked && s < from)) out += MASK;
      pos = Math.min(e, releaseTo);
    }
    if (pos < releaseTo) {
      out += buf.slice(pos, releaseTo);
      this.#endsMasked = false;
    } else if (out !== '') {
      this.#endsMasked = out.endsWith(MASK);
    }
    const carryStart = final ? buf.length : cut;
    this.#carry = buf.slice(carryStart);
    this.#released = releaseTo - carryStart;
    return out;
  }
}
