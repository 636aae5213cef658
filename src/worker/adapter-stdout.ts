/**
 * Reading an adapter's stdout (reference cib.md §4.3): bytes in whatever pieces the pipe delivers,
 * decoded as UTF-8, split into lines, each checked in turn — a `triggered` line, then a `finished`
 * line, nothing more. The first problem (bad JSON, a wrong or unknown response, a third line, a
 * line longer than 1 MiB) ends reading with a reason that quotes the line. Kept apart from the
 * process handling so every framing and protocol case can be exercised without a process.
 */
import { StringDecoder } from 'node:string_decoder';
import { takeLines } from '../util/lines.ts';
import { parseResponseLine, quoteLine, type TriggeredResponse } from './adapter-response.ts';

/** A stdout line longer than this without a newline is a protocol error (responses are tiny). */
export const MAX_LINE_BYTES = 1024 * 1024;

export type StdoutEvents = {
  /** Masks secrets in each line before it is parsed or quoted. */
  redact: (s: string) => string;
  onTriggered: (t: TriggeredResponse) => void;
  onFinished: (result: 'success' | 'failure') => void;
  /** Called once, with the first problem; nothing is read after it. */
  onProtocolError: (reason: string) => void;
};

export class AdapterStdout {
  readonly #events: StdoutEvents;
  readonly #decoder = new StringDecoder('utf8');
  #pending = '';
  #lineNo = 0;
  triggered: TriggeredResponse | null = null;
  finished: 'success' | 'failure' | null = null;
  protocolError: string | null = null;

  constructor(events: StdoutEvents) {
    this.#events = events;
  }

  /** A piece of stdout, as the pipe delivered it. */
  write(chunk: Buffer): void {
    if (this.protocolError !== null) return;
    const split = takeLines(this.#pending, this.#decoder.write(chunk));
    this.#pending = split.rest;
    for (const line of split.lines) {
      if (this.protocolError !== null) break;
      this.#line(line);
    }
    if (this.protocolError !== null) this.#pending = '';
    else if (Buffer.byteLength(this.#pending) > MAX_LINE_BYTES) {
      this.#fail(`line ${this.#lineNo + 1} of adapter output is longer than ${MAX_LINE_BYTES} bytes: ${quoteLine(this.#events.redact(this.#pending))}`);
      this.#pending = '';
    }
  }

  /** Stdout closed: a last line without a newline still counts. */
  end(): void {
    if (this.protocolError !== null) return;
    this.#pending += this.#decoder.end();
    if (this.#pending !== '') this.#line(this.#pending);
    this.#pending = '';
  }

  #fail(reason: string): void {
    this.protocolError = reason;
    this.#events.onProtocolError(reason);
  }

  #line(raw: string): void {
    if (this.protocolError !== null) return;
    this.#lineNo += 1;
    const line = this.#events.redact(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
    if (this.finished !== null) {
      this.#fail(`adapter wrote more than two lines: line ${this.#lineNo} is ${quoteLine(line)}`);
      return;
    }
    const parsed = parseResponseLine(line, this.#lineNo, this.triggered === null ? 'triggered' : 'finished');
    if (!parsed.ok) {
      this.#fail(parsed.reason);
    } else if (parsed.response.response === 'triggered') {
      this.triggered = parsed.response;
      this.#events.onTriggered(parsed.response);
    } else {
      this.finished = parsed.response.result;
      this.#events.onFinished(parsed.response.result);
    }
  }
}
