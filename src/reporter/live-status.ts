/** What index.html shows besides runs: queue counts per adapter (BullMQ) and live workers (Redis). */
import type { Redis } from 'ioredis';
import type { Keys } from '../queue/redis.ts';
import type { RunQueues } from '../queue/run-queues.ts';
import { listWorkers, type WorkerInfo } from '../queue/worker-registry.ts';
import type { QueueCounts } from './pages/report-info.ts';

export type LiveStatus = { queueLength: number; queues: QueueCounts[]; workers: WorkerInfo[] };

export async function readLiveStatus(
  queues: RunQueues,
  adapters: readonly string[],
  redis: Redis,
  keys: Keys,
): Promise<LiveStatus> {
  const counts: QueueCounts[] = [];
  for (const adapter of [...adapters].sort()) {
    const c = await queues.queue(adapter).getJobCounts('waiting', 'prioritized', 'delayed', 'active');
    counts.push({ adapter, waiting: (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0), running: c.active ?? 0 });
  }
  return {
    queueLength: counts.reduce((n, q) => n + q.waiting, 0),
    queues: counts,
    workers: await listWorkers(redis, keys),
  };
}
