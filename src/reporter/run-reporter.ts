/**
 * The reporter: reads run updates from Redis, writes them to SQLite idempotently, acknowledges them
 * only once written, and shortly after a change (coalesced over `debounceMs`) applies retention to
 * the repositories touched and rewrites only the pages the changed runs touch. Which runs wait for
 * their pages is kept in SQLite (`report_dirty`, written with the change itself), so pages lost to a
 * crash are written at the next start. At start, every page is regenerated only when the templates,
 * schema, version or page settings changed or the report dir lost its pages (report-fingerprint.ts).
 * The index page (queues, workers) is also refreshed every `indexIntervalMs`.
 */
import type { DatabaseSync } from 'node:sqlite';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { coerceError } from '../util/coerce-error.ts';
import type { Keys } from '../queue/redis.ts';
import { RunUpdateReader } from '../queue/run-updates.ts';
import { applyUpdates } from '../db/apply-update.ts';
import type { LiveStatus } from './live-status.ts';
import type { CommitAgreement, ReportInfo } from './pages/report-info.ts';
import { writeReportChanges, writeReports, type ReportChanges } from './pages/report-writer.ts';
import { optimizeDb } from '../db/open-db.ts';
import { pruneRuns } from '../db/retention.ts';
import { clearDirty, clearDirtyThrough, databaseId, dirtyRepos, dirtyRuns, lastDirtyGen, type DirtyRun } from '../db/report-dirty.ts';
import { repoSummaries } from '../db/report-queries.ts';
import { recordFingerprint, recordedFingerprint, reportFingerprint, reportLooksComplete } from './pages/report-fingerprint.ts';
import { backoffDelay } from '../util/backoff.ts';

/** At most this many updates per read; fewer while they carry large logs (READ_BYTES a batch). */
const READ_COUNT_MAX = 200;
const READ_BYTES = 4 * 1024 * 1024;

/** The next read's count: halved after a batch over READ_BYTES, doubled back after a small one. */
export function nextReadCount(count: number, bytes: number): number {
  if (bytes > READ_BYTES) return Math.max(1, Math.floor(count / 2));
  if (bytes < READ_BYTES / 4) return Math.min(READ_COUNT_MAX, count * 2);
  return count;
}

