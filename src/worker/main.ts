/** `cibq worker`: wiring only — config, logger, Redis, signals — around `RunWorker`. */
import type { Logger } from 'pino';
import { intFlag, parseCommand, stringFlag } from '../bootstrap/args.ts';
import { configFor, humanOutput, loggerFor, packageVersion, print, type CommandContext } from '../bootstrap/context.ts';
import { startSummary } from '../bootstrap/start-summary.ts';
import { runUntilSignal, type Service } from '../bootstrap/lifecycle.ts';
import type { Config } from '../config/config.ts';
import { parseDuration } from '../config/duration.ts';
import { UsageError } from '../util/errors.ts';
import { connectRedis, redisKeys } from '../queue/redis.ts';
import { RunWorker } from './run-worker.ts';
import { errorMessage } from '../util/coerce-error.ts';

export const WORKER_HELP = `Usage: cibq worker [--config FILE] [--concurrency N] [--adapters A,B] [--name NAME]
                   [--lock-duration DURATION]

Takes runs from the queues of the configured adapters (or only those named with --adapters) and
drives each adapter over its stdin/stdout protocol. Any number of workers on any machines may share
one Redis. The first SIGTERM/SIGINT stops taking runs and lets running ones finish for up to
drain_timeout, then cancels them; a second one cancels them at once.

--lock-duration (default: worker.lock_duration in the config, else 30s) is how long a run stays
locked to this worker without a renewal: if the worker dies, another one takes the run over after
about twice this long.`;

export type WorkerOptions = { concurrency?: number; adapters?: string[]; name?: string; lockDurationMs?: number; version?: string };

export function startWorker(
  config: Config,
  log: Logger,
  env: Readonly<Record<string, string | undefined>>,
  opts: WorkerOptions = {},
): Service & { worker: RunWorker; started: Promise<void> } {
  const redis = connectRedis(config.redis, log, 'worker');
  const worker = new RunWorker({
    config,
    log,
    redis,
    connect: (name) => connectRedis(config.redis, log, name),
    keys: redisKeys(config.redis.prefix),
    processEnv: env,
    version: packageVersion(),
    ...opts,
  });
  // Takes runs once the adapters' concurrency caps are set in Redis.
  const started = worker.start().catch((e: unknown) => log.error({ err: e }, 'the worker could not start'));
  let stopped: Promise<void> | null = null;
  return {
    worker,
    started,
    stop: (force) => {
      stopped ??= (async () => {
        await worker.close();
        redis.disconnect();
      })();
      if (force) void worker.close(true);
      return stopped;
    },
  };
}

export function workerOptions(config: Config, p: ReturnType<typeof parseCommand>): WorkerOptions {
  const opts: WorkerOptions = {};
  const concurrency = intFlag(p, 'concurrency');
  if (concurrency !== undefined) opts.concurrency = concurrency;
  const adapters = stringFlag(p, 'adapters');
  if (adapters !== undefined) {
    opts.adapters = adapters.split(',').map((a) => a.trim()).filter((a) => a !== '');
    for (const a of opts.adapters) {
      if (!(a in config.adapters)) throw new UsageError(`--adapters: adapter "${a}" is not defined in the configuration`);
    }
  }
  const name = stringFlag(p, 'name');
  if (name !== undefined) opts.name = name;
  const lock = stringFlag(p, 'lock-duration');
  if (lock !== undefined) {
    let ms: number;
    try {
      ms = parseDuration(lock);
    } catch (e) {
      throw new UsageError(`--lock-duration: ${errorMessage(e)}`);
    }
    if (ms < 100) throw new UsageError(`--lock-duration must be at least 100ms, got "${lock}"`);
    opts.lockDurationMs = ms;
  }
  return opts;
}

export const WORKER_FLAGS = {
  concurrency: { type: 'string' },
  adapters: { type: 'string' },
  name: { type: 'string' },
  'lock-duration': { type: 'string' },
} as const;

export async function workerMain(ctx: CommandContext): Promise<number> {
  const p = parseCommand(ctx.argv, WORKER_FLAGS);
  if (p.values.help) {
    print(ctx, WORKER_HELP);
    return 0;
  }
  const config = await configFor(ctx, p);
  const opts = workerOptions(config, p);
  const log = loggerFor(ctx, p, 'cibq-worker');
  if (humanOutput(ctx)) ctx.stderr.write(startSummary(config, ctx, 'worker'));
  return runUntilSignal(log, startWorker(config, log, ctx.env, opts));
}
