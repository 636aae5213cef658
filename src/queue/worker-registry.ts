/**
 * Live workers announce themselves in Redis: a JSON record per worker with a short TTL, refreshed
 * while the worker lives, and a set of names. A worker that dies simply expires. `cibq workers`, the
 * reporter and the dashboard read the same list.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Keys } from './redis.ts';
import { parseJson } from '../util/parse-json.ts';

export const WorkerInfo = z.object({
  name: z.string(),
  host: z.string(),
  pid: z.number().int(),
  adapters: z.array(z.string()),
  concurrency: z.number().int(),
  version: z.string(),
  /** Runs this worker is executing now. */
  running: z.array(z.object({ run_id: z.string(), adapter: z.string(), since: z.string() })),
  started_at: z.string(),
  seen_at: z.string(),
  state: z.enum(['running', 'draining']),
});
export type WorkerInfo = z.infer<typeof WorkerInfo>;

/** A worker record lives this long unless refreshed. */
export const WORKER_TTL_SECONDS = 30;

export async function announceWorker(redis: Redis, keys: Keys, info: WorkerInfo): Promise<void> {
  await redis
    .multi()
    .set(keys.worker(info.name), JSON.stringify(info), 'EX', WORKER_TTL_SECONDS)
    .sadd(keys.workers, info.name)
    .exec();
}

export async function removeWorker(redis: Redis, keys: Keys, name: string): Promise<void> {
  await redis.multi().del(keys.worker(name)).srem(keys.workers, name).exec();
}

/** Live workers, by name. Records that expired are dropped from the set on the way. */
export async function listWorkers(redis: Redis, keys: Keys): Promise<WorkerInfo[]> {
  const names = (await redis.smembers(keys.workers)).sort();
  if (names.length === 0) return [];
  const values = await redis.mget(...names.map((n) => keys.worker(n)));
  const out: WorkerInfo[] = [];
  const gone: string[] = [];
  values.forEach((v, i) => {
    const name = names[i] as string;
    if (v === null) return void gone.push(name);
    const r = parseJson(WorkerInfo, v);
    if (r.success) out.push(r.data);
    else gone.push(name);
  });
  if (gone.length > 0) await redis.srem(keys.workers, ...gone);
  return out;
}
