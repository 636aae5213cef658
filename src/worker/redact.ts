/**
 * Secrets never leave the worker: every value of an adapter's `sensitive_env` is replaced by `***`
 * in the run's log, job log, reason and the worker's own log lines, together with
 * - its base64 (standard and URL alphabet, with and without `=` padding),
 * - the part of its base64 that does not depend on neighbouring bytes, at each of the 3 byte
 *   offsets, so the secret is also found inside longer base64 text (e.g. base64 of "user:secret"),
 * - its URL-encoded forms: each character other than the unreserved `A-Z a-z 0-9 - . _ ~` may
 *   appear as itself or percent-encoded (UTF-8 bytes, `%2F` and `%2f` alike), a space also as `+`
 *   (form encoding); this covers encodeURIComponent, encodeURI, Python's quote/quote_plus, etc.
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
  /** Regex source of each form, with the longest text it can match. */
  const forms = new Map<string, number>();
  const literal = (f: string): void => {
    if (f.length >= MIN_SECRET_LENGTH) forms.set(escapeRegex(f), f.length);
  };
  let singleLine = true;
  for (const s of secrets) {
    if (s.length < MIN_SECRET_LENGTH) continue;
    if (s.includes('\n')) singleLine = false;
    literal(s);
    const url = urlEncodedForm(s);
    if (url !== null) forms.set(url.source, url.maxLength);
    const bytes = Buffer.from(s, 'utf8');
    for (const b64 of [bytes.toString('base64'), bytes.toString('base64url')]) {
      literal(b64);
      literal(b64.replace(/=+$/, ''));
    }
    for (const core of base64Cores(bytes)) {
      literal(core);
      literal(core.replace(/\+/g, '-').replace(/\//g, '_'));
    }
  }
  // Longest first, so at any position the longest form wins.
  const list = [...forms].sort((a, b) => b[1] - a[1]);
  if (list.length === 0) return { pattern: null, maxLength: 0, singleLine: true };
  const pattern = new RegExp(list.map(([source]) => source).join('|'), 'g');
  return { pattern, maxLength: list[0]![1], singleLine };
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Characters URL encoders leave alone (RFC 3986 unreserved). */
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/**
 * One pattern for every URL encoding of `s`: each reserved character as itself or as its
 * percent-encoded UTF-8 bytes in either case, a space also as `+`. Null if nothing in `s` would be encoded.
 */
function urlEncodedForm(s: string): { source: string; maxLength: number } | null {
  let source = '';
  let maxLength = 0;
  let encoded = false;
  for (const ch of s) {
    if (UNRESERVED.test(ch)) {
      source += ch;
      maxLength += 1;
      continue;
    }
    encoded = true;
    const bytes = [...Buffer.from(ch, 'utf8')];
    const pct = bytes.map((b) => `%${[...b.toString(16).toUpperCase().padStart(2, '0')].map(hexDigit).join('')}`).join('');
    source += `(?:${escapeRegex(ch)}|${pct}${ch === ' ' ? '|\\+' : ''})`;
    maxLength += Math.max(ch.length, 3 * bytes.length);
  }
  return encoded ? { source, maxLength } : null;
}

function hexDigit(d: string): string {
  return /[A-F]/.test(d) ? `[${d}${d.toLowerCase()}]` : d;
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
