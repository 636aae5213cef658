/**
 * Producer ingest: ref updates over many repositories, each filtered and enqueued with its full
 * trigger message by one `cibq producer`, against BullMQ's `addBulk` alone adding as many jobs of
 * the same shape on this machine.
 */
import { Queue } from 'bullmq';
import { addBranches, benchRepo, refsFetched, type BenchRepo, type NewBranch } from '../lib/branch-fixture.ts';
import { fmt, type Figure } from '../lib/figure.ts';
import { sampleTrigger } from '../lib/trigger-sample.ts';
import { sleep, type World } from '../lib/world.ts';

export type IngestOptions = { repos: number; perRepo: number; perEvent: number; profileDir?: string };

/** `n` jobs shaped like the producer's, added with addBulk in chunks; returns jobs per second. */
async function addBulkRate(w: World, repo: BenchRepo, branches: readonly NewBranch[]): Promise<number> {
  const q = new Queue('runs-anchor', { connection: w.redis, prefix: 'anchor' });
  const trigger = JSON.parse(sampleTrigger(w.nid, repo.rid, repo.base, 'x')) as Record<string, unknown>;
  const jobs = branches.map((b, i) => ({
    name: 'run',
    data: {
      subject: {
        id: `00000000-0000-5000-8000-${String(i).padStart(12, '0')}`,
        adapter: 'bench',
        repo: repo.rid,
        repo_name: 'bench',
        event_type: 'push',
        ref: b.ref,
        patch: null,
        title: null,
        author: `did:key:${w.nid}`,
        commit: b.oid,
        private: false,
        queued_at: new Date().toISOString(),
      },
      trigger: { ...trigger, branch: b.ref, after: b.oid, before: b.oid, commits: [b.oid] },
    },
    opts: { jobId: `anchor-${i}`, attempts: 1, removeOnComplete: { age: 604800, count: 10000 }, removeOnFail: { age: 2592000, count: 10000 } },
  }));
  const t0 = performance.now();
  for (let i = 0; i < jobs.length; i += 1000) await q.addBulk(jobs.slice(i, i + 1000));
  const rate = (jobs.length / (performance.now() - t0)) * 1000;
  await q.obliterate({ force: true });
  await q.close();
  return rate;
}

export async function ingestFigure(w: World, o: IngestOptions, log: (s: string) => void): Promise<{ figure: Figure; producerPeak: number }> {
  await w.flushRedis();
  log(`ingest: creating ${o.repos} repositories`);
  const repos: BenchRepo[] = [];
  for (let r = 0; r < o.repos; r++) repos.push(await benchRepo(w.storage, w.nid, `ingest-${r}`));
  const cfg = w.config('ingest', { adapter: 'instant', reportDir: false });
  const producer = w.start('producer-ingest', ['producer', '--config', cfg.file], o.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`] : undefined);
  await w.node.waitForSubscribers(1, 60_000);
  await producer.waitForLog('recorded baseline of storage; later changes start CI', 300_000);
  // The catch-up after subscribing must be over before branches appear, or it would enqueue some
  // of them before the clock starts.
  await producer.waitForLog('caught up with storage', 300_000);
  log(`ingest: creating ${o.repos * o.perRepo} branches (producer rss ${(producer.rss() / 1e6).toFixed(0)} MB, peak ${(producer.peakRss() / 1e6).toFixed(0)} MB)`);
  const events: unknown[] = [];
  const all: NewBranch[] = [];
  for (const repo of repos) {
    const branches = await addBranches(repo, w.nid, Array.from({ length: o.perRepo }, (_, i) => `i${i}`));
    all.push(...branches);
    for (let i = 0; i < branches.length; i += o.perEvent) events.push(refsFetched(w.nid, repo.rid, branches.slice(i, i + o.perEvent)));
  }
  const total = all.length;
  await sleep(500);
  log(`ingest: ${total} ref updates in ${events.length} events (producer rss ${(producer.rss() / 1e6).toFixed(0)} MB, peak ${(producer.peakRss() / 1e6).toFixed(0)} MB)`);
  const stream = 'cibq:run-updates';
  const t0 = performance.now();
  for (const e of events) w.node.emit(e);
  for (;;) {
    if ((await w.redis.xlen(stream)) >= total) break;
    await sleep(25);
  }
  const rate = (total / (performance.now() - t0)) * 1000;
  const producerPeak = producer.peakRss();
  await w.stop(producer);
  const first = repos[0] as BenchRepo;
  const anchor = await addBulkRate(w, first, all);
  await w.flushRedis();
  return {
    producerPeak,
    figure: {
      id: 'ingest',
      figure: `producer ingest: ${fmt(total)} ref updates over ${o.repos} repositories`,
      anchor: `BullMQ addBulk alone: ${fmt(anchor)} jobs/s`,
      target: '≥ 10,000 updates/s',
      value: `${fmt(rate)} updates/s`,
      met: rate >= 10_000,
      data: { updates: total, repos: o.repos, perEvent: o.perEvent, updatesPerSecond: rate, addBulkJobsPerSecond: anchor },
    },
  };
}
