/**
 * Asks the node to announce this node's refs of a repository after a write, so peers fetch the
 * job without waiting for their next sync: `announceRefsFor {rid, namespaces: [nid]}`, falling back
 * to `announceRefs {rid}` on nodes that do not know the newer command (reference radicle-node.md
 * §1, §9). A failed announce (node down, "no refs were announced", …) is logged and retried with
 * capped exponential backoff until it succeeds; several requests for one repository coalesce. The
 * number of repositories still waiting is `pending`, reported through `onPending` for /metrics.
 */
import type { Logger } from 'pino';
import { coerceError } from '../util/coerce-error.ts';
import { nodeCommand } from './node-command.ts';

export type AnnouncerOptions = {
  socketPath: string;
  nid: string;
  log: Logger;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  onPending?: (n: number) => void;
  onAnnounced?: (rid: string) => void;
};

type Entry = { failures: number; timer: NodeJS.Timeout | null; running: boolean; again: boolean };

export class Announcer {
  readonly #opts: AnnouncerOptions;
  readonly #entries = new Map<string, Entry>();
  /** Null until the node answered once; false when it does not know announceRefsFor. */
  #hasRefsFor: boolean | null = null;
  #closed = false;

  constructor(opts: AnnouncerOptions) {
    this.#opts = opts;
  }

  get pending(): number {
    return this.#entries.size;
  }

  /** Announces `rid` now (or right after the announce in flight), retrying until it succeeds. */
  announce(rid: string): void {
    if (this.#closed) return;
    let e = this.#entries.get(rid);
    if (e === undefined) {
      e = { failures: 0, timer: null, running: false, again: false };
      this.#entries.set(rid, e);
      this.#opts.onPending?.(this.pending);
    }
    if (e.running) {
      e.again = true;
      return;
    }
    if (e.timer !== null) {
      clearTimeout(e.timer);
      e.timer = null;
    }
    void this.#run(rid, e);
  }

  async #send(rid: string): Promise<void> {
    const socket = this.#opts.socketPath;
    if (this.#hasRefsFor !== false) {
      const a = await nodeCommand(socket, { command: 'announceRefsFor', rid, namespaces: [this.#opts.nid] });
      if (a.ok) {
        this.#hasRefsFor = true;
        return;
      }
      if (!/unknown variant|deserializ/i.test(a.error)) throw new Error(a.error);
      this.#hasRefsFor = false;
      this.#opts.log.info('the node does not know announceRefsFor; using announceRefs');
    }
    const b = await nodeCommand(socket, { command: 'announceRefs', rid });
    if (!b.ok) throw new Error(b.error);
  }

  async #run(rid: string, e: Entry): Promise<void> {
    e.running = true;
    e.again = false;
    try {
      await this.#send(rid);
      e.running = false;
      if (e.again && !this.#closed) return void this.#run(rid, e);
      this.#entries.delete(rid);
      this.#opts.onPending?.(this.pending);
      if (e.failures > 0) this.#opts.log.info({ rid, attempts: e.failures + 1 }, 'announce succeeded after retrying');
      this.#opts.onAnnounced?.(rid);
    } catch (err) {
      e.running = false;
      if (this.#closed) return;
      e.failures++;
      const min = this.#opts.minBackoffMs ?? 1000;
      const delay = Math.min(this.#opts.maxBackoffMs ?? 300_000, min * 2 ** Math.min(e.failures - 1, 20));
      this.#opts.log.warn({ rid, err: coerceError(err), retryInMs: delay, attempts: e.failures }, 'announce failed; will retry');
      e.timer = setTimeout(() => {
        e.timer = null;
        void this.#run(rid, e);
      }, delay);
      e.timer.unref();
    }
  }

  close(): void {
    this.#closed = true;
    for (const e of this.#entries.values()) if (e.timer !== null) clearTimeout(e.timer);
  }
}
