/**
 * A subscription to the node's control socket (reference radicle-node.md §1, §6): connect, send
 * `{"command":"subscribe"}\n`, read newline-delimited events. When the node goes away (EOF, ENOENT,
 * ECONNREFUSED) it says once, readably, what is missing and what to do, then retries quietly with
 * capped exponential backoff, and reports each (re)connect so the producer can catch up on what
 * happened while nobody listened.
 */
import net from 'node:net';
import type { Logger } from 'pino';
import { describeNodeAbsence } from './node-absence.ts';
import { parseNodeEventLine, type NodeEvent } from './node-event.ts';
import { backoffDelay } from '../util/backoff.ts';

/** A line longer than this is not an event we can use; it is skipped, not buffered forever. */
const MAX_LINE_BYTES = 64 * 1024 * 1024;
/** A connection must live this long (or deliver an event) before the reconnect backoff resets. */
const STABLE_AFTER_MS = 5000;

export type SubscriptionOptions = {
  socketPath: string;
  /** The node's home (RAD_HOME), for saying what is missing when the socket is not there. */
  radHome?: string;
  log: Logger;
  onEvent: (e: NodeEvent) => void;
  /**
   * Called after every subscribe, once the subscribe line has been written to the socket, and
   * before any event of that connection is delivered.
   */
  onConnected: () => void;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Default 5 s: a node that accepts and drops us at once does not reset the backoff. */
  stableAfterMs?: number;
  /** Default 64 MiB. */
  maxLineBytes?: number;
};

export class NodeSubscription {
  readonly #opts: SubscriptionOptions;
  readonly #log: Logger;
  #socket: net.Socket | null = null;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  /** Disconnected on purpose until resume(): no reconnect meanwhile. */
  #paused = false;
  #failures = 0;
  #connectedOnce = false;
  #stableTimer: NodeJS.Timeout | null = null;
  /** What was last said about the node being unreachable (said again only when it changes), and since when. */
  #absence: { said: string; since: number } | null = null;

  constructor(opts: SubscriptionOptions) {
    this.#opts = opts;
    this.#log = opts.log;
  }

  start(): void {
    this.#connect();
  }

  get connected(): boolean {
    return this.#socket !== null && this.#socket.readyState === 'open';
  }

