/**
 * A run's log kept in bounded memory: the first and the last bytes of what the adapter wrote to
 * stderr, with a marker line saying how much was left out in between. An adapter that writes
 * gigabytes costs at most `limitBytes` (plus the marker) of memory and storage.
 */

/** Room kept for the marker line, so head + marker + tail never exceeds the limit. */
const MARKER_RESERVE = 64;

export function omittedMarker(bytes: number): string {
  return `\n… ${bytes} bytes omitted …\n`;
}

export class LogBuffer {
  readonly #limit: number;
  readonly #headLimit: number;
  readonly #tailLimit: number;
  /** Bytes kept after the head: enough to return a log of up to #limit bytes unchanged. */
  readonly #tailKeep: number;
  readonly #head: Buffer[] = [];
  #headBytes = 0;
  /**
   * Chunks after the head, as they came (text is encoded only when the log is read: a flood of
   * stderr then churns through the JS heap, which the GC keeps bounded, rather than through
   * off-heap buffers); their total may exceed #tailKeep by less than one chunk.
   */
  #tail: { chunk: string | Buffer; bytes: number }[] = [];
  #tailBytes = 0;
  #totalBytes = 0;

  /** Below about 64 bytes only the marker is kept once the log overflows. */
  constructor(limitBytes: number) {
    if (!Number.isInteger(limitBytes) || limitBytes < 0) throw new RangeError(`log limit must be a non-negative integer, got ${limitBytes}`);
    const budget = Math.max(0, limitBytes - MARKER_RESERVE);
    this.#headLimit = Math.ceil(budget / 2);
    this.#tailLimit = budget - this.#headLimit;
    this.#tailKeep = limitBytes - this.#headLimit;
    this.#limit = limitBytes;
  }

  /** Bytes appended so far, kept or not. */
  get totalBytes(): number {
    return this.#totalBytes;
  }

  /** Bytes kept (about the size of toString()). */
  get keptBytes(): number {
    return this.#headBytes + this.#tailBytes;
  }

  append(chunk: string | Buffer): void {
    let bytes = typeof chunk === 'string' ? Buffer.byteLength(chunk, 'utf8') : chunk.length;
    if (bytes === 0) return;
    this.#totalBytes += bytes;
    let rest: string | Buffer = chunk;
    if (this.#headBytes < this.#headLimit) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      const take = Math.min(buf.length, this.#headLimit - this.#headBytes);
      this.#head.push(Buffer.from(buf.subarray(0, take))); // a copy: do not pin the whole chunk
      this.#headBytes += take;
      rest = buf.subarray(take);
      bytes = rest.length;
      if (bytes === 0) return;
    }
    if (bytes > this.#tailKeep) {
      const buf = typeof rest === 'string' ? Buffer.from(rest, 'utf8') : rest;
      rest = Buffer.from(buf.subarray(buf.length - this.#tailKeep));
      bytes = rest.length;
    }
    this.#tail.push({ chunk: rest, bytes });
    this.#tailBytes += bytes;
    // Drop whole chunks that lie entirely before the kept window.
    while (this.#tail.length > 1 && this.#tailBytes - this.#tail[0]!.bytes >= this.#tailKeep) {
      this.#tailBytes -= this.#tail.shift()!.bytes;
    }
  }

  /** The log as text: everything if it fits the limit, else head + marker + tail. */
  toString(): string {
    const head = Buffer.concat(this.#head);
    const tail = Buffer.concat(this.#tail.map((t) => (typeof t.chunk === 'string' ? Buffer.from(t.chunk, 'utf8') : t.chunk)));
    if (this.#totalBytes <= this.#limit) return Buffer.concat([head, tail]).toString('utf8');
    const tailKept = trimLeadingContinuation(tail.subarray(Math.max(0, tail.length - this.#tailLimit)));
    const headKept = trimTrailingPartial(head);
    const omitted = this.#totalBytes - headKept.length - tailKept.length;
    return headKept.toString('utf8') + omittedMarker(omitted) + tailKept.toString('utf8');
  }
}

/** Skip UTF-8 continuation bytes at the start, so a character cut in half does not show as garbage. */
function trimLeadingContinuation(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length && i < 4 && (b[i]! & 0xc0) === 0x80) i++;
  return b.subarray(i);
}

/** Drop an incomplete UTF-8 sequence at the end. */
function trimTrailingPartial(b: Buffer): Buffer {
  for (let back = 1; back <= Math.min(4, b.length); back++) {
    const byte = b[b.length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // continuation: keep looking for the lead byte
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return need > back ? b.subarray(0, b.length - back) : b;
  }
  return b;
}
