/**
 * A worker process: one BullMQ worker per adapter queue it serves, sharing one concurrency limit.
 * Each job drives its adapter and publishes every state change for the reporter. The adapter's
 * command and environment come only from this worker's own config, never from the job.
 *
 * The worker never holds a run it cannot start: while all its slots are busy it stops fetching on
 * every queue, and a run that still arrives then goes straight back to its queue for another worker
 * (so it neither waits here nor counts against its adapter's global concurrency cap).
 */
import os from 'node:os';
import { DelayedError, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { coerceError } from '../util/coerce-error.ts';
import type { Keys } from '../queue/redis.ts';
import { publishFinal, runStartState } from '../queue/run-control.ts';
import { RunJobData } from '../queue/run-job.ts';
import { RunQueues } from '../queue/run-queues.ts';
import { RunSubject, type RunResult, type RunUpdate } from '../model/run.ts';
import { publishRunUpdate } from '../queue/run-updates.ts';
import { appendJobLog } from '../queue/job-log.ts';
import { waitForReplica } from '../queue/replica-wait.ts';
import type { WorkerInfo } from '../queue/worker-registry.ts';
import { formatDuration } from '../config/duration.ts';
import { GroupWatchdog } from './group-watchdog.ts';
import type { Attempt } from './attempt.ts';
import { executeRun } from './execute-run.ts';
import { LogGate } from './log-gate.ts';
import { makeRedactor } from './redact.ts';
import { Semaphore } from './semaphore.ts';
import { WorkerControl } from './worker-control.ts';

const HOST = os.hostname();

export type WorkerDeps = {
  config: Config;
  log: Logger;
  /** Used to publish run updates. */
  redis: Redis;
  /** BullMQ workers each need a connection of their own (blocking commands). */
  connect: (name: string) => Redis;
  keys: Keys;
  /** The environment the worker started with; adapters get it minus cibq's secrets. */
  processEnv: Readonly<Record<string, string | undefined>>;
  name?: string;
  adapters?: readonly string[];
  concurrency?: number;
  killGraceMs?: number;
  logLimitBytes?: number;
  /** Shown by `cibq workers`. */
  version?: string;
  /**
   * How long a job lock lasts without renewal (default 30s): a worker that vanished is noticed
   * after about this long (plus up to one stalled-check interval, by default the same).
   */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Overrides config.drainTimeoutMs. */
  drainTimeoutMs?: number;
  announceIntervalMs?: number;
};

export class RunWorker {
  readonly name: string;
  readonly adapters: readonly string[];
  readonly #deps: WorkerDeps;
  readonly #log: Logger;
  readonly #workers: Worker[] = [];
  readonly #connections: Redis[] = [];
  readonly #slots: Semaphore;
  readonly #concurrency: number;
  /** Attempts this worker runs (each holds a slot), by job id (= run id). */
  readonly #running = new Map<string, Attempt>();
  readonly #watchdog: GroupWatchdog;
  readonly #queues: RunQueues;
  readonly #control: WorkerControl;
  readonly #startedAt = new Date().toISOString();
  readonly #logGate = new LogGate();
  /**
   * `starting` until the adapter caps are set, `running` while the BullMQ workers fetch runs,
   * `draining` from the first stop until every run has ended, then `stopped`. Never moves back.
   */
  #state: 'starting' | 'running' | 'draining' | 'stopped' = 'starting';
  #closing: Promise<void> | null = null;

  constructor(deps: WorkerDeps) {
    this.#deps = deps;
    this.name = deps.name ?? `${os.hostname()}-${process.pid}`;
    this.adapters = deps.adapters ?? Object.keys(deps.config.adapters);
    this.#log = deps.log.child({ component: 'worker', worker: this.name });
    this.#concurrency = deps.concurrency ?? deps.config.worker.concurrency;
    this.#slots = new Semaphore(this.#concurrency, () => this.#syncFetching());
    this.#watchdog = new GroupWatchdog(this.#log);
    this.#queues = new RunQueues(deps.redis, deps.keys);
    this.#control = new WorkerControl({
      redis: deps.redis,
      subscriber: deps.connect('control'),
      keys: deps.keys,
      log: this.#log,
      name: this.name,
      info: () => this.info(),
      runIds: () => [...this.#running.values()].filter((a) => a.lock === 'held').map((a) => a.runId),
      cancel: (runId, reason) => this.cancel(runId, reason),
      ...(deps.announceIntervalMs !== undefined ? { announceIntervalMs: deps.announceIntervalMs } : {}),
    });
  }

  /**
   * Sets each adapter's global concurrency cap in Redis, then starts taking runs (so no run is
   * taken before its cap applies). Resolves once the workers fetch.
   */
  async start(): Promise<void> {
    const { config, keys } = this.#deps;
    const lockDuration = this.#deps.lockDurationMs ?? this.#deps.config.worker.lockDurationMs;
    this.#watchdog.start();
    const caps: Promise<void>[] = [];
    for (const adapter of this.adapters) {
      const cap = config.adapters[adapter]?.concurrency ?? null;
      caps.push(this.#applyGlobalConcurrency(adapter, cap));
      const connection = this.#deps.connect(`worker-${adapter}`);
      this.#connections.push(connection);
      const w = new Worker(
        keys.runQueue(adapter),
        (job: Job, token?: string, signal?: AbortSignal) => this.#process(job, token, signal),
        {
          connection,
          prefix: keys.bullPrefix,
          autorun: false,
          concurrency: Math.min(this.#concurrency, cap ?? Infinity),
          lockDuration,
          stalledInterval: this.#deps.stalledIntervalMs ?? lockDuration,
          // A run whose worker vanished is retried until it has been started max_attempts times.
          maxStalledCount: Math.max(0, config.maxAttempts - 1),
        },
      );
      w.on('error', (err) => this.#log.debug({ err: { message: err.message } }, 'bullmq worker error'));
      w.on('lockRenewalFailed', (jobIds) => {
        for (const id of jobIds) {
          const a = this.#running.get(id);
          if (a) this.#lose(a, 'its lock could not be renewed (Redis unreachable for longer than the lock?)');
        }
      });
      w.on('failed', (job, err) => {
        if (job && err.message.includes('stalled more than allowable limit')) void this.#workerLost(job);
      });
      this.#workers.push(w);
    }
    this.#control.start();
    await Promise.all(caps);
    if (this.#state !== 'starting') return;
    this.#state = 'running';
    for (const w of this.#workers) {
      w.run().catch((e: unknown) => this.#log.error({ err: coerceError(e) }, 'bullmq worker stopped'));
    }
    this.#log.info({ adapters: this.adapters, concurrency: this.#concurrency, lockDuration }, 'worker started');
  }

  /** Fetch runs only while a slot is free: pause every queue's worker when none is, resume when one frees. */
  #syncFetching(): void {
    // One queue's worker never takes more runs than its concurrency, which is at most the slots:
    // pausing it would only stop and restart its stalled checker on every run.
    if (this.#state !== 'running' || this.#workers.length <= 1) return;
    const full = this.#slots.available === 0;
    for (const w of this.#workers) {
      if (full && !w.isPaused()) w.pause(true).catch((e: unknown) => this.#log.debug({ err: coerceError(e) }, 'pausing a queue'));
      else if (!full && w.isPaused()) void w.resume();
    }
  }

  /** What `cibq workers` shows about this worker. */
  info(): WorkerInfo {
    const now = new Date().toISOString();
    return {
      name: this.name,
      host: HOST,
      pid: process.pid,
      adapters: [...this.adapters],
      concurrency: this.#concurrency,
      version: this.#deps.version ?? '0.0.0',
      running: [...this.#running.values()].filter((a) => a.lock === 'held').map((a) => ({ run_id: a.runId, adapter: a.adapter, since: a.since })),
      started_at: this.#startedAt,
      seen_at: now,
      state: this.#state === 'draining' || this.#state === 'stopped' ? 'draining' : 'running',
    };
  }

  /** Cancels a run this worker holds (its adapter's group is stopped); false if it holds none. */
  cancel(runId: string, reason: string): boolean {
    const a = this.#running.get(runId);
    if (!a || a.lock === 'lost' || a.controller.signal.aborted) return false;
    a.controller.abort(reason);
    return true;
  }

  async #applyGlobalConcurrency(adapter: string, cap: number | null): Promise<void> {
    const q = this.#queues.queue(adapter);
    try {
      await (cap === null ? q.removeGlobalConcurrency() : q.setGlobalConcurrency(cap));
    } catch (e) {
      this.#log.warn({ adapter, err: coerceError(e) }, 'cannot set the adapter concurrency cap');
    }
  }

  /** This worker no longer holds the run's lock: stop the adapter, report nothing for this attempt. */
  #lose(a: Attempt, why: string): void {
    if (a.lock === 'lost') return;
    a.lock = 'lost';
    this.#log.warn({ runId: a.runId, why }, 'lost the run: stopping its adapter; another attempt will report it');
    a.controller.abort(`worker ${this.name} lost the run: ${why}`);
    this.#control.changed();
  }

  async #publish(u: RunUpdate): Promise<void> {
    await publishRunUpdate(this.#deps.redis, this.#deps.keys.runUpdates, u);
    // Before the adapter starts, the run's attempt (taken, locked, triggered) is on a replica: after
    // a failover it is not handed out as if it had never started, but counted as a further attempt.
    if (u.state === 'triggered') await waitForReplica(this.#deps.redis);
  }

  /** Publishes the attempt's final update, unless it lost the lock or the run already has one. */
  async #finish(a: Attempt, u: RunUpdate & { result: RunResult }): Promise<void> {
    if (a.lock === 'lost') return;
    const status = await publishFinal(this.#deps.redis, this.#deps.keys, u, { adapter: a.adapter, token: a.token });
    if (status === 'published') await waitForReplica(this.#deps.redis);
    if (status === 'lock-lost') this.#lose(a, 'its lock had expired when the result was ready');
    else if (status === 'already-final') this.#log.info({ runId: a.runId }, 'the run already had a final result; not reporting another');
  }

  /** A run that was started max_attempts times and each time lost its worker. */
  async #workerLost(job: Job): Promise<void> {
    const parsed = RunJobData.safeParse(job.data);
    if (!parsed.success) return;
    const n = job.stalledCounter;
    const reason = `worker lost: the run was started ${n} time${n === 1 ? '' : 's'} and each time its worker stopped before finishing it (killed, crashed, or cut off from Redis for longer than the job lock); max_attempts is ${this.#deps.config.maxAttempts}`;
    try {
      await publishFinal(this.#deps.redis, this.#deps.keys, { subject: parsed.data.subject, state: 'finished', at: new Date().toISOString(), result: 'error', reason, attempts: n });
      this.#log.warn({ runId: parsed.data.subject.id, attempts: n }, 'run failed: its workers were lost');
    } catch (e) {
      this.#log.error({ runId: parsed.data.subject.id, err: coerceError(e) }, 'cannot report a run whose workers were lost');
    }
  }

  async #process(job: Job, token: string | undefined, bullSignal: AbortSignal | undefined): Promise<{ result: string }> {
    const parsed = RunJobData.safeParse(job.data);
    if (!parsed.success) {
      await this.#rejectMalformed(job, parsed.error.issues);
      throw new UnrecoverableError('malformed job data');
    }
    const { subject, trigger } = parsed.data;
    const jobId = job.id ?? subject.id;
    const previous = this.#running.get(jobId);
    if (previous) {
      // The run's lock expired and the run came back to this worker while the earlier attempt still
      // runs: stop that one, and start this one only once its adapter is gone (two attempts of one
      // job in one BullMQ worker would also share, and lose, one lock renewal).
      this.#lose(previous, 'the run was handed out again after its lock expired');
      const delayMs = this.#killGraceFor(subject.adapter) + 1000;
      this.#log.warn({ runId: subject.id, delayMs }, 'an earlier attempt of the run is still stopping here; starting this one later');
      await job.moveToDelayed(Date.now() + delayMs, token);
      throw new DelayedError();
    }
    const release = this.#state === 'draining' || this.#state === 'stopped' ? null : this.#slots.tryAcquire();
    if (!release) {
      // No free slot (or draining): give the run back at once for another worker.
      await job.moveToWait(token);
      throw new WaitingError();
    }
    const attempt: Attempt = {
      runId: subject.id,
      adapter: subject.adapter,
      token: token ?? '',
      since: new Date().toISOString(),
      controller: new AbortController(),
      lock: 'held',
      pgid: null,
    };
    bullSignal?.addEventListener('abort', () => attempt.controller.abort(bullSignal.reason), { once: true });
    this.#running.set(jobId, attempt);
    this.#control.changed();
    try {
      return await this.#run(job, subject, trigger, attempt);
    } catch (e) {
      // Whatever went wrong, the run gets a final result (unless another attempt owns it now).
      if (attempt.lock === 'held') await this.#finishWithError(job, attempt, subject, e);
      throw e;
    } finally {
      if (attempt.pgid !== null) this.#watchdog.unwatch(attempt.pgid);
      if (this.#running.get(jobId) === attempt) this.#running.delete(jobId);
      release();
      this.#control.changed();
    }
  }

  async #run(job: Job, subject: RunSubject, trigger: RunJobData['trigger'], attempt: Attempt): Promise<{ result: string }> {
    const { final: done, cancel: why } = await runStartState(this.#deps.redis, this.#deps.keys, subject.id);
    if (done !== null) {
      this.#log.info({ runId: subject.id, result: done }, 'run already has a final result; not running it again');
      return { result: done };
    }
    if (why !== null) attempt.controller.abort(why);
    const outcome = await executeRun(
      {
        config: this.#deps.config,
        processEnv: this.#deps.processEnv,
        worker: this.name,
        log: this.#log,
        watchdog: this.#watchdog,
        publish: (u) => this.#publish(u),
        finish: (u) => this.#finish(attempt, u),
        ...(this.#deps.killGraceMs !== undefined ? { killGraceMs: this.#deps.killGraceMs } : {}),
        ...(this.#deps.logLimitBytes !== undefined ? { logLimitBytes: this.#deps.logLimitBytes } : {}),
        logGate: this.#logGate,
        appendJobLog: (lines) => appendJobLog(this.#deps.redis, this.#deps.keys, subject.adapter, job.id ?? subject.id, lines),
      },
      job,
      subject,
      trigger,
      attempt,
    );
    if (attempt.lock === 'lost') throw new Error(`worker ${this.name} lost the lock on run ${subject.id}; another attempt reports it`);
    return { result: outcome.result };
  }

  #killGraceFor(adapter: string): number {
    return this.#deps.killGraceMs ?? this.#deps.config.adapters[adapter]?.killGraceMs ?? this.#deps.config.killGraceMs;
  }

  /** An unexpected failure while running the run: it ends `error` with the (redacted) message. */
  async #finishWithError(job: Job, a: Attempt, subject: RunSubject, e: unknown): Promise<void> {
    const redact = makeRedactor(Object.values(this.#deps.config.adapters[subject.adapter]?.sensitiveEnv ?? {}));
    const reason = redact(`worker ${this.name} failed while running the run: ${coerceError(e).message}`);
    this.#log.error({ runId: subject.id, reason }, 'run failed unexpectedly');
    try {
      await this.#finish(a, {
        subject,
        attempts: job.attemptsMade + job.stalledCounter + 1,
        worker: this.name,
        state: 'finished',
        at: new Date().toISOString(),
        result: 'error',
        reason,
      });
    } catch (e2) {
      this.#log.error({ runId: subject.id, err: coerceError(e2) }, 'cannot report the run that failed');
    }
  }

  /** Job data that is not a run: fail the job, and end the run `error` if it names one. */
  async #rejectMalformed(job: Job, issues: readonly { path: readonly PropertyKey[]; message: string }[]): Promise<void> {
    const why = issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
    this.#log.error({ jobId: job.id, issues: why }, 'job data is malformed; failing it');
    const data: unknown = job.data;
    const subject = RunSubject.safeParse(typeof data === 'object' && data !== null ? (data as { subject?: unknown }).subject : undefined);
    if (!subject.success || subject.data.id !== job.id) return;
    const reason = `the run's job data is malformed (${why}); it cannot be run`;
    try {
      await publishFinal(this.#deps.redis, this.#deps.keys, {
        subject: subject.data,
        state: 'finished',
        at: new Date().toISOString(),
        result: 'error',
        reason,
        attempts: job.attemptsMade + job.stalledCounter + 1,
        worker: this.name,
      });
    } catch (e) {
      this.#log.error({ runId: subject.data.id, err: coerceError(e) }, 'cannot report a run with malformed job data');
    }
  }

  /**
   * Stops taking runs and lets running ones finish for up to drain_timeout, then cancels them.
   * `force` (a second signal) cancels running runs at once. Idempotent; resolves once stopped.
   */
  close(force = false): Promise<void> {
    this.#closing ??= this.#shutdown();
    if (force) this.#cancelAll(`worker ${this.name} was stopped before the run finished`);
    return this.#closing;
  }

  #cancelAll(reason: string): void {
    for (const a of this.#running.values()) a.controller.abort(reason);
  }

  async #shutdown(): Promise<void> {
    this.#state = 'draining';
    this.#control.changed();
    const drainMs = this.#deps.drainTimeoutMs ?? this.#deps.config.drainTimeoutMs;
    if (this.#running.size > 0) this.#log.info({ running: this.#running.size, drainMs }, 'draining: waiting for running runs');
    const drain = setTimeout(
      () => this.#cancelAll(`worker ${this.name} shut down: the run did not finish within drain_timeout (${formatDuration(drainMs)})`),
      Math.min(drainMs, 2 ** 31 - 1),
    );
    await Promise.all(this.#workers.map((w) => w.close().catch((e: unknown) => this.#log.warn({ err: coerceError(e) }, 'closing worker'))));
    clearTimeout(drain);
    await this.#control.close();
    await this.#queues.close().catch(() => {});
    this.#watchdog.close();
    for (const c of this.#connections) c.disconnect();
    this.#state = 'stopped';
    this.#log.info('worker stopped');
  }
}
