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
import type { RunSubject, RunUpdate } from '../src/model/run.ts';

const RUNS = Number(process.argv[2] ?? 100_000);
const REPOS = Number(process.argv[3] ?? 50);
const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

function rid(i: number): string {
  let s = '';
  for (let n = i + 1000; s.length < 28; n = Math.floor(n / 7) + 31 * s.length + 1) s += B58[n % 58];
  return `rad:z${s}`;
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0').repeat(5);
}

function subjectFor(i: number, base: number): RunSubject {
  const repo = i % REPOS;
  const kind = i % 10;
  const isPatch = kind >= 7;
  const branch = ['main', 'main', 'main', 'develop', `feature/f${i % 7}`, 'release/1.x', 'main'][kind % 7] as string;
  const patch = hex(repo * 1000 + (Math.floor(i / REPOS) % 40));
  return {
    id: `run-${String(i).padStart(7, '0')}`,
    adapter: i % 3 === 0 ? 'podman' : 'native',
    repo: rid(repo),
    repo_name: `project-${repo}`,
    event_type: isPatch ? 'patch' : 'push',
    ref: isPatch ? `refs/heads/patches/${patch}` : `refs/namespaces/z6MkNode/refs/heads/${branch}`,
    patch: isPatch ? patch : null,
    title: isPatch ? `Improve <thing> #${i % 40}` : null,
    author: 'did:key:z6MkiB8T5cBEQHnrs2MgjMVqvpSVj42X81HjKfFi2XBoMbtr',
    commit: hex(i),
    private: false,
    queued_at: new Date(base + i * 60_000).toISOString(),
  };
}

function finished(s: RunSubject, i: number): RunUpdate {
  const at = new Date(Date.parse(s.queued_at) + 45_000 + (i % 300) * 1000).toISOString();
  return {
    subject: s,
    state: 'finished',
    at,
    attempts: 1,
    result: i % 11 === 0 ? 'failure' : 'success',
    exit_code: i % 11 === 0 ? 1 : 0,
    adapter_run_id: `ar-${i}`,
    log: `\x1b[32mCompiling\x1b[0m project v0.1.0\nrunning ${i % 50} tests\ntest result: ok\n`,
  };
}

async function countFiles(dir: string): Promise<number> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).length;
}

const ms = (t0: number): string => `${(performance.now() - t0).toFixed(0)} ms`;

/** The runs of the second case: all in one repository, on one branch. */
function oneBranchSubject(i: number, base: number): RunSubject {
  return {
    ...subjectFor(i, base),
    repo: rid(0),
    repo_name: 'monorepo',
    event_type: 'push',
    ref: 'refs/namespaces/z6MkNode/refs/heads/main',
    patch: null,
    title: null,
  };
}

async function scenario(label: string, subject: (i: number, base: number) => RunSubject): Promise<void> {
  console.log(`\n== ${label}`);
  const dir = await mkdtemp(join(tmpdir(), 'cibq-bench-'));
  try {
    const db = openDb(join(dir, 'runs.sqlite'));
    const base = Date.parse('2024-01-01T00:00:00Z');
    let t0 = performance.now();
    db.exec('BEGIN');
    for (let i = 0; i < RUNS; i++) applyUpdate(db, finished(subject(i, base), i));
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

    const s = subject(RUNS, base);
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
      const next = subject(i, base);
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

await scenario(`${RUNS} runs over ${REPOS} repositories (branches, tags, patches)`, subjectFor);
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
