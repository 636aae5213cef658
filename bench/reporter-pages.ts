/**
 * Report page writing at scale, in two cases: 100,000 runs over 50 repositories (branches, tags and
 * patches), and 100,000 runs in one repository on one branch. For each it prints the time of a full
 * regeneration, and the time and the files written when one more run is recorded, when it then
 * finishes, and when a run starts a new list page (incremental).
 *
 *   node_modules/.bin/node --disable-warning=ExperimentalWarning bench/reporter-pages.ts [runs] [repos]
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyUpdate } from '../src/db/apply-update.ts';
import type { ReportInfo } from '../src/reporter/pages/report-info.ts';
import { writeReportChanges, writeReports, type WriteStats } from '../src/reporter/pages/report-writer.ts';
import { PAGE_SIZE } from '../src/reporter/pages/paths.ts';
import { openDb, optimizeDb } from '../src/db/open-db.ts';
import type { RunSubject } from '../src/model/run.ts';
import { finished, oneBranchSubject, spreadSubject } from './lib/run-history.ts';

const RUNS = Number(process.argv[2] ?? 100_000);
const REPOS = Number(process.argv[3] ?? 50);
async function countFiles(dir: string): Promise<number> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).length;
}

const ms = (t0: number): string => `${(performance.now() - t0).toFixed(0)} ms`;

async function scenario(label: string, subject: (i: number) => RunSubject): Promise<void> {
  console.log(`\n== ${label}`);
  const dir = await mkdtemp(join(tmpdir(), 'cibq-bench-'));
  try {
    const db = openDb(join(dir, 'runs.sqlite'));
        let t0 = performance.now();
    db.exec('BEGIN');
    for (let i = 0; i < RUNS; i++) applyUpdate(db, finished(subject(i), i));
    db.exec('COMMIT');
    optimizeDb(db); // as the reporter does at start
    console.log(`filled ${RUNS} runs in ${ms(t0)}`);

    const reportDir = join(dir, 'report');
    const info = (): ReportInfo => ({
      version: 'bench',
      queueLength: 0,
      now: new Date(),
      queues: [{ adapter: 'native', waiting: 0, running: 1 }],
    });

    t0 = performance.now();
    const full = await writeReports(db, reportDir, info());
    console.log(`full regeneration: ${ms(t0)}, ${full.written.length} files written (${await countFiles(reportDir)} in report)`);

    t0 = performance.now();
    const again = await writeReports(db, reportDir, info());
    console.log(`full regeneration, nothing changed: ${ms(t0)}, ${again.written.length} files written`);

    const s = subject(RUNS);
    t0 = performance.now();
    applyUpdate(db, { subject: s, state: 'queued', at: s.queued_at });
    const added = await writeReportChanges(db, reportDir, info(), { runIds: [s.id] });
    console.log(`one more run (queued): ${ms(t0)}, ${added.written.length} files written:`);
    console.log(`  ${summarize(added.written)}`);

    t0 = performance.now();
    applyUpdate(db, finished(s, RUNS));
    const done = await writeReportChanges(db, reportDir, info(), { runIds: [s.id] });
    console.log(`that run finishes: ${ms(t0)}, ${done.written.length} files written:`);
    console.log(`  ${summarize(done.written)}`);

    // Enough more runs to start a new page (in the one-repository case): the pages linking to it change too.
    const first = RUNS + 1;
    const toFill = PAGE_SIZE - (first % PAGE_SIZE) + 1;
    t0 = performance.now();
    let newPage: WriteStats = { written: [], removed: [], awaitingAttestation: [] };
    for (let i = first; i < first + toFill; i++) {
      const next = subject(i);
      applyUpdate(db, { subject: next, state: 'queued', at: next.queued_at });
      newPage = await writeReportChanges(db, reportDir, info(), { runIds: [next.id] });
    }
    console.log(`${toFill} more runs, one at a time: ${ms(t0)}; the last wrote ${newPage.written.length} files:`);
    console.log(`  ${summarize(newPage.written)}`);

    t0 = performance.now();
    const idle = await writeReportChanges(db, reportDir, info(), {});
    console.log(`index refresh only: ${ms(t0)}, ${idle.written.length} files written`);
    db.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await scenario(`${RUNS} runs over ${REPOS} repositories (branches, tags, patches)`, (i) => spreadSubject(i, REPOS));
await scenario(`${RUNS} runs in one repository, on one branch`, oneBranchSubject);

function summarize(files: string[]): string {
  const kinds = new Map<string, number>();
  for (const f of files) {
    const k = f
      .replace(/^repos\/[^/]+\/branches\/[^/]+\//, 'repos/<rid>/branches/<b>/')
      .replace(/^repos\/[^/]+\/patches\/[^/]+\//, 'repos/<rid>/patches/<p>/')
      .replace(/^repos\/[^/]+\//, 'repos/<rid>/')
      .replace(/^badges\/[^/]+\/.*/, 'badges/<rid>/<b>.svg')
      .replace(/^runs\/.*/, 'runs/<id>.html')
      .replace(/page-\d+\.html$/, 'page-N.html');
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
  }
  return [...kinds].map(([k, n]) => `${k} ×${n}`).join(', ');
}
