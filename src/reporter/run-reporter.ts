/**
 * The reporter: reads run updates from Redis, writes them to SQLite idempotently, acknowledges them
 * only once written, and shortly after a change (coalesced over `debounceMs`) applies retention to
 * the repositories touched and rewrites only the pages the changed runs touch. The index page
 * (queues, workers) is also refreshed every `indexIntervalMs`.
 */
import type { DatabaseSync } from 'node:sqlite';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { coerceError } from '../util/coerce-error.ts';
import type { Keys } from '../queue/redis.ts';
import { RunUpdateReader } from '../queue/run-updates.ts';
import { applyUpdate } from '../db/apply-update.ts';
import type { LiveStatus } from './live-status.ts';
import type { CommitAgreement, ReportInfo } from './pages/report-info.ts';
import { writeReportChanges, writeReports, type ReportChanges } from './pages/report-writer.ts';
import { optimizeDb } from '../db/open-db.ts';
import { pruneRuns, type PrunedRun } from '../db/retention.ts';
import { backoffDelay } from '../util/backoff.ts';

/** How long to wait before writing pages again after writing them failed. */
const RETRY_MS = 5000;

export type ReporterDeps = {
  db: DatabaseSync;
  redis: Redis;
  keys: Keys;
  log: Logger;
  reportDir: string | null;
  reportPrivate?: boolean;
  /** Whether runs of an adapter are published as job COBs (their pages say so). */
  jobCobs?: (adapter: string) => boolean;
  version: string;
  /** Every node's runs of a commit, read from storage (commit-agreement.ts): run pages show them. */
  agreementFor?: (repo: string, commit: string) => Promise<CommitAgreement | null>;
  /** Queue counts and live workers, for index.html and status.json. */
  liveStatus: () => Promise<LiveStatus>;
  /** Runs kept per repository (`keep_runs`), or null to keep all. */
  keepRuns?: number | null;
  consumer?: string;
  debounceMs?: number;
  /** How often index.html and status.json are rewritten without run changes (0: never). */
  indexIntervalMs?: number;
  /** How long to wait before writing pages again after writing them failed. */
  retryMs?: number;
  /**
   * How long after writing a finished run's page without its attestation (the publisher had not
   * written the job COB yet) to write it again; doubled for each of ATTESTATION_TRIES tries.
   */
  attestationRetryMs?: number;
};

/** How often a run page still missing this node's attestation is written again. */
const ATTESTATION_TRIES = 4;

export class Reporter {
  readonly #deps: ReporterDeps;
  readonly #log: Logger;
  readonly #reader: RunUpdateReader;
  #stopping = false;
  #loop: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #indexTimer: NodeJS.Timeout | null = null;
  /** Changed runs not yet written to pages: run id → repository. */
  #pending = new Map<string, string>();
  /** Runs deleted by retention whose pages are not yet removed and rewritten. */
  #pendingRemoved: PrunedRun[] = [];
  #writing: Promise<void> = Promise.resolve();
  /** Runs whose page waits for this node's attestation: run id → tries so far. */
  #attestationTries = new Map<string, number>();
  #attestationTimers = new Set<NodeJS.Timeout>();
  #applied = 0;
  #waiters: { n: number; resolve: () => void }[] = [];

