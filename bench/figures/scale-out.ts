/**
 * Scale-out: runs of a 1 s adapter through `cibq producer`, `cibq reporter` and W worker processes
 * of concurrency C each, against the ideal wall time ceil(runs / (W·C)) seconds.
 */
import { addBranches, benchRepo, refsFetched } from '../lib/branch-fixture.ts';
import type { CibqProcess } from '../lib/cibq-process.ts';
import { fmt, type Figure } from '../lib/figure.ts';
import { RunCounter, sleep, type World } from '../lib/world.ts';

export type Shape = { workers: number; concurrency: number; runs: number };

export async function scaleOutFigures(w: World, shapes: readonly Shape[]): Promise<{ figures: Figure[]; peaks: Record<string, number> }> {
  await w.flushRedis();
  const repo = await benchRepo(w.storage, w.nid, 'scale-out');
  const cfg = w.config('scale-out', { adapter: 'second' });
  const reporter = w.start('reporter-scale', ['reporter', '--config', cfg.file]);
  const producer = w.start('producer-scale', ['producer', '--config', cfg.file]);
  await w.node.waitForSubscribers(1, 60_000);
  await producer.waitForLog('recorded baseline of storage; later changes start CI');
  const counter = new RunCounter(cfg.db);
  const figures: Figure[] = [];
  let workerPeak = 0;
  let done = 0;
  for (const [k, s] of shapes.entries()) {
    const workers: CibqProcess[] = [];
    for (let i = 0; i < s.workers; i++) {
      workers.push(w.start(`worker-scale-${k}-${i}`, ['worker', '--config', cfg.file, '--concurrency', String(s.concurrency), '--name', `bench-${k}-${i}`]));
    }
    for (const p of workers) await p.waitForLog('worker started');
    const branches = await addBranches(repo, w.nid, Array.from({ length: s.runs }, (_, i) => `s${k}-${i}`));
    await sleep(200);
    const t0 = performance.now();
    // As a node announces a fetch: one event per 50 refs.
    for (let i = 0; i < branches.length; i += 50) w.node.emit(refsFetched(w.nid, repo.rid, branches.slice(i, i + 50)));
    done += s.runs;
    const t1 = await counter.waitFinished(done, 900_000, 20);
    const wall = (t1 - t0) / 1000;
    const slots = s.workers * s.concurrency;
    const ideal = Math.ceil(s.runs / slots);
    const efficiency = ideal / wall;
    for (const p of workers) {
      workerPeak = Math.max(workerPeak, p.peakRss());
      await w.stop(p);
    }
    figures.push({
      id: `scale-out-${s.workers}x${s.concurrency}`,
      figure: `scale-out: ${s.runs} runs of a 1 s adapter, ${s.workers} worker${s.workers === 1 ? '' : 's'} × ${s.concurrency}`,
      anchor: `ideal ${ideal} s`,
      target: 'efficiency ≥ 0.9',
      value: `${fmt(efficiency, 2)} (${fmt(wall, 1)} s)`,
      met: efficiency >= 0.9,
      data: { runs: s.runs, workers: s.workers, concurrency: s.concurrency, wallSeconds: wall, idealSeconds: ideal, efficiency },
    });
  }
  counter.close();
  const peaks = { producer: producer.peakRss(), reporter: reporter.peakRss(), worker: workerPeak };
  await w.stop(producer);
  await w.stop(reporter);
  return { figures, peaks };
}