  #connect(): void {
    if (this.#closed) return;
    const sock = net.createConnection(this.#opts.socketPath);
    this.#socket = sock;
    let buffered: Buffer[] = [];
    let bufferedLen = 0;
    let skipping = false;
    let subscribed = false;
    /** Lines that arrive before onConnected ran wait here, so the catch-up is queued first. */
    let early: string[] | null = [];
    const maxLine = this.#opts.maxLineBytes ?? MAX_LINE_BYTES;
    const deliver = (line: string): void => {
      if (this.#socket !== sock) return; // dropped on purpose: nothing more from it
      if (early !== null) early.push(line);
      else if (this.#line(line)) this.#stable();
    };

    sock.on('connect', () => {
      sock.write('{"command":"subscribe"}\n', (err) => {
        if (err || this.#socket !== sock || this.#closed) return; // 'error'/'close' follow and reconnect
        subscribed = true;
        const waitedMs = this.#absence === null ? undefined : Date.now() - this.#absence.since;
        this.#absence = null;
        this.#log.info({ socket: this.#opts.socketPath, reconnect: this.#connectedOnce, waitedMs }, 'subscribed to node events');
        this.#connectedOnce = true;
        this.#opts.onConnected();
        const waiting = early ?? [];
        early = null;
        for (const line of waiting) deliver(line);
        // Only a connection that lives a while resets the backoff: a node that accepts and drops
        // us at once must not cause a reconnect (and a full catch-up scan) every 250 ms.
        this.#stableTimer = setTimeout(() => this.#stable(), this.#opts.stableAfterMs ?? STABLE_AFTER_MS);
        this.#stableTimer.unref();
      });
    });
    sock.on('data', (chunk: Buffer) => {
      let start = 0;
      for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
        const piece = chunk.subarray(start, nl);
        start = nl + 1;
        if (skipping) {
          skipping = false;
          continue;
        }
        const line = (bufferedLen > 0 ? Buffer.concat([...buffered, piece]) : piece).toString('utf8');
        buffered = [];
        bufferedLen = 0;
        deliver(line);
      }
      const rest = chunk.subarray(start);
      if (rest.length === 0 || skipping) return;
      bufferedLen += rest.length;
      if (bufferedLen > maxLine) {
        this.#log.error({ bytes: bufferedLen }, 'node sent an over-long line; skipping it');
        buffered = [];
        bufferedLen = 0;
        skipping = true;
        return;
      }
      buffered.push(Buffer.from(rest));
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      const data = { socket: this.#opts.socketPath, code: err.code, attempt: this.#failures + 1 };
      if (!subscribed && ['ENOENT', 'ECONNREFUSED', 'EACCES', 'EPERM'].includes(err.code ?? '')) {
        // Once per cause, readably; every further attempt only at debug level.
        const said = describeNodeAbsence(this.#opts.socketPath, this.#opts.radHome ?? null, err.code);
        if (this.#absence?.said !== said) {
          this.#log.warn({ socket: this.#opts.socketPath, code: err.code }, said);
          this.#absence = { said, since: this.#absence?.since ?? Date.now() };
        }
        this.#log.debug(data, 'node is not running');
      } else {
        this.#log.error({ ...data, err: { message: err.message } }, 'node control socket error');
      }
    });
    sock.on('close', () => {
      // A socket dropped on purpose (pause, close) is no longer the current one: nothing to do.
      if (this.#socket !== sock) return;
      if (this.#stableTimer) clearTimeout(this.#stableTimer);
      this.#stableTimer = null;
      this.#socket = null;
      if (subscribed && !this.#closed) this.#log.warn({ socket: this.#opts.socketPath }, 'node closed the event stream');
      this.#scheduleReconnect();
    });
  }

  /** The connection proved itself: the next failure starts the backoff from the minimum again. */
  #stable(): void {
    this.#failures = 0;
    if (this.#stableTimer) clearTimeout(this.#stableTimer);
    this.#stableTimer = null;
  }

  /** Handles one line; true when it was an event (a working stream). */
  #line(line: string): boolean {
    if (line.trim() === '') return false;
    const parsed = parseNodeEventLine(line);
    if (!parsed.ok) {
      this.#log.warn({ reason: parsed.reason, line: line.slice(0, 200) }, 'skipping unusable line from node');
      return false;
    }
    if (parsed.event.type === 'other') {
      this.#log.debug({ type: parsed.event.originalType }, 'ignoring node event');
      return true;
    }
    this.#opts.onEvent(parsed.event);
    return true;
  }

  /**
   * Drops the connection and stays away until resume(): no event is delivered meanwhile (the
   * producer records a baseline while not subscribed). Idempotent.
   */
  pause(): void {
    if (this.#closed || this.#paused) return;
    this.#paused = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#stableTimer) clearTimeout(this.#stableTimer);
    this.#stableTimer = null;
    const s = this.#socket;
    this.#socket = null;
    s?.destroy();
  }

  /** Connects again at once after pause(); its onConnected comes as after any reconnect. */
  resume(): void {
    if (this.#closed || !this.#paused) return;
    this.#paused = false;
    if (this.#socket === null && this.#timer === null) this.#connect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#paused || this.#timer) return;
    const min = this.#opts.minBackoffMs ?? 250;
    const max = this.#opts.maxBackoffMs ?? 30_000;
    const delay = backoffDelay(this.#failures, { minMs: min, maxMs: max });
    this.#failures += 1;
    this.#log.debug({ delayMs: delay }, 'reconnecting to node');
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#connect();
    }, delay);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#stableTimer) clearTimeout(this.#stableTimer);
    this.#stableTimer = null;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const s = this.#socket;
    this.#socket = null;
    if (s && !s.destroyed) {
      await new Promise<void>((resolve) => {
        s.once('close', () => resolve());
        s.destroy();
      });
    }
  }
}
