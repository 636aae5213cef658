/**
 * Memory under log pressure: one `cibq up` (worker concurrency N) running N adapters at once, each
 * writing 5 MB to stderr. Also its resident set size idle, before any run.
 */
import { addBranches, benchRepo, refsFetched } from '../lib/branch-fixture.ts';
import { fmt, MB, type Figure } from '../lib/figure.ts';
import { RunCounter, sleep, type World } from '../lib/world.ts';

export async function logMemoryFigure(w: World, adapters: number): Promise<{ figure: Figure; upPeak: number; upIdle: number }> {
  await w.flushRedis();
  const repo = await benchRepo(w.storage, w.nid, 'log-memory');
  const cfg = w.config('log-memory', { adapter: 'chatty', concurrency: adapters });
  const up = w.start('up-logs', ['up', '--config', cfg.file]);
  await w.node.waitForSubscribers(1, 60_000);
  await up.waitForLog('worker started');
  await up.waitForLog('recorded baseline of storage; later changes start CI');
  await sleep(1000);
  const upIdle = up.rss();
  const branches = await addBranches(repo, w.nid, Array.from({ length: adapters }, (_, i) => `l${i}`));
  const counter = new RunCounter(cfg.db);
  const t0 = performance.now();
  w.node.emit(refsFetched(w.nid, repo.rid, branches));
  const t1 = await counter.waitFinished(adapters, 600_000, 50);
  counter.close();
  await sleep(1000); // the last page writes
  const upPeak = up.peakRss();
  await w.stop(up);
  const peakMb = upPeak / MB;
  return {
    upPeak,
    upIdle,
    figure: {
      id: 'rss-logs',
      figure: `peak RSS of \`cibq up\`, ${adapters} adapters each writing 5 MB of log`,
      anchor: `idle before the runs: ${fmt(upIdle / MB)} MB`,
      target: '≤ 150 MB',
      value: `${fmt(peakMb)} MB (${fmt((t1 - t0) / 1000, 1)} s)`,
      met: peakMb <= 150,
      data: { adapters, peakRssMiB: peakMb, idleRssMiB: upIdle / MB, seconds: (t1 - t0) / 1000 },
    },
  };
}
