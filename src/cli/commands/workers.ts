/** `cibq workers`: the live workers, as they announce themselves in Redis. */
import { connectRedis, redisKeys } from '../../queue/redis.ts';
import { listWorkers, type WorkerInfo } from '../../queue/worker-registry.ts';
import { parseCommand } from '../../bootstrap/args.ts';
import { configFor, loggerFor, print, type CommandContext } from '../../bootstrap/context.ts';

export const WORKERS_HELP = `Usage: cibq workers [--json]

Lists the live workers: name, host, pid, state (running or draining), adapters, runs running out
of its concurrency, version, and the runs it holds. A worker that stopped without saying so drops
off the list within 30 seconds. --json prints an array of objects (keys: name, host, pid, adapters,
concurrency, version, running [{run_id, adapter, since}], started_at, seen_at, state).`;

function describe(w: WorkerInfo): string {
  const head = [w.name, `${w.host}:${w.pid}`, w.state, w.adapters.join(','), `${w.running.length}/${w.concurrency}`, w.version].join('  ');
  return [head, ...w.running.map((r) => `    ${r.run_id}  ${r.adapter}  since ${r.since}`)].join('\n');
}

export async function workersMain(ctx: CommandContext): Promise<number> {
  const p = parseCommand(ctx.argv, { json: { type: 'boolean' } });
  if (p.values.help) {
    print(ctx, WORKERS_HELP);
    return 0;
  }
  const config = await configFor(ctx, p);
  const log = loggerFor(ctx, p, 'cibq-workers');
  const redis = connectRedis(config.redis, log, 'workers');
  try {
    const workers = await listWorkers(redis, redisKeys(config.redis.prefix));
    if (p.values.json === true) print(ctx, JSON.stringify(workers, null, 2));
    else print(ctx, workers.length === 0 ? 'no live workers' : workers.map(describe).join('\n'));
    return 0;
  } finally {
    redis.disconnect();
  }
}
