/**
 * Run updates that carry a large log (the live "log so far" and the final update, up to
 * `log_limit` each) cost several copies of that log in memory while they are built and sent, and
 * as many again where the reporter reads them. When many chatty runs end at once, sending all of
 * them together multiplies that: LogGate lets one large update through at a time (small ones pass
 * at once), so a worker's memory does not grow with its concurrency times `log_limit`.
 */

/** Updates whose log is at most this many characters pass without waiting. */
export const LARGE_LOG_CHARS = 64 * 1024;

export class LogGate {
  #busy = false;
  readonly #waiting: (() => void)[] = [];

  /** Runs `send` (which builds and sends an update with a log of `logChars`), one large one at a time. */
  async pass<T>(logChars: number, send: () => Promise<T>): Promise<T> {
    if (logChars <= LARGE_LOG_CHARS) return send();
    if (this.#busy) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#busy = true;
    try {
      return await send();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#busy = false;
    }
  }
}
