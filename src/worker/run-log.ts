/**
 * A run's log while the run goes: adapter stderr chunks are redacted (secrets split across chunks
 * included), kept bounded (head + marker + tail, `log_limit`), and streamed
 * - line by line to the BullMQ job log (batched every `jobLogEveryMs`; bounded the same way: the
 *   first half of the limit as it comes, then a marker and the last lines at the end), and
 * - as the log so far to the reporter through `publish`, at most once per `publishEveryMs` (less
 *   often once the log is large: see LIVE_BYTES_PER_SECOND).
 * `finish()` releases what the redactor held back and returns the final log for the `finished` update.
 */
import type { Logger } from 'pino';
import { LogBuffer, omittedMarker } from './log-buffer.ts';
import type { LogGate } from './log-gate.ts';
import { makeRedactor, secretForms, StreamRedactor, type Redactor } from './redact.ts';
import { errorMessage } from '../util/coerce-error.ts';
import { takeLines } from '../util/lines.ts';

/**
 * Where job log lines go: a BullMQ job's `log(line)` (one round trip per line), or better
 * `append(lines)`, one call for a whole batch (queue/job-log.ts).
 */
export type JobLogSink = { log(line: string): Promise<unknown>; append?: (lines: readonly string[]) => Promise<unknown> };

export type RunLogOptions = {
  /** Values of the adapter's sensitive_env. */
  secrets: readonly string[];
  limitBytes: number;
  job: JobLogSink;
  /** Sends the log so far to the reporter (a running update). */
  publish: (log: string) => Promise<void>;
  log: Logger;
  publishEveryMs?: number;
  jobLogEveryMs?: number;
  /** Lets one large live update through at a time across the worker's runs. */
  gate?: LogGate;
};

/** A stderr "line" without a newline is cut into job log lines of at most this many characters. */
const MAX_LINE = 16 * 1024;

/**
 * Lines waiting for the next job log flush are sorted into head and tail as soon as they pass
 * this many bytes: a flood of stderr between two flushes costs at most this much memory.
 */
const QUEUED_BYTES = 64 * 1024;

/**
 * A live update carries the whole log so far: once it is large, updates come less often, so
 * live logs cost each run at most about this many bytes per second through Redis and SQLite.
 */
const LIVE_BYTES_PER_SECOND = 64 * 1024;

export class RunLog {
  /** Redacts any other text derived from adapter output (reasons, log fields). */
  readonly redact: Redactor;
  readonly #stream: StreamRedactor;
  readonly #buffer: LogBuffer;
  readonly #opts: RunLogOptions;
  readonly #publishEveryMs: number;
  readonly #jobLogEveryMs: number;
  // job log
  #partial = '';
  #queued: string[] = [];
  #queuedBytes = 0;
  #sentBytes = 0;
  readonly #headBudget: number;
  readonly #tailBudget: number;
  #tailLines: string[] = [];
  /** Lines before this index in #tailLines were dropped. */
  #tailStart = 0;
  #tailBytes = 0;
  #droppedBytes = 0;
  #jobChain: Promise<void> = Promise.resolve();
  #jobTimer: NodeJS.Timeout | null = null;
  // live updates
  #dirty = false;
  #lastPublish = 0;
  #publishTimer: NodeJS.Timeout | null = null;
  #inflight: Promise<void> | null = null;
  #finished = false;

  constructor(opts: RunLogOptions) {
    this.#opts = opts;
    const forms = secretForms(opts.secrets);
    this.#stream = new StreamRedactor(forms);
    this.redact = makeRedactor(opts.secrets);
    this.#buffer = new LogBuffer(opts.limitBytes);
    this.#publishEveryMs = opts.publishEveryMs ?? 1000;
    this.#jobLogEveryMs = opts.jobLogEveryMs ?? 250;
    this.#headBudget = Math.ceil(opts.limitBytes / 2);
    this.#tailBudget = opts.limitBytes - this.#headBudget;
  }

  /** The redacted, bounded log so far (without the few characters the redactor holds back). */
  get text(): string {
    return this.#buffer.toString();
  }