/** How long to wait before writing pages again after writing them failed. */
const RETRY_MS = 5000;
/** Runs whose pages one pass writes at most (a backlog is written over several passes). */
const FLUSH_LIMIT = 2000;

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
  /**
   * The settings pages depend on besides the database (job COBs per adapter, trust, …), as any JSON
   * value: when they change, the next start regenerates every page.
   */
  pageSettings?: unknown;
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
  /** Runs whose pages are written again for their attestation: run id → repository. */
  #pending = new Map<string, string>();
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
    let count = READ_COUNT_MAX;
    while (!this.#stopping) {
      try {
        if (!groupReady) {
          await this.#reader.ensureGroup();
          groupReady = true;
        }
        const batch = await this.#reader.read(500, count);
        count = nextReadCount(count, batch.bytes);
        // One transaction per batch. Each change also marks its run in report_dirty (a trigger): the pages to write.
        const changed = applyUpdates(this.#deps.db, batch.updates);
        await this.#reader.ack(batch.ids);
        this.#applied += batch.updates.length;
        if (batch.ids.length > 0) this.#notify();
        if (changed) this.#schedulePages();
        if (changed && this.#deps.reportDir === null) this.#forgetDirty();
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

  /** Without a report dir no page is ever written: runs need not wait for one. */
  #forgetDirty(): void {
    try {
      clearDirtyThrough(this.#deps.db, Number.MAX_SAFE_INTEGER);
    } catch (e) {
      this.#log.debug({ err: coerceError(e) }, 'cannot clear the runs waiting for pages');
    }
  }

  #schedulePages(delayMs = this.#deps.debounceMs ?? 300): void {
    if (this.#deps.reportDir === null || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#writing = this.#writing.then(async () => void (await this.#flush()));
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

  /** Deletes runs beyond keep_runs (their pages then wait in report_dirty, like changed runs). */
  #prune(repos?: Iterable<string>): void {
    const keep = this.#deps.keepRuns;
    if (keep === undefined || keep === null) return;
    const pruned = pruneRuns(this.#deps.db, keep, repos);
    if (pruned.length > 0) this.#log.info({ deleted: pruned.length, keepRuns: keep }, 'deleted old runs');
  }

  /**
   * Applies retention to the repositories of the runs waiting for their pages and rewrites the
   * pages they touch, then clears them. The pages are written even when retention fails; when
   * writing fails, the runs keep waiting and are tried again after RETRY_MS. False when it failed.
   */
  async #flush(): Promise<boolean> {
    const again = this.#pending;
    this.#pending = new Map();
    const db = this.#deps.db;
    try {
      this.#prune(new Set([...dirtyRepos(db), ...again.values()]));
    } catch (e) {
      this.#log.error({ err: coerceError(e) }, 'retention failed');
    }
    let dirty: DirtyRun[] | null = null;
    try {
      dirty = dirtyRuns(db, FLUSH_LIMIT);
    } catch (e) {
      this.#log.error({ err: coerceError(e) }, 'cannot read the runs waiting for pages');
    }
    if (dirty !== null) {
      const repos = new Map([...again, ...dirty.map((d): [string, string] => [d.id, d.repo])]);
      const runIds = new Set([...dirty.filter((d) => d.present).map((d) => d.id), ...again.keys()]);
      if (await this.#writeChanges({ runIds, removed: dirty.filter((d) => !d.present) }, repos)) {
        try {
          clearDirty(db, dirty);
          if (dirty.length === FLUSH_LIMIT) this.#schedulePages(0);
          return true;
        } catch (e) {
          this.#log.error({ err: coerceError(e) }, 'cannot clear the runs waiting for pages');
        }
      }
    }
    for (const [id, repo] of again) if (!this.#pending.has(id)) this.#pending.set(id, repo);
    if (!this.#stopping) this.#schedulePages(this.#deps.retryMs ?? RETRY_MS);
    return false;
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

  /**
   * At start: applies retention to every repository, then regenerates every page if the report dir
   * was made by other templates, schema, version or settings or lost its pages; else writes only the
   * pages of runs changed since the last write (report_dirty) and the index.
   */
  startPages(): Promise<void> {
    this.#writing = this.#writing.then(() => this.#catchUp());
    return this.#writing;
  }

  #fingerprint(): Promise<string> {
    return reportFingerprint(this.#deps.version, {
      database: databaseId(this.#deps.db),
      reportPrivate: this.#deps.reportPrivate === true,
      settings: this.#deps.pageSettings ?? null,
    });
  }

  async #catchUp(): Promise<void> {
    const dir = this.#deps.reportDir;
    if (dir === null) {
      await this.#writeAll();
      return;
    }
    let same = false;
    try {
      const repos = repoSummaries(this.#deps.db, this.#deps.reportPrivate === true).map((r) => r.repo);
      same = recordedFingerprint(dir) === (await this.#fingerprint()) && reportLooksComplete(dir, repos);
    } catch (e) {
      this.#log.warn({ err: coerceError(e) }, 'cannot tell whether the report is up to date');
    }
    if (!same) {
      await this.#writeAll();
      return;
    }
    try {
      this.#prune();
    } catch (e) {
      this.#log.error({ err: coerceError(e) }, 'retention failed');
    }
    if (await this.#flush()) this.#log.info('report up to date');
  }

  async #writeAll(): Promise<void> {
    try {
      this.#prune();
      optimizeDb(this.#deps.db);
    } catch (e) {
      this.#log.error({ err: coerceError(e) }, 'retention failed');
    }
    if (this.#deps.reportDir === null) {
      this.#forgetDirty();
      return;
    }
    try {
      const through = lastDirtyGen(this.#deps.db);
      const fingerprint = await this.#fingerprint();
      const stats = await writeReports(this.#deps.db, this.#deps.reportDir, await this.#info());
      // Every change made before the pass began is on the pages now; later ones still wait.
      clearDirtyThrough(this.#deps.db, through);
      recordFingerprint(this.#deps.reportDir, fingerprint);
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
      this.#writing = this.#writing.then(async () => void (await this.#flush()));
    }
    await this.#writing;
  }
}
