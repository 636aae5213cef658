/** `cibq worker`: wiring only — config, logger, Redis, signals — around `RunWorker`. */
import type { Logger } from 'pino';
import { intFlag, parseCommand, stringFlag } from '../cli/args.ts';
import { configFor, loggerFor, print, type CommandContext } from '../cli/context.ts';
import { runUntilSignal, type Service } from '../cli/lifecycle.ts';
import type { Config } from '../shared/config.ts';
import { UsageError } from '../shared/errors.ts';
import { connectRedis, redisKeys } from '../shared/redis.ts';
import { RunWorker } from './run-worker.ts';

export const WORKER_HELP = `Usage: cibq worker [--config FILE] [--concurrency N] [--adapters A,B] [--name NAME]

Takes runs from the queues of the configured adapters (or only those named with --adapters) and
drives each adapter over its stdin/stdout protocol. Any number of workers on any machines may share
one Redis. The first SIGTERM/SIGINT stops taking runs and lets running ones finish; a second one
cancels them.`;

export type WorkerOptions = { concurrency?: number; adapters?: string[]; name?: string };

export function startWorker(
  config: Config,
  log: Logger,
  env: Readonly<Record<string, string | undefined>>,
  opts: WorkerOptions = {},
): Service & { worker: RunWorker } {
  const redis = connectRedis(config.redis, log, 'worker');
  const worker = new RunWorker({
    config,
    log,
    redis,
    connect: (name) => connectRedis(config.redis, log, name),
    keys: redisKeys(config.redis.prefix),
    processEnv: env,
    ...opts,
  });
  worker.start();
  let stopped: Promise<void> | null = null;
  return {
    worker,
    stop: () =>
      (stopped ??= (async () => {
        await worker.close();
        redis.disconnect();
      })()),
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
  return opts;
}

export const WORKER_FLAGS = {
  concurrency: { type: 'string' },
  adapters: { type: 'string' },
  name: { type: 'string' },
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
  return runUntilSignal(log, startWorker(config, log, ctx.env, opts));
}
