/**
 * Prometheus metrics for /metrics, in a registry of the dashboard's own (not prom-client's global
 * one): jobs per queue and state, runs by result and their durations (from SQLite), live workers.
 * Everything is read at scrape time; when Redis is down the Redis-backed series are left out and
 * cibq_redis_up is 0.
 */
import { Gauge, Registry, type Metric } from 'prom-client';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Keys } from '../queue/redis.ts';
import { listWorkers, type WorkerInfo } from '../queue/worker-registry.ts';
import { DURATION_BUCKETS, readRunStats, type RunStats } from '../db/run-stats.ts';

export const JOB_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;

export type MetricsDeps = {
  /** adapter name → its BullMQ queue */
  queues: ReadonlyMap<string, Queue>;
  redis: Redis;
  keys: Keys;
  dbPath: string;
  version: string;
  /** Whether Redis answers now (bounded in time). */
  redisUp: () => Promise<boolean>;
};

/** A histogram whose bucket counts come from SQL: prom-client's Histogram can only observe one value at a time. */
function durationHistogram(current: () => RunStats) {
  const name = 'cibq_run_duration_seconds';
  const help = 'Duration of finished runs (started to finished) in the database, by adapter and result';
  return {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    collect: () => {},
    reset: () => {},
    get: async () => {
      const values: { value: number; labels: Record<string, string | number>; metricName: string }[] = [];
      for (const g of current().groups) {
        const labels = { adapter: g.adapter, result: g.result };
        DURATION_BUCKETS.forEach((le, i) => values.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: g.buckets[i] ?? 0 }));
        values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: g.timed });
        values.push({ metricName: `${name}_sum`, labels, value: g.sum });
        values.push({ metricName: `${name}_count`, labels, value: g.timed });
      }
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
  };
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from Redis within ${ms} ms`)), ms);
    })]);
  } finally {
    clearTimeout(timer);
  }
}

export type DashboardMetrics = { registry: Registry; render: () => Promise<string>; contentType: string };

export function createMetrics(deps: MetricsDeps): DashboardMetrics {
  const registry = new Registry();
  const registers = [registry];
  const up = new Gauge({ name: 'cibq_redis_up', help: 'Whether Redis answered the dashboard (1) or not (0)', registers });
  const info = new Gauge({ name: 'cibq_build_info', help: 'The cibq version serving these metrics', labelNames: ['version'], registers });
  const jobs = new Gauge({ name: 'cibq_queue_jobs', help: 'Jobs in each run queue by state', labelNames: ['queue', 'adapter', 'state'], registers });
  const workers = new Gauge({ name: 'cibq_workers', help: 'Live workers by state (running or draining)', labelNames: ['state'], registers });
  const workerRuns = new Gauge({ name: 'cibq_worker_runs', help: 'Runs the live workers are executing now', registers });
  const runs = new Gauge({ name: 'cibq_runs', help: 'Finished runs in the database by adapter and result', labelNames: ['adapter', 'result'], registers });
  const pendingAnnounces = new Gauge({
    name: 'cibq_publisher_pending_announces',
    help: 'Repositories whose job-COB updates the node has not yet announced (retried with backoff); 0 until the publisher reports any',
    registers,
  });
  const unfinished = new Gauge({ name: 'cibq_runs_unfinished', help: 'Runs in the database not finished yet, by adapter and state', labelNames: ['adapter', 'state'], registers });
  let stats: RunStats = { groups: [], unfinished: [] };
  registry.registerMetric(durationHistogram(() => stats) as unknown as Metric);

  async function refresh(): Promise<void> {
    info.reset();
    info.set({ version: deps.version }, 1);
    stats = readRunStats(deps.dbPath);
    runs.reset();
    for (const g of stats.groups) runs.set({ adapter: g.adapter, result: g.result }, g.count);
    unfinished.reset();
    for (const u of stats.unfinished) unfinished.set({ adapter: u.adapter, state: u.state }, u.count);
    jobs.reset();
    workers.reset();
    workerRuns.reset();
    pendingAnnounces.reset();
    up.set(0);
    if (!(await deps.redisUp())) return;
    try {
      for (const [adapter, queue] of deps.queues) {
        const counts = await withTimeout(queue.getJobCounts(...JOB_STATES), 5000);
        for (const state of JOB_STATES) jobs.set({ queue: queue.name, adapter, state }, counts[state] ?? 0);
      }
      const live: WorkerInfo[] = await withTimeout(listWorkers(deps.redis, deps.keys), 5000);
      for (const state of ['running', 'draining'] as const) workers.set({ state }, live.filter((w) => w.state === state).length);
      workerRuns.set(live.reduce((n, w) => n + w.running.length, 0));
      const pending = await withTimeout(deps.redis.get(deps.keys.publisherPendingAnnounces), 5000);
      if (pending !== null && /^\d+$/.test(pending)) pendingAnnounces.set(Number(pending));
      up.set(1);
    } catch {
      // Redis went away during the scrape: report it down rather than half the series.
      jobs.reset();
      workers.reset();
      workerRuns.reset();
      pendingAnnounces.reset();
    }
  }

  let last: Promise<string> = Promise.resolve('');
  return {
    registry,
    contentType: registry.contentType,
    // Scrapes run one at a time: each refresh resets the gauges the previous one filled.
    render: () => (last = last.catch(() => '').then(async () => {
      await refresh();
      return registry.metrics();
    })),
  };
}
