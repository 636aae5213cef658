/**
 * A worker's side of run control: it announces itself in the worker registry (refreshed every
 * few seconds and whenever its runs change), and it hears cancel requests — at once over the
 * Redis cancel channel, and by polling the durable cancel requests of the runs it holds, so a
 * request sent while its connection was down is not lost.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { coerceError } from '../util/coerce-error.ts';
import type { Keys } from '../queue/redis.ts';
import { CancelRequest, controlKeys, pendingCancels } from '../queue/run-control.ts';
import { announceWorker, removeWorker, type WorkerInfo } from '../queue/worker-registry.ts';
import { parseJson } from '../util/parse-json.ts';

export type WorkerControlDeps = {
  redis: Redis;
  /** A connection of its own: it is put in subscriber mode. */
  subscriber: Redis;
  keys: Keys;
  log: Logger;
  name: string;
  info: () => WorkerInfo;
  /** Run ids this worker holds now. */
  runIds: () => string[];
  /** Cancel a run this worker holds; false if it holds no such run. */
  cancel: (runId: string, reason: string) => boolean;
  announceIntervalMs?: number;
  pollIntervalMs?: number;
};

export class WorkerControl {
  readonly #deps: WorkerControlDeps;
  readonly #timers: NodeJS.Timeout[] = [];
  #soon: NodeJS.Timeout | null = null;
  #announcing = false;
  #again = false;
  #polling = false;
  #closed = false;

  constructor(deps: WorkerControlDeps) {
    this.#deps = deps;
  }

  start(): void {
    const { subscriber, keys, log } = this.#deps;
    const channel = controlKeys(keys).cancelChannel;
    subscriber.on('message', (ch: string, message: string) => {
      if (ch !== channel) return;
      const r = parseJson(CancelRequest, message);
      if (!r.success) return void log.warn({ message }, 'ignoring a malformed cancel request');
      if (this.#deps.cancel(r.data.run_id, r.data.reason)) log.info({ runId: r.data.run_id, reason: r.data.reason }, 'cancel requested');
    });
    subscriber.subscribe(channel).catch((e: unknown) => log.warn({ err: coerceError(e) }, 'cannot subscribe to cancel requests'));
    this.#timers.push(setInterval(() => void this.#announce(), this.#deps.announceIntervalMs ?? 10_000));
    this.#timers.push(setInterval(() => void this.#poll(), this.#deps.pollIntervalMs ?? 2_000));
    for (const t of this.#timers) t.unref();
    void this.#announce();
  }

  /** The set of running runs or the worker's state changed: announce soon. */
  changed(): void {
    if (this.#closed || this.#soon) return;
    this.#soon = setTimeout(() => {
      this.#soon = null;
      void this.#announce();
    }, 250);
    this.#soon.unref();
  }

  async #announce(): Promise<void> {
    if (this.#closed) return;
    if (this.#announcing) {
      this.#again = true;
      return;
    }
    this.#announcing = true;
    try {
      await announceWorker(this.#deps.redis, this.#deps.keys, this.#deps.info());
    } catch (e) {
      this.#deps.log.debug({ err: coerceError(e) }, 'cannot announce the worker');
    } finally {
      this.#announcing = false;
    }
    if (this.#again) {
      this.#again = false;
      await this.#announce();
    }
  }

  async #poll(): Promise<void> {
    const ids = this.#deps.runIds();
    if (this.#closed || this.#polling || ids.length === 0) return;
    this.#polling = true;
    try {
      for (const [runId, reason] of await pendingCancels(this.#deps.redis, this.#deps.keys, ids)) {
        if (this.#deps.cancel(runId, reason)) this.#deps.log.info({ runId, reason }, 'cancel request found');
      }
    } catch (e) {
      this.#deps.log.debug({ err: coerceError(e) }, 'cannot read cancel requests');
    } finally {
      this.#polling = false;
    }
  }

  /** Stops the timers and takes the worker off the registry (without waiting long for Redis). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    if (this.#soon) clearTimeout(this.#soon);
    const removed = removeWorker(this.#deps.redis, this.#deps.keys, this.#deps.name).catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([removed, new Promise((r) => (timer = setTimeout(r, 2000)))]);
    clearTimeout(timer);
    this.#deps.subscriber.disconnect();
  }
}
