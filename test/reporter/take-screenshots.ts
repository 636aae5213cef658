/**
 * Builds a realistic demo report and saves screenshots of its index and a run page for the README:
 *   node_modules/.bin/node --disable-warning=ExperimentalWarning test/reporter/take-screenshots.ts
 * writes docs/screenshots/report-index.png and docs/screenshots/report-run.png.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { applyUpdate } from '../../src/db/apply-update.ts';
import { writeReports } from '../../src/reporter/pages/report-writer.ts';
import { openDb } from '../../src/db/open-db.ts';
import type { RunResult, RunSubject } from '../../src/model/run.ts';
import { launchBrowser } from '../helpers/browser.ts';

const OUT = join(import.meta.dirname, '../../docs/screenshots');
const NOW = new Date('2026-03-02T14:30:00Z');
const NID = 'z6MkiB8T5cBEQHnrs2MgjMVqvpSVj42X81HjKfFi2XBoMbtr';
const REPOS = [
  { rid: 'rad:z3gqcJUoA1n9HaHKufZs5FCSGazv5', name: 'heartwood', branches: ['master', 'release/1.2'] },
  { rid: 'rad:zwTxygwuz5LDGBq255RA2CbNGrz8', name: 'radicle-ci-broker', branches: ['main'] },
  { rid: 'rad:z4V1sjrXqjvFdnCUbxPFqd5p4DtH5', name: 'radicle-explorer', branches: ['main', 'feature/dark-mode'] },
];
const TITLES = ['cli: add `rad ci` command', 'node: fix <announce> race on startup', 'docs: explain seeding policies'];
const LOG = [
  '\x1b[1m$ cargo build --release\x1b[0m',
  '\x1b[1;32m   Compiling\x1b[0m radicle v0.14.0',
  '\x1b[1;32m    Finished\x1b[0m `release` profile [optimized] in 1m 41s',
  '\x1b[1m$ cargo test --workspace\x1b[0m',
  'running 412 tests',
  'test storage::refs::tests::sign_refs ... \x1b[32mok\x1b[0m',
  'test node::routing::tests::prune ... \x1b[31mFAILED\x1b[0m',
  '',
  '\x1b[1;31merror\x1b[0m: test failed, to rerun pass `-p radicle-node --lib`',
  '',
].join('\n');

const hex = (n: number) => n.toString(16).padStart(8, '0').repeat(5);
const iso = (minutesAgo: number) => new Date(NOW.getTime() - minutesAgo * 60_000).toISOString();

const dir = await mkdtemp(join(tmpdir(), 'cibq-shot-'));
try {
  const db = openDb(join(dir, 'runs.sqlite'));
  let n = 0;
  const add = (s: Omit<RunSubject, 'id' | 'adapter' | 'author' | 'commit' | 'private'>, minutesAgo: number, result: RunResult | 'running', log?: string) => {
    n++;
    const subject: RunSubject = {
      ...s,
      id: `0197${hex(n).slice(0, 4)}-7a2b-4c39-9a51-${hex(n * 7919).slice(0, 12)}`,
      adapter: n % 4 === 0 ? 'podman' : 'native',
      author: `did:key:${NID}`,
      commit: hex(n * 104729),
      private: false,
    };
    applyUpdate(db, { subject, state: 'triggered', at: iso(minutesAgo - 0.1), attempts: 1, worker: 'ci-1/4242' });
    applyUpdate(db, { subject, state: 'running', at: iso(minutesAgo - 0.15), attempts: 1, adapter_run_id: `nat-${n}`, info_url: `https://ci.example.org/runs/${n}` });
    if (result !== 'running') {
      applyUpdate(db, {
        subject, state: 'finished', at: iso(minutesAgo - 3 - (n % 5)), attempts: 1, result,
        ...(result === 'failure' ? { reason: 'adapter reported failure', exit_code: 101, log: log ?? LOG } : { exit_code: 0, log: log ?? LOG.split('\n').slice(0, 6).join('\n') }),
      });
    }
  };
  for (const [ri, r] of REPOS.entries()) {
    for (let i = 0; i < 30; i++) {
      const branch = r.branches[i % r.branches.length] as string;
      const result: RunResult = i % 7 === 3 ? 'failure' : i % 11 === 5 ? 'timeout' : 'success';
      add({ repo: r.rid, repo_name: r.name, event_type: 'push', ref: `refs/namespaces/${NID}/refs/heads/${branch}`, patch: null, title: null, queued_at: iso(3000 - i * 90 - ri * 7) }, 3000 - i * 90 - ri * 7, result);
    }
    const patch = hex(9000 + ri);
    add({ repo: r.rid, repo_name: r.name, event_type: 'patch', ref: `refs/heads/patches/${patch}`, patch, title: TITLES[ri] as string, queued_at: iso(40 - ri * 10) }, 40 - ri * 10, ri === 1 ? 'failure' : 'success');
  }
  add({ repo: REPOS[0]!.rid, repo_name: 'heartwood', event_type: 'push', ref: `refs/namespaces/${NID}/refs/heads/master`, patch: null, title: null, queued_at: iso(2) }, 2, 'running');
  const reportDir = join(dir, 'report');
  await writeReports(db, reportDir, {
    version: '0.3.0', queueLength: 2, now: NOW, gitCommit: '5b4e1fe',
    queues: [{ adapter: 'native', waiting: 2, running: 1 }, { adapter: 'podman', waiting: 0, running: 0 }],
    workers: [
      { name: 'ci-1/4242', host: 'ci-1', pid: 4242, adapters: ['native', 'podman'], concurrency: 2, version: '0.3.0', running: [{ run_id: 'x', adapter: 'native', since: iso(2) }], started_at: iso(600), seen_at: iso(0.1), state: 'running' },
      { name: 'ci-2/977', host: 'ci-2', pid: 977, adapters: ['native'], concurrency: 4, version: '0.3.0', running: [], started_at: iso(900), seen_at: iso(0.2), state: 'running' },
    ],
  });
  const failing = db.prepare(`SELECT id FROM runs WHERE event_type = 'patch' AND result = 'failure'`).get()?.['id'];
  const browser = await launchBrowser();
  await mkdir(OUT, { recursive: true });
  const index = await browser.open(pathToFileURL(join(reportDir, 'index.html')).href, { width: 1100, height: 900 });
  await index.screenshot({ path: join(OUT, 'report-index.png'), fullPage: false });
  const run = await browser.open(pathToFileURL(join(reportDir, 'runs', `${String(failing)}.html`)).href, { width: 1100, height: 900 });
  await run.screenshot({ path: join(OUT, 'report-run.png'), fullPage: true });
  await browser.close();
  db.close();
  console.log(`wrote ${join(OUT, 'report-index.png')} and report-run.png`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
