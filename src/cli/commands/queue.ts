/**
 * `cibq queue`: what is waiting where. Job counts of every adapter's queue, the oldest waiting run
 * of each, the reporter's backlog (run updates in the stream not yet written to SQLite) and the
 * live workers. Reads Redis only; changes nothing.
 */
import type { Queue } from 'bullmq';
import { pino } from 'pino';
import { formatDuration } from '../../config/duration.ts';
import { redisKeys } from '../../queue/redis.ts';
import { RunQueues } from '../../queue/run-queues.ts';
import { RunUpdateReader } from '../../queue/run-updates.ts';
import { listWorkers } from '../../queue/worker-registry.ts';
import { parseCommand } from '../../bootstrap/args.ts';
import { configFor, print, type CommandContext } from '../../bootstrap/context.ts';
import { connectRedisOnce } from '../redis-once.ts';
import { RedisUnavailable } from '../../util/errors.ts';

export const QUEUE_HELP = `Usage: cibq queue [--json]

Shows each adapter's queue (runs waiting, active, delayed, prioritized, failed, completed), the
oldest waiting run of each (run id, age, repository, ref), how many run updates the reporter has
not yet written (its backlog), and the live workers. Exits 1 if Redis cannot be reached.
--json prints {"queues":[{"adapter","queue","counts":{…},"oldest_waiting":{…}|null}],
"reporter_backlog":N,"workers":[{"name","state","adapters","running"}]}.`;

const FLAGS = { json: { type: 'boolean' } } as const;

export const COUNT_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;
type Counts = Record<(typeof COUNT_STATES)[number], number>;

export type OldestWaiting = {
  run_id: string;
  queued_at: string;
  age_ms: number;
  repo: string | null;
  repo_name: string | null;
  ref: string | null;
};

export type QueueReport = {
  queues: { adapter: string; queue: string; counts: Counts; oldest_waiting: OldestWaiting | null }[];
  reporter_backlog: number;
  workers: { name: string; state: string; adapters: string[]; running: number }[];
};

async function oldestWaiting(q: Queue, now: number): Promise<OldestWaiting | null> {
  // BullMQ pushes new jobs at the head of the wait list: ascending order starts with the oldest.
  const [job] = await q.getJobs(['wait'], 0, 0, true);
  if (job === undefined) return null;
  const subject = (job.data as { subject?: Record<string, unknown> } | undefined)?.subject ?? {};
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    run_id: job.id ?? '',
    queued_at: new Date(job.timestamp).toISOString(),
    age_ms: Math.max(0, now - job.timestamp),
    repo: str(subject.repo),
    repo_name: str(subject.repo_name),
    ref: str(subject.ref),
  };
}

function age(ms: number): string {
  return formatDuration(Math.floor(ms / 1000) * 1000);
}

function human(r: QueueReport): string {
  const lines: string[] = [];
  const header = ['queue', ...COUNT_STATES];
  const rows = r.queues.map((q) => [q.queue, ...COUNT_STATES.map((s) => String(q.counts[s]))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  lines.push(fmt(header));
  for (const [i, q] of r.queues.entries()) {
    lines.push(fmt(rows[i] ?? []));
    const o = q.oldest_waiting;
    if (o !== null) {
      const repo = o.repo_name ? `${o.repo_name} (${o.repo ?? '?'})` : (o.repo ?? '?');
      lines.push(`  oldest waiting: ${o.run_id}, ${age(o.age_ms)} old, ${repo} ${o.ref ?? ''}`.trimEnd());
    }
  }
  if (r.queues.length === 0) lines.push('(no adapters configured)');
  lines.push(`reporter backlog: ${r.reporter_backlog} run update${r.reporter_backlog === 1 ? '' : 's'} not yet written`);
  const busy = r.workers.reduce((n, w) => n + w.running, 0);
  lines.push(
    r.workers.length === 0
      ? 'workers: none live'
      : `workers: ${r.workers.length} live, ${busy} run${busy === 1 ? '' : 's'} in progress (${r.workers.map((w) => (w.state === 'running' ? w.name : `${w.name} [${w.state}]`)).join(', ')})`,
  );
  return lines.join('\n');
}

export async function queueMain(ctx: CommandContext): Promise<number> {
  const p = parseCommand(ctx.argv, FLAGS);
  if (p.values.help) {
    print(ctx, QUEUE_HELP);
    return 0;
  }
  const config = await configFor(ctx, p);
  let redis;
  try {
    redis = await connectRedisOnce(config.redis, 'queue');
  } catch (e) {
    if (!(e instanceof RedisUnavailable)) throw e;
    print({ ...ctx, stdout: ctx.stderr }, `cibq: ${e.message}`);
    return 1;
  }
  const keys = redisKeys(config.redis.prefix);
  const queues = new RunQueues(redis, keys);
  try {
    const now = Date.now();
    const report: QueueReport = { queues: [], reporter_backlog: 0, workers: [] };
    for (const adapter of Object.keys(config.adapters).sort()) {
      const q = queues.queue(adapter);
      const raw = await q.getJobCounts(...COUNT_STATES);
      const counts = Object.fromEntries(COUNT_STATES.map((s) => [s, raw[s] ?? 0])) as Counts;
      report.queues.push({ adapter, queue: keys.runQueue(adapter), counts, oldest_waiting: await oldestWaiting(q, now) });
    }
    report.reporter_backlog = await new RunUpdateReader(redis, keys.runUpdates, 'cli', pino({ level: 'silent' })).backlog();
    report.workers = (await listWorkers(redis, keys)).map((w) => ({
      name: w.name,
      state: w.state,
      adapters: w.adapters,
      running: w.running.length,
    }));
    print(ctx, p.values.json === true ? JSON.stringify(report, null, 2) : human(report));
    return 0;
  } finally {
    await queues.close();
    redis.disconnect();
  }
}
