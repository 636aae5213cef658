/**
 * The reporter: reads run updates from Redis, writes them to SQLite idempotently, acknowledges them
 * only once written, and regenerates the report pages shortly after a change (coalesced).
 */
import type { DatabaseSync } from 'node:sqlite';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { coerceError } from '../shared/coerce-error.ts';
import type { Keys } from '../shared/redis.ts';
import { RunUpdateReader } from '../shared/run-updates.ts';
import { applyUpdate } from './apply-update.ts';
import { writeReports } from './pages.ts';

export type ReporterDeps = {
  db: DatabaseSync;
  redis: Redis;
  keys: Keys;
  log: Logger;
  reportDir: string | null;
  reportPrivate?: boolean;
  version: string;
  /** Runs waiting in the queues, for index.html and status.json. */
  queueLength: () => Promise<number>;
  consumer?: string;
  debounceMs?: number;
};

export class Reporter {
  readonly #deps: ReporterDeps;
  readonly #log: Logger;
  readonly #reader: RunUpdateReader;
  #stopping = false;
  #loop: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #writing: Promise<void> = Promise.resolve();
  #applied = 0;
  #waiters: { n: number; resolve: () => void }[] = [];

  constructor(deps: ReporterDeps) {
    this.#deps = deps;
    this.#log = deps.log.child({ component: 'reporter' });
    // A blocking read needs a connection of its own.
    this.#reader = new RunUpdateReader(deps.redis, deps.keys.runUpdates, deps.consumer ?? 'reporter', this.#log);
  }

  /** Updates written to SQLite so far (including ones that changed nothing). */
  get applied(): number {
    return this.#applied;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async #run(): Promise<void> {
    let failures = 0;
    let groupReady = false;
    while (!this.#stopping) {
      try {
        if (!groupReady) {
          await this.#reader.ensureGroup();
          groupReady = true;
        }
        const batch = await this.#reader.read(500);
        let changed = false;
        for (const u of batch.updates) if (applyUpdate(this.#deps.db, u)) changed = true;
        await this.#reader.ack(batch.ids);
        this.#applied += batch.updates.length;
        if (batch.ids.length > 0) this.#notify();
        if (changed) this.#schedulePages();
        failures = 0;
      } catch (e) {
        if (this.#stopping) break;
        failures++;
        const delay = Math.min(10_000, 200 * 2 ** Math.min(failures, 6));
        this.#log.warn({ err: coerceError(e), retryInMs: delay }, 'cannot read run updates from redis');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  #notify(): void {
    this.#waiters = this.#waiters.filter((w) => {
      if (this.#applied >= w.n) w.resolve();
      return this.#applied < w.n;
    });
  }

  /** Resolves when at least n updates have been applied (tests). */
  async waitForApplied(n: number): Promise<void> {
    if (this.#applied >= n) return;
    await new Promise<void>((resolve) => this.#waiters.push({ n, resolve }));
  }

  #schedulePages(): void {
    if (this.#deps.reportDir === null || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#writing = this.#writing.then(() => this.writePages());
    }, this.#deps.debounceMs ?? 300);
  }

  /** Regenerates the report pages now. */
  async writePages(): Promise<void> {
    if (this.#deps.reportDir === null) return;
    try {
      const queueLength = await this.#deps.queueLength().catch(() => 0);
      await writeReports(this.#deps.db, this.#deps.reportDir, {
        version: this.#deps.version,
        queueLength,
        now: new Date(),
        ...(this.#deps.reportPrivate !== undefined ? { reportPrivate: this.#deps.reportPrivate } : {}),
      });
    } catch (e) {
      this.#log.error({ err: coerceError(e) }, 'writing report pages failed');
    }
  }

  /** Idempotent: stops reading, writes pending pages once more. */
  async close(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    await this.#loop;
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
      await this.writePages();
    }
    await this.#writing;
  }
}