  /** A chunk of adapter stderr (use as runAdapter's onStderr). */
  write(chunk: string): void {
    if (this.#finished) return;
    this.#add(this.#stream.push(chunk));
  }

  /** Bytes of log kept so far (about the length of `text`). */
  get keptBytes(): number {
    return this.#buffer.keptBytes;
  }

  /** Stops streaming, writes what is left to the job log, and returns the final log. */
  async finish(): Promise<string> {
    await this.close();
    return this.#buffer.toString();
  }

  /** Stops streaming and writes what is left to the job log; `text` is then the final log. */
  async close(): Promise<void> {
    if (!this.#finished) {
      this.#add(this.#stream.end());
      this.#finished = true;
      if (this.#partial !== '') this.#queued.push(this.#partial);
      this.#partial = '';
      for (const t of [this.#jobTimer, this.#publishTimer]) if (t) clearTimeout(t);
      this.#flushJobLog();
      if (this.#droppedBytes > 0) {
        this.#send([omittedMarker(this.#droppedBytes).trim(), ...this.#takeTail()]);
      }
    }
    await this.#jobChain;
    await this.#inflight;
  }

  #add(text: string): void {
    if (text === '') return;
    this.#buffer.append(text);
    const { lines: parts, rest } = takeLines(this.#partial, text);
    this.#partial = rest;
    while (this.#partial.length > MAX_LINE) {
      parts.push(this.#partial.slice(0, MAX_LINE));
      this.#partial = this.#partial.slice(MAX_LINE);
    }
    for (const part of parts) {
      this.#queued.push(part);
      this.#queuedBytes += part.length + 1;
    }
    if (this.#queuedBytes > QUEUED_BYTES) this.#flushJobLog();
    if (this.#finished) return;
    this.#jobTimer ??= setTimeout(() => {
      this.#jobTimer = null;
      this.#flushJobLog();
    }, this.#jobLogEveryMs);
    this.#dirty = true;
    this.#schedulePublish();
  }

  /** Sends queued lines while within the head budget; later ones go to the tail kept for the end. */
  #flushJobLog(): void {
    const send: string[] = [];
    for (const line of this.#queued) {
      const bytes = Buffer.byteLength(line) + 1;
      if (this.#droppedBytes === 0 && this.#tailLines.length === 0 && this.#sentBytes + bytes <= this.#headBudget) {
        send.push(line);
        this.#sentBytes += bytes;
        continue;
      }
      this.#tailLines.push(line);
      this.#tailBytes += bytes;
      while (this.#tailBytes > this.#tailBudget && this.#tailStart < this.#tailLines.length) {
        const dropped = Buffer.byteLength(this.#tailLines[this.#tailStart]!) + 1;
        this.#tailLines[this.#tailStart++] = '';
        this.#tailBytes -= dropped;
        this.#droppedBytes += dropped;
      }
    }
    // Lines dropped from the front are cut off in bulk (Array#shift per line is O(lines kept)).
    if (this.#tailStart > 1024 && this.#tailStart * 2 > this.#tailLines.length) {
      this.#tailLines = this.#tailLines.slice(this.#tailStart);
      this.#tailStart = 0;
    }
    this.#queued = [];
    this.#queuedBytes = 0;
    if (this.#finished && this.#droppedBytes === 0) send.push(...this.#takeTail());
    this.#send(send);
  }

  #takeTail(): string[] {
    const lines = this.#tailLines.slice(this.#tailStart);
    this.#tailLines = [];
    this.#tailStart = 0;
    this.#tailBytes = 0;
    return lines;
  }

  #send(lines: string[]): void {
    if (lines.length === 0) return;
    const job = this.#opts.job;
    this.#jobChain = this.#jobChain.then(async () => {
      try {
        if (job.append) await job.append(lines);
        else for (const line of lines) await job.log(line);
      } catch (err) {
        this.#opts.log.warn({ err: { message: errorMessage(err) } }, 'could not append to the job log');
      }
    });
  }

  #schedulePublish(): void {
    if (this.#publishTimer !== null || this.#finished) return;
    const every = Math.max(this.#publishEveryMs, (this.#buffer.keptBytes / LIVE_BYTES_PER_SECOND) * 1000);
    const wait = Math.max(0, this.#lastPublish + every - Date.now());
    this.#publishTimer = setTimeout(() => {
      this.#publishTimer = null;
      void this.#publishNow();
    }, wait);
  }

  async #publishNow(): Promise<void> {
    if (this.#finished || !this.#dirty) return;
    if (this.#inflight) {
      await this.#inflight;
      this.#schedulePublish();
      return;
    }
    this.#dirty = false;
    this.#lastPublish = Date.now();
    const publish = (): Promise<void> => this.#opts.publish(this.#buffer.toString());
    this.#inflight = (this.#opts.gate ? this.#opts.gate.pass(this.#buffer.keptBytes, publish) : publish())
      .catch((err: unknown) => this.#opts.log.warn({ err: { message: errorMessage(err) } }, 'could not publish the log so far'))
      .finally(() => {
        this.#inflight = null;
      });
    await this.#inflight;
    if (this.#dirty) this.#schedulePublish();
  }
}
