/** `cibq producer`: wiring only — config, logger, Redis, storage, signals — around `Producer`. */
import type { Logger } from 'pino';
import { parseCommand } from '../bootstrap/args.ts';
import { configFor, humanOutput, loggerFor, print, type CommandContext } from '../bootstrap/context.ts';
import { startSummary } from '../bootstrap/start-summary.ts';
import { runUntilSignal, type Service } from '../bootstrap/lifecycle.ts';
import type { Config } from '../config/config.ts';
import { connectRedis, redisKeys } from '../queue/redis.ts';
import { RunQueues } from '../queue/run-queues.ts';
import { Storage } from '../storage/storage.ts';
import { Producer } from './run-producer.ts';

export const PRODUCER_HELP = `Usage: cibq producer [--config FILE] [--log-level LEVEL]

Subscribes to the Radicle node's control socket, turns ref changes into CI events, applies the
configured filters and triggers, and enqueues one run per matching adapter. Reconnects to the node
with backoff and catches up with storage after every (re)connect.`;

export function startProducer(config: Config, log: Logger): Service & { producer: Producer } {
  const redis = connectRedis(config.redis, log, 'producer');
  const keys = redisKeys(config.redis.prefix);
  const storage = new Storage({ radHome: config.node.radHome, log: log.child({ component: 'storage' }) });
  const queues = new RunQueues(redis, keys);
  const producer = new Producer({ config, storage, queues, redis, keys, log });
  producer.start();
  let stopped: Promise<void> | null = null;
  return {
    producer,
    stop: () =>
      (stopped ??= (async () => {
        await producer.close();
        await queues.close();
        await storage.close();
        redis.disconnect();
      })()),
  };
}

export async function producerMain(ctx: CommandContext): Promise<number> {
  const p = parseCommand(ctx.argv, {});
  if (p.values.help) {
    print(ctx, PRODUCER_HELP);
    return 0;
  }
  const config = await configFor(ctx, p);
  const log = loggerFor(ctx, p, 'cibq-producer');
  if (humanOutput(ctx)) ctx.stderr.write(startSummary(config, ctx, 'producer'));
  log.info({ socket: config.node.socket }, 'producer starting');
  return runUntilSignal(log, startProducer(config, log), { forceAfterMs: 30_000 });
}
