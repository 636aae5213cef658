/**
 * Dispatch throughput and idle latency of one `cibq up` (worker concurrency 4), each next to its
 * anchor, a bare spawn loop of the same `/bin/sh` adapter at the same concurrency. The whole
 * pipeline: event on the node's socket → producer → Redis → worker → adapter → reporter → SQLite.
 */
import { bareLatencies, bareLoop } from '../lib/bare-spawn.ts';
import { addBranches, benchRepo, refsFetched } from '../lib/branch-fixture.ts';
import { fmt, MB, type Figure } from '../lib/figure.ts';
import { sampleTrigger } from '../lib/trigger-sample.ts';
import { quantile, RunCounter, sleep, type World } from '../lib/world.ts';

export type DispatchOptions = { runs: number; latencySamples: number; concurrency: number; profileDir?: string };

export async function dispatchFigures(w: World, o: DispatchOptions): Promise<{ figures: Figure[]; upPeakRss: number; upIdleRss: number }> {
  const repo = await benchRepo(w.storage, w.nid, 'dispatch');
  const cfg = w.config('dispatch', { adapter: 'instant', concurrency: o.concurrency });
  const up = w.start('up-dispatch', ['up', '--config', cfg.file], o.profileDir ? [`--cpu-prof`, `--cpu-prof-dir=${o.profileDir}`] : undefined);
  await w.node.waitForSubscribers(1, 60_000);
  await up.waitForLog('worker started');
  await up.waitForLog('recorded baseline of storage; later changes start CI');
  await sleep(500);
  const upIdleRss = up.rss();
  const counter = new RunCounter(cfg.db);

  const names = Array.from({ length: o.latencySamples + o.runs }, (_, i) => `d${i}`);
  const branches = await addBranches(repo, w.nid, names);
  const message = sampleTrigger(w.nid, repo.rid, repo.base, `refs/namespaces/${w.nid}/refs/heads/x`);
  const adapter = w.adapters.instant;
  const env = w.env;

  // Idle latency: one event at a time, the pipeline idle before each.
  const bareLat = await bareLatencies(adapter, message, env, w.pipe, o.latencySamples, 100);
  w.pipe.clear();
  const lat: number[] = [];
  for (let i = 0; i < o.latencySamples; i++) {
    const b = branches[i];
    if (b === undefined) break;
    const t0 = performance.now();
    w.node.emit(refsFetched(w.nid, repo.rid, [b]));
    lat.push((await w.pipe.next()) - t0);
    await counter.waitFinished(i + 1, 30_000, 5);
    await sleep(100);
  }

  // Throughput: every event at once; the anchor before and after, averaged.
  const bareBefore = await bareLoop(adapter, message, env, o.runs, o.concurrency);
  const burst = branches.slice(o.latencySamples);
  const t0 = performance.now();
  for (const b of burst) w.node.emit(refsFetched(w.nid, repo.rid, [b]));
  const t1 = await counter.waitFinished(o.latencySamples + burst.length, 600_000, 10);
  const cibqRate = (burst.length / (t1 - t0)) * 1000;
  const bareAfter = await bareLoop(adapter, message, env, o.runs, o.concurrency);
  const bare = (bareBefore + bareAfter) / 2;
  w.pipe.clear();
  counter.close();

  const upPeakRss = up.peakRss();
  await w.stop(up);

  const ratio = cibqRate / bare;
  const p50 = quantile(lat, 0.5);
  const p99 = quantile(lat, 0.99);
  const bp50 = quantile(bareLat, 0.5);
  const bp99 = quantile(bareLat, 0.99);
  return {
    upPeakRss,
    upIdleRss,
    figures: [
      {
        id: 'dispatch',
        figure: `dispatch: ${o.runs} runs, one \`cibq up\`, concurrency ${o.concurrency}`,
        anchor: `bare spawn loop: ${fmt(bare)} runs/s`,
        target: 'ratio ≥ 0.8',
        value: `${fmt(ratio, 2)} (${fmt(cibqRate)} runs/s)`,
        met: ratio >= 0.8,
        data: { runs: o.runs, concurrency: o.concurrency, runsPerSecond: cibqRate, bareRunsPerSecond: bare, bareBefore, bareAfter, ratio },
      },
      {
        id: 'latency',
        figure: `idle latency: event → adapter started (${lat.length} events)`,
        anchor: `bare spawn: p50 ${fmt(bp50, 1)} ms, p99 ${fmt(bp99, 1)} ms`,
        target: 'p50 ≤ 10 ms, p99 ≤ 20 ms',
        value: `p50 ${fmt(p50, 1)} ms, p99 ${fmt(p99, 1)} ms`,
        met: p50 <= 10 && p99 <= 20,
        data: { samples: lat.length, p50Ms: p50, p99Ms: p99, bareP50Ms: bp50, bareP99Ms: bp99, upIdleRssMiB: upIdleRss / MB },
      },
    ],
  };
}
