/**
 * `npm run bench`: every figure of issue 11's targets, each measured side by side with the limit
 * or anchor it is held against, in one run on this machine. Prints one table and the environment,
 * and writes bench/results.json. `--quick` runs a smaller version of each figure (a smoke test of
 * the bench, not figures to quote); `--only a,b` runs some figures (dispatch, scale-out, ingest,
 * reporter, log-memory); `--profile DIR` writes CPU profiles of the cibq processes to DIR.
 *
 *   node --disable-warning=ExperimentalWarning bench/run.ts [--quick] [--only LIST] [--profile DIR]
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { dispatchFigures } from './figures/dispatch.ts';
import { ingestFigure } from './figures/ingest.ts';
import { logMemoryFigure } from './figures/log-memory.ts';
import { reporterFigures } from './figures/reporter.ts';
import { scaleOutFigures } from './figures/scale-out.ts';
import { environment } from './lib/environment.ts';
import { fmt, MB, table, type Figure } from './lib/figure.ts';
import { World } from './lib/world.ts';

const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, profile: { type: 'string' } },
});
const quick = values.quick === true;
const only = values.only === undefined ? null : new Set(values.only.split(','));
const wanted = (name: string): boolean => only === null || only.has(name);
const profileDir = values.profile === undefined ? undefined : path.resolve(values.profile);

const env = environment();
const started = performance.now();
const figures: Figure[] = [];
const peaks: Record<string, number> = {};
const log = (s: string): void => void process.stderr.write(`bench: ${s}\n`);

const w = await World.create();
try {
  if (wanted('dispatch')) {
    log('dispatch and idle latency');
    const d = await dispatchFigures(w, { runs: quick ? 60 : 200, latencySamples: quick ? 10 : 40, concurrency: 4, ...(profileDir ? { profileDir } : {}) });
    figures.push(...d.figures);
    peaks['up (dispatch)'] = d.upPeakRss;
  }
  if (wanted('scale-out')) {
    log('scale-out');
    const shapes = quick
      ? [{ workers: 1, concurrency: 1, runs: 5 }, { workers: 1, concurrency: 8, runs: 40 }, { workers: 4, concurrency: 8, runs: 96 }]
      : // 1×1 with 200 runs would take 200 s alone; efficiency is per run, so 30 runs show it as well.
        [{ workers: 1, concurrency: 1, runs: 30 }, { workers: 1, concurrency: 8, runs: 200 }, { workers: 4, concurrency: 8, runs: 200 }];
    const s = await scaleOutFigures(w, shapes);
    figures.push(...s.figures);
    for (const [k, v] of Object.entries(s.peaks)) peaks[k] = Math.max(peaks[k] ?? 0, v);
  }
  if (wanted('ingest')) {
    log('producer ingest');
    const i = await ingestFigure(w, { ...(quick ? { repos: 10, perRepo: 500, perEvent: 50 } : { repos: 100, perRepo: 500, perEvent: 50 }), ...(profileDir ? { profileDir } : {}) }, log);
    figures.push(i.figure);
    peaks['producer'] = Math.max(peaks['producer'] ?? 0, i.producerPeak);
  }
  if (wanted('reporter')) {
    const r = await reporterFigures(w, quick ? { runs: 10_000, repos: 50 } : { runs: 100_000, repos: 50 }, log);
    figures.push(...r.figures);
    peaks['reporter'] = Math.max(peaks['reporter'] ?? 0, r.reporterPeak);
  }
  if (wanted('log-memory')) {
    log('memory under log pressure');
    const m = await logMemoryFigure(w, quick ? 20 : 60);
    figures.push(m.figure);
    peaks['up (logs)'] = m.upPeak;
  }
  const processPeaks = ['producer', 'worker', 'reporter'].filter((k) => peaks[k] !== undefined);
  if (processPeaks.length > 0) {
    const worst = Math.max(...processPeaks.map((k) => peaks[k] ?? 0)) / MB;
    figures.push({
      id: 'rss-processes',
      figure: 'peak RSS of producer, worker, reporter during the figures above',
      anchor: '–',
      target: '≤ 150 MB each',
      value: processPeaks.map((k) => `${k} ${fmt((peaks[k] ?? 0) / MB)} MB`).join(', '),
      met: worst <= 150,
      data: Object.fromEntries(processPeaks.map((k) => [`${k}MiB`, (peaks[k] ?? 0) / MB])),
    });
  }
} finally {
  await w.close();
}

const seconds = (performance.now() - started) / 1000;
const rss = Object.entries(peaks).map(([k, v]) => `${k} ${fmt(v / MB)} MB`).join(', ');
console.log(`\ncibq bench${quick ? ' (--quick)' : ''}: ${env.cpu}, ${env.cores} cores, ${env.memoryGiB} GiB; Node ${env.node}, Redis ${env.redis}, SQLite ${env.sqlite}, git ${env.git}; load average ${env.loadAverage} at start; ${fmt(seconds)} s\n`);
console.log(table(figures));
if (rss !== '') console.log(`\npeak RSS: ${rss}`);
const out = path.join(import.meta.dirname, quick ? 'results-quick.json' : 'results.json');
writeFileSync(out, `${JSON.stringify({ quick, at: new Date().toISOString(), seconds, environment: env, figures, peakRssBytes: peaks }, null, 2)}\n`);
console.log(`\nwrote ${path.relative(process.cwd(), out)}`);
