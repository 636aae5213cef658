/** Runs waiting to be taken, across the adapters' queues (cib's `event_queue_length`). */
import type { RunQueues } from './run-queues.ts';

export async function queueLength(queues: RunQueues, adapters: readonly string[]): Promise<number> {
  let n = 0;
  for (const a of adapters) {
    const c = await queues.queue(a).getJobCounts('waiting', 'prioritized', 'delayed');
    n += (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0);
  }
  return n;
}
