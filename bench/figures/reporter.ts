/**
 * The reporter with a large history (100,000 runs over 50 repositories): a full regeneration (the
 * reporter's start on an empty report dir), a start with nothing changed, and recording one more
 * run (the work of one page flush: SQLite, then every page it touches), against the full
 * regeneration's time and bytes.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { applyUpdate } from '../../src/db/apply-update.ts';
import { writeReportChanges } from '../../src/reporter/pages/report-writer.ts';
import { openDb } from '../../src/db/open-db.ts';
import { fmt, MB, type Figure } from '../lib/figure.ts';
import { finished, spreadSubject } from '../lib/run-history.ts';
import type { World } from '../lib/world.ts';

export type ReporterOptions = { runs: number; repos: number };

/** Messages the reporter logs once its start-up work on the pages is done. */
export const REPORT_READY = ['report regenerated', 'report up to date'];

function dirBytes(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    files++;
    bytes += statSync(path.join(e.parentPath, e.name)).size;
  }
  return { files, bytes };
}

function bytesOf(dir: string, rels: readonly string[]): number {
  return rels.reduce((n, r) => n + statSync(path.join(dir, r)).size, 0);
}

export async function reporterFigures(w: World, o: ReporterOptions, log: (s: string) => void): Promise<{ figures: Figure[]; reporterPeak: number }> {
  await w.flushRedis();
  const cfg = w.config('history', { adapter: 'instant' });
  log(`reporter: filling the database with ${fmt(o.runs)} runs`);
  let db = openDb(cfg.db);
  let t0 = performance.now();
  db.exec('BEGIN');
  for (let i = 0; i < o.runs; i++) applyUpdate(db, finished(spreadSubject(i, o.repos), i));
  db.exec('COMMIT');
  const fillMs = performance.now() - t0;
  db.close();

  log('reporter: full regeneration (start on an empty report dir)');
  t0 = performance.now();
  let reporter = w.start('reporter-full', ['reporter', '--config', cfg.file]);
  await reporter.waitForLog(REPORT_READY, 900_000);
  const fullMs = performance.now() - t0;
  let peak = reporter.peakRss();
  await w.stop(reporter);
  const full = dirBytes(cfg.reportDir);

  log('reporter: start with nothing changed');
  t0 = performance.now();
  reporter = w.start('reporter-again', ['reporter', '--config', cfg.file]);
  await reporter.waitForLog(REPORT_READY, 900_000);
  const startMs = performance.now() - t0;
  peak = Math.max(peak, reporter.peakRss());
  await w.stop(reporter);

  log('reporter: record one more run');
  db = openDb(cfg.db);
  const info = () => ({ version: '0.1.0', queueLength: 0, now: new Date(), queues: [{ adapter: 'bench', waiting: 0, running: 1 }], workers: [] });
  const s = spreadSubject(o.runs, o.repos);
  // A running reporter has compiled its templates and prepared its queries long before a run comes
  // in (it refreshes index.html every 30 s): the same pass once here, so the figure measures the
  // recording, not this bench process's warm-up (kept apart as coldMs).
  t0 = performance.now();
  await writeReportChanges(db, cfg.reportDir, info(), {});
  const coldMs = performance.now() - t0;
  t0 = performance.now();
  applyUpdate(db, { subject: s, state: 'queued', at: s.queued_at, attempts: 0 });
  const queued = await writeReportChanges(db, cfg.reportDir, info(), { runIds: [s.id] });
  const queuedMs = performance.now() - t0;
  const queuedBytes = bytesOf(cfg.reportDir, queued.written);
  t0 = performance.now();
  applyUpdate(db, finished(s, o.runs));
  const done = await writeReportChanges(db, cfg.reportDir, info(), { runIds: [s.id] });
  const doneMs = performance.now() - t0;
  const doneBytes = bytesOf(cfg.reportDir, done.written);
  db.close();
  const recordMs = Math.max(queuedMs, doneMs);
  const recordBytes = Math.max(queuedBytes, doneBytes);
  const share = recordBytes / full.bytes;

  return {
    reporterPeak: peak,
    figures: [
      {
        id: 'reporter-record',
        figure: `reporter, ${fmt(o.runs)} runs stored: record one more run, every affected page up to date`,
        anchor: `full regeneration: ${fmt(full.bytes / MB)} MB in ${fmt(full.files)} files`,
        target: '≤ 50 ms and ≤ 1% of its bytes',
        value: `${fmt(recordMs, 1)} ms, ${fmt(recordBytes / 1024)} KB (${fmt(share * 100, 3)}%)`,
        met: recordMs <= 50 && share <= 0.01,
        data: {
          coldMs,
          queuedMs,
          queuedBytes,
          queuedFiles: queued.written.length,
          finishedMs: doneMs,
          finishedBytes: doneBytes,
          finishedFiles: done.written.length,
          fullBytes: full.bytes,
          fullFiles: full.files,
          share,
        },
      },
      {
        id: 'reporter-start',
        figure: `reporter start, ${fmt(o.runs)} runs stored, nothing changed`,
        anchor: '–',
        target: '≤ 1 s',
        value: `${fmt(startMs / 1000, 2)} s`,
        met: startMs <= 1000,
        data: { startMs },
      },
      {
        id: 'reporter-full',
        figure: `full regeneration of ${fmt(o.runs)} runs (reporter start, empty report dir)`,
        anchor: `filling the database: ${fmt(fillMs / 1000, 1)} s`,
        target: '≤ 20 s',
        value: `${fmt(fullMs / 1000, 1)} s`,
        met: fullMs <= 20_000,
        data: { fullMs, fillMs },
      },
    ],
  };
}
