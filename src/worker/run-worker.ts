/**
 * A worker process: one BullMQ worker per adapter queue it serves, sharing one concurrency limit.
 * Each job drives its adapter and publishes every state change for the reporter. The adapter's
 * command and environment come only from this worker's own config, never from the job.
 */
import os from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../shared/config.ts';
import { coerceError } from '../shared/coerce-error.ts';
import type { Keys } from '../shared/redis.ts';
import { RunJobData } from '../shared/run-job.ts';
import type { RunSubject, RunUpdate } from '../shared/run.ts';
import { publishRunUpdate } from '../shared/run-updates.ts';
import { adapterBaseEnv } from './adapter-env.ts';
import { runAdapter, type AdapterOutcome } from './adapter-process.ts';
import { makeRedactor } from './redact.ts';
import { Semaphore } from './semaphore.ts';

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
};

/** Environment variables adapters never see: they carry cibq's own credentials. */
const SECRET_ENV = ['REDIS_URL', 'CIBQ_REDIS_URL', 'CIBQ_REDIS_PASSWORD', 'REDISCLI_AUTH'];

export class RunWorker {
  readonly name: string;
  readonly adapters: readonly string[];
  readonly #deps: WorkerDeps;
  readonly #log: Logger;
  readonly #workers: Worker[] = [];
  readonly #connections: Redis[] = [];
  readonly #slots: Semaphore;
  #closing: Promise<void> | null = null;

  constructor(deps: WorkerDeps) {
    this.#deps = deps;
    this.name = deps.name ?? `${os.hostname()}-${process.pid}`;
    this.adapters = deps.adapters ?? Object.keys(deps.config.adapters);
    this.#log = deps.log.child({ component: 'worker', worker: this.name });
    this.#slots = new Semaphore(deps.concurrency ?? deps.config.worker.concurrency);
  }

  start(): void {
    const concurrency = this.#deps.concurrency ?? this.#deps.config.worker.concurrency;
    for (const adapter of this.adapters) {
      const connection = this.#deps.connect(`worker-${adapter}`);
      this.#connections.push(connection);
      const w = new Worker(
        this.#deps.keys.runQueue(adapter),
        (job: Job, _token?: string, signal?: AbortSignal) => this.#process(job, signal),
        { connection, prefix: this.#deps.keys.bullPrefix, concurrency, maxStalledCount: 1 },
      );
      w.on('error', (err) => this.#log.debug({ err: { message: err.message } }, 'bullmq worker error'));
      this.#workers.push(w);
    }
    this.#log.info({ adapters: this.adapters, concurrency }, 'worker started');
  }

  async #publish(u: RunUpdate): Promise<void> {
    await publishRunUpdate(this.#deps.redis, this.#deps.keys.runUpdates, u);
  }

  async #process(job: Job, signal: AbortSignal | undefined): Promise<{ result: string }> {
    const parsed = RunJobData.safeParse(job.data);
    if (!parsed.success) {
      this.#log.error({ jobId: job.id, issues: parsed.error.issues }, 'job data is malformed; failing it');
      throw new UnrecoverableError('malformed job data');
    }
    const { subject, trigger } = parsed.data;
    const release = await this.#slots.acquire();
    try {
      return { result: (await this.#execute(job, subject, trigger, signal)).result };
    } finally {
      release();
    }
  }

  async #execute(
    job: Job,
    subject: RunSubject,
    trigger: RunJobData['trigger'],
    signal: AbortSignal | undefined,
  ): Promise<Pick<AdapterOutcome, 'result'>> {
    const log = this.#log.child({ runId: subject.id, adapter: subject.adapter });
    const attempts = job.attemptsMade + job.stalledCounter + 1;
    const base = { subject, attempts, worker: this.name } as const;
    const adapter = this.#deps.config.adapters[subject.adapter];
    if (!adapter) {
      const now = new Date().toISOString();
      const reason = `adapter "${subject.adapter}" is not configured on worker ${this.name}`;
      await this.#publish({ ...base, state: 'finished', at: now, result: 'error', reason });
      log.error(reason);
      return { result: 'error' };
    }
    const triggeredAt = new Date().toISOString();
    await this.#publish({ ...base, state: 'triggered', at: triggeredAt, trigger: JSON.stringify(trigger) });
    const env = adapterBaseEnv(
      this.#deps.processEnv,
      { CIBQ_RUN_ID: subject.id, CIBQ_ADAPTER: subject.adapter, RAD_HOME: this.#deps.config.node.radHome },
      SECRET_ENV,
    );
    log.info({ repo: subject.repo, ref: subject.ref, commit: subject.commit }, 'run started');
    const outcome = await runAdapter({
      adapter,
      message: trigger,
      env,
      timeoutMs: adapter.timeoutMs,
      killGraceMs: this.#deps.killGraceMs ?? adapter.killGraceMs,
      logLimitBytes: this.#deps.logLimitBytes ?? this.#deps.config.logLimitBytes,
      ...(signal ? { signal } : {}),
      log,
      onTriggered: async (t) => {
        await this.#publish({ ...base, state: 'running', at: t.at, adapter_run_id: t.adapterRunId, info_url: t.infoUrl });
      },
    });
    const redact = makeRedactor(Object.values(adapter.sensitiveEnv));
    await this.#publish({
      ...base,
      state: 'finished',
      at: outcome.finishedAt,
      result: outcome.result,
      reason: outcome.reason === null ? null : redact(outcome.reason),
      exit_code: outcome.exitCode,
      adapter_run_id: outcome.adapterRunId,
      info_url: outcome.infoUrl,
      log: redact(outcome.log),
    });
    log.info({ result: outcome.result, reason: outcome.reason === null ? null : redact(outcome.reason), exitCode: outcome.exitCode }, 'run finished');
    return outcome;
  }

  /** Idempotent: stop taking jobs, wait for running ones, close connections. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all(this.#workers.map((w) => w.close().catch((e: unknown) => this.#log.warn({ err: coerceError(e) }, 'closing worker'))));
      for (const c of this.#connections) c.disconnect();
      this.#log.info('worker stopped');
    })();
    return this.#closing;
  }
}