  constructor(deps: ReporterDeps) {
    this.#deps = deps;
    this.#log = deps.log.child({ component: 'reporter' });
    // A blocking read needs a connection of its own.
    this.#reader = new RunUpdateReader(deps.redis, deps.keys.runUpdates, deps.consumer ?? 'reporter', this.#log);
    // A read in flight when the connection dropped may have been delivered (and so be pending for
    // this consumer) without its reply arriving; the read ioredis resends then asks only for new
    // entries. After every (re)connect, read this consumer's pending entries first.
    deps.redis.on('ready', this.#onReady);
  }

  readonly #onReady = (): void => this.#reader.rereadPending();

  /** Updates written to SQLite so far (including ones that changed nothing). */
  get applied(): number {
    return this.#applied;
  }

  start(): void {
    this.#loop ??= this.#run();
    const every = this.#deps.indexIntervalMs ?? 30_000;
    if (this.#deps.reportDir !== null && every > 0 && this.#indexTimer === null) {
      this.#indexTimer = setInterval(() => {
        this.#writing = this.#writing.then(async () => {
          await this.#writeChanges({});
        });
      }, every);
      this.#indexTimer.unref();
    }
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
        for (const u of batch.updates) {
          if (applyUpdate(this.#deps.db, u)) {
            changed = true;
            this.#pending.set(u.subject.id, u.subject.repo);
          }
        }
        await this.#reader.ack(batch.ids);
        this.#applied += batch.updates.length;
        if (batch.ids.length > 0) this.#notify();
        if (changed) this.#schedulePages();
        failures = 0;
      } catch (e) {
        if (this.#stopping) break;
        failures++;
        // The batch (if any) was not acknowledged: read it again first. And Redis may have lost the
        // stream and its group (a restart without persistence: NOGROUP): create them again.
        this.#reader.rereadPending();
        groupReady = false;
        const delay = backoffDelay(failures, { minMs: 200, maxMs: 10_000 });
        this.#log.warn({ err: coerceError(e), retryInMs: delay }, 'cannot read or apply run updates');
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

  #schedulePages(delayMs = this.#deps.debounceMs ?? 300): void {
    if (this.#deps.reportDir === null || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#writing = this.#writing.then(() => this.#flush());
    }, delayMs);
  }

  async #info(): Promise<ReportInfo> {
    const live = await this.#deps.liveStatus().catch((e: unknown) => {
      this.#log.warn({ err: coerceError(e) }, 'cannot read queue counts and workers');
      return { queueLength: 0, queues: [], workers: [] };
    });
    return {
      version: this.#deps.version,
      queueLength: live.queueLength,
      queues: live.queues,
      workers: live.workers,
      now: new Date(),
      ...(this.#deps.reportPrivate !== undefined ? { reportPrivate: this.#deps.reportPrivate } : {}),
      ...(this.#deps.jobCobs !== undefined ? { jobCobs: this.#deps.jobCobs } : {}),
      ...(this.#deps.agreementFor !== undefined ? { agreementFor: this.#deps.agreementFor } : {}),
    };
  }

  #prune(repos?: Iterable<string>): PrunedRun[] {
    const keep = this.#deps.keepRuns;
    if (keep === undefined || keep === null) return [];
    const pruned = pruneRuns(this.#deps.db, keep, repos);
    if (pruned.length > 0) this.#log.info({ deleted: pruned.length, keepRuns: keep }, 'deleted old runs');
    return pruned;
  }

  /**
   * Applies retention to the repositories of the pending runs and rewrites the pages they touch.
   * The pages are written even when retention fails; when writing fails, the runs stay pending and
   * are tried again after RETRY_MS.
   */
  async #flush(): Promise<void> {
    const pending = this.#pending;
    const removed = this.#pendingRemoved;
    this.#pending = new Map();
    this.#pendingRemoved = [];
    try {
      removed.push(...this.#prune(new Set(pending.values())));
    } catch (e) {
      this.#log.error({ err: coerceError(e) }, 'retention failed');
    }
    if (await this.#writeChanges({ runIds: pending.keys(), removed }, pending)) return;
    for (const [id, repo] of pending) if (!this.#pending.has(id)) this.#pending.set(id, repo);
    this.#pendingRemoved.unshift(...removed);
    if (!this.#stopping) this.#schedulePages(this.#deps.retryMs ?? RETRY_MS);
  }

  /** Writes the pages `changes` touch; false when that failed. */
  async #writeChanges(changes: ReportChanges, repos: ReadonlyMap<string, string> = new Map()): Promise<boolean> {
    if (this.#deps.reportDir === null) return true;
    try {
      const stats = await writeReportChanges(this.#deps.db, this.#deps.reportDir, await this.#info(), changes);
      this.#log.debug({ written: stats.written.length, removed: stats.removed.length }, 'report pages written');
      for (const id of repos.keys()) if (!stats.awaitingAttestation.includes(id)) this.#attestationTries.delete(id);
      for (const id of stats.awaitingAttestation) {
        const repo = repos.get(id);
        if (repo !== undefined) this.#awaitAttestation(id, repo);
      }
      return true;
    } catch (e) {
      this.#log.error({ err: coerceError(e) }, 'writing report pages failed');
      return false;
    }
  }

  /**
   * Writes the run's page again a little later: the publisher writes the job COB with this node's
   * attestation while the reporter writes the page, so the first write may not find it.
   */
  #awaitAttestation(id: string, repo: string): void {
    const tries = this.#attestationTries.get(id) ?? 0;
    if (tries >= ATTESTATION_TRIES || this.#stopping) {
      this.#attestationTries.delete(id);
      return;
    }
    this.#attestationTries.set(id, tries + 1);
    const timer = setTimeout(() => {
      this.#attestationTimers.delete(timer);
      if (this.#stopping) return;
      this.#pending.set(id, repo);
      this.#schedulePages();
    }, (this.#deps.attestationRetryMs ?? 15_000) * 2 ** tries);
    timer.unref();
    this.#attestationTimers.add(timer);
  }

  /** Applies retention to every repository and regenerates every report page (after pending writes). */
  writePages(): Promise<void> {
    this.#writing = this.#writing.then(() => this.#writeAll());
    return this.#writing;
  }

  async #writeAll(): Promise<void> {
    try {
      this.#prune();
      optimizeDb(this.#deps.db);
    } catch (e) {
      this.#log.error({ err: coerceError(e) }, 'retention failed');
    }
    if (this.#deps.reportDir === null) return;
    try {
      const stats = await writeReports(this.#deps.db, this.#deps.reportDir, await this.#info());
      this.#log.info({ written: stats.written.length, removed: stats.removed.length }, 'report regenerated');
    } catch (e) {
      this.#log.error({ err: coerceError(e) }, 'writing report pages failed');
    }
  }

  /** Idempotent: stops reading, writes pending pages once more. */
  async close(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#deps.redis.off('ready', this.#onReady);
    await this.#loop;
    if (this.#indexTimer) clearInterval(this.#indexTimer);
    this.#indexTimer = null;
    for (const t of this.#attestationTimers) clearTimeout(t);
    this.#attestationTimers.clear();
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
      this.#writing = this.#writing.then(() => this.#flush());
    }
    await this.#writing;
  }
}
