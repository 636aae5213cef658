import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { applyUpdate } from '../../../src/db/apply-update.ts';
import type { ReportInfo } from '../../../src/reporter/pages/report-info.ts';
import { writeReportChanges, writeReports } from '../../../src/reporter/pages/report-writer.ts';
import { pruneRuns } from '../../../src/db/retention.ts';
import { openDb } from '../../../src/db/open-db.ts';
import { RID_A, RID_B, RID_PRIVATE, subject, update } from '../fixtures.ts';

const A = RID_A.slice(4);
const B = RID_B.slice(4);
const RID_C = 'rad:z3ppWCf2Lc6wU3QBSk4Pz2ogVPtLZ';
const C = RID_C.slice(4);
const OLD = new Date('2000-01-01T00:00:00Z');
const INFO: ReportInfo = { version: '0.1.0', queueLength: 0, now: new Date('2024-06-01T00:00:00Z') };
const PATCH = 'd'.repeat(40);

let dir: string;
let reportDir: string;
let db: DatabaseSync;

function at(minute: number): string {
  return new Date(Date.parse('2024-05-01T00:00:00Z') + minute * 60_000).toISOString();
}

function run(id: string, minute: number, over: Parameters<typeof subject>[0] = {}) {
  return subject({ id, queued_at: at(minute), ref: 'refs/heads/main', ...over });
}

function finish(s: ReturnType<typeof subject>, result: 'success' | 'failure' = 'success'): void {
  applyUpdate(db, update(s, 'finished', new Date(Date.parse(s.queued_at) + 30_000).toISOString(), { result }));
}

async function files(): Promise<string[]> {
  return (await readdir(reportDir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(reportDir.length + 1))
    .sort();
}

/** Marks every file as old, so a rewrite shows in its mtime. */
async function age(): Promise<void> {
  for (const f of await files()) await utimes(join(reportDir, f), OLD, OLD);
}

async function touched(): Promise<string[]> {
  const out: string[] = [];
  for (const f of await files()) if ((await stat(join(reportDir, f))).mtimeMs !== OLD.getTime()) out.push(f);
  return out;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cibq-inc-'));
  reportDir = join(dir, 'report');
  db = openDb(join(dir, 'runs.sqlite'));
  for (let i = 0; i < 60; i++) finish(run(`main-${String(i).padStart(2, '0')}`, i));
  for (let i = 0; i < 3; i++) finish(run(`dev-${i}`, 100 + i, { ref: 'refs/heads/dev' }));
  for (let i = 0; i < 2; i++) {
    finish(run(`patch-${i}`, 200 + i, { event_type: 'patch', ref: `refs/heads/patches/${PATCH}`, patch: PATCH, title: 'Fix' }));
  }
  for (let i = 0; i < 5; i++) finish(run(`b-${i}`, i, { repo: RID_B, repo_name: 'other' }));
  await writeReports(db, reportDir, INFO);
});

after(async () => {
  db?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('incremental writes', () => {
  test('the full report has stable list pages per repository, branch and patch, 50 runs each, oldest first', async () => {
    const all = await files();
    for (const f of [
      `repos/${A}/index.html`, `repos/${A}/page-1.html`, `repos/${A}/page-2.html`, `repos/${A}/runs.json`,
      `repos/${A}/branches/main/index.html`, `repos/${A}/branches/main/page-1.html`, `repos/${A}/branches/main/page-2.html`,
      `repos/${A}/branches/dev/index.html`, `repos/${A}/branches/dev/page-1.html`,
      `repos/${A}/patches/${PATCH}/index.html`, `badges/${A}/main.svg`, `badges/${A}/dev.svg`,
      `repos/${B}/index.html`, `badges/${B}/main.svg`, 'runs/main-00.html', 'runs/patch-1.html',
    ]) {
      assert.ok(all.includes(f), f);
    }
    assert.ok(!all.includes(`repos/${A}/page-3.html`));
    assert.ok(!all.includes(`repos/${A}/branches/dev/page-2.html`));
    assert.equal(all.filter((f) => f.startsWith('runs/')).length, 70);
    // Page 1 holds the 50 oldest runs (newest first); index.html is the newest page.
    const page1 = await readFile(join(reportDir, `repos/${A}/branches/main/page-1.html`), 'utf8');
    assert.ok(page1.includes('main-49') && page1.includes('main-00') && !page1.includes('main-50'));
    assert.ok(page1.indexOf('main-49') < page1.indexOf('main-00'));
    const index = await readFile(join(reportDir, `repos/${A}/branches/main/index.html`), 'utf8');
    assert.ok(index.includes('main-59') && index.includes('main-50') && !index.includes('main-49'));
  });

  test('a new run rewrites its own page, the newest list page and index.html of its scopes: no older page', async () => {
    await age();
    const s = run('dev-new', 300, { ref: 'refs/heads/dev' });
    applyUpdate(db, update(s, 'queued', s.queued_at));
    const stats = await writeReportChanges(db, reportDir, INFO, { runIds: [s.id] });
    const expected = [
      `badges/${A}/dev.svg`,
      `repos/${A}/branches/dev/index.html`,
      `repos/${A}/branches/dev/page-1.html`,
      `repos/${A}/index.html`,
      `repos/${A}/page-2.html`, // the newest page of the repository; page-1.html is untouched
      `repos/${A}/runs.json`,
      'index.html',
      'runs/dev-new.html',
      'status.json',
    ].sort();
    assert.deepEqual(stats.written, expected);
    assert.deepEqual(stats.removed, []);
    assert.deepEqual(await touched(), expected, 'no other file was rewritten');
    assert.match(await readFile(join(reportDir, `badges/${A}/dev.svg`), 'utf8'), />queued</);
  });

  test('a run that changes state rewrites only the pages showing it', async () => {
    await age();
    finish(run('dev-new', 300, { ref: 'refs/heads/dev' }), 'failure');
    const stats = await writeReportChanges(db, reportDir, INFO, { runIds: ['dev-new'] });
    const expected = [
      `badges/${A}/dev.svg`,
      `repos/${A}/branches/dev/index.html`,
      `repos/${A}/branches/dev/page-1.html`,
      `repos/${A}/index.html`,
      `repos/${A}/page-2.html`,
      `repos/${A}/runs.json`,
      'index.html',
      'runs/dev-new.html',
      'status.json',
    ].sort();
    assert.deepEqual(stats.written, expected);
    assert.deepEqual(await touched(), expected);
    assert.match(await readFile(join(reportDir, `badges/${A}/dev.svg`), 'utf8'), />failure</);
    const json = JSON.parse(await readFile(join(reportDir, `repos/${A}/runs.json`), 'utf8')) as {
      runs_total: number;
      recent_runs: { id: string; result: string }[];
      latest_per_branch: Record<string, { id: string }>;
    };
    assert.equal(json.runs_total, 66);
    assert.deepEqual(json.recent_runs[0], { ...json.recent_runs[0], id: 'dev-new', result: 'failure' });
    assert.equal(json.recent_runs.length, 50);
    assert.deepEqual(Object.keys(json.latest_per_branch).sort(), ['dev', 'main']);
  });

  test('a new page: the run starts it, and only the pages linking to it change', async () => {
    // 250 runs in one repository: five full pages; the 251st starts page 6.
    for (let i = 0; i < 250; i++) {
      const c = run(`c-${String(i).padStart(3, '0')}`, 1000 + i, { repo: RID_C, repo_name: 'big' });
      if (i === 10) applyUpdate(db, update(c, 'running', c.queued_at));
      else finish(c);
    }
    await writeReports(db, reportDir, INFO);
    await age();
    const s = run('c-250', 1250, { repo: RID_C, repo_name: 'big' });
    applyUpdate(db, update(s, 'queued', s.queued_at));
    const stats = await writeReportChanges(db, reportDir, INFO, { runIds: [s.id] });
    const lists = stats.written.filter((f) => f.startsWith(`repos/${C}/`) && f.endsWith('.html') && !f.includes('/branches/'));
    // page-3 … page-5 link up to three pages ahead; page-1 and page-2 stay as they are.
    assert.deepEqual(lists, ['index.html', 'page-3.html', 'page-4.html', 'page-5.html', 'page-6.html'].map((f) => `repos/${C}/${f}`));
    assert.deepEqual(
      stats.written.filter((f) => f.includes('/branches/')),
      ['index.html', 'page-3.html', 'page-4.html', 'page-5.html', 'page-6.html'].map((f) => `repos/${C}/branches/main/${f}`),
    );
    const page6 = await readFile(join(reportDir, `repos/${C}/page-6.html`), 'utf8');
    assert.ok(page6.includes('c-250') && !page6.includes('c-249'));
    const page5 = await readFile(join(reportDir, `repos/${C}/page-5.html`), 'utf8');
    assert.match(page5, /class="newer" rel="prev" href="page-6.html"/);
  });

  test('an old run that changes state rewrites the old page showing it, not the newest pages', async () => {
    await age();
    finish(run('c-010', 1010, { repo: RID_C, repo_name: 'big' }), 'failure');
    const stats = await writeReportChanges(db, reportDir, INFO, { runIds: ['c-010'] });
    const expected = [
      'index.html', // its status.json counts
      `repos/${C}/branches/main/page-1.html`,
      `repos/${C}/page-1.html`,
      'runs/c-010.html',
      'status.json',
    ];
    assert.deepEqual(stats.written, expected);
    assert.deepEqual(await touched(), expected);
    assert.match(await readFile(join(reportDir, `repos/${C}/page-1.html`), 'utf8'), /status failure/);
  });

  test('nothing changed: only status.json and index.html are written, and only if they differ', async () => {
    await age();
    const same = await writeReportChanges(db, reportDir, INFO, {});
    assert.deepEqual(same.written, []);
    const later = await writeReportChanges(db, reportDir, { ...INFO, now: new Date('2024-06-01T00:01:00Z') }, {});
    assert.deepEqual(later.written, ['index.html', 'status.json']);
  });

  test('runs deleted by retention lose their pages, and emptied oldest pages are removed', async () => {
    await age();
    const pruned = pruneRuns(db, 40, [RID_A]);
    assert.equal(pruned.length, 26);
    const stats = await writeReportChanges(db, reportDir, INFO, { removed: pruned });
    assert.equal(stats.removed.filter((f) => f.startsWith('runs/')).length, 26);
    // The oldest 26 runs of the repository (numbers 1 … 26) were on page 1, which now holds 27 … 50.
    assert.ok(stats.written.includes(`repos/${A}/page-1.html`));
    assert.ok(!stats.written.includes(`repos/${A}/page-2.html`));
    // Branch main keeps main-26 … main-59 (numbers 27 … 60): page 1 keeps 27 … 50.
    assert.ok(stats.written.includes(`repos/${A}/branches/main/page-1.html`));
    assert.equal(existsSync(join(reportDir, 'runs/main-00.html')), false);
    assert.equal(existsSync(join(reportDir, `repos/${A}/page-1.html`)), true);
    for (const f of await touched()) assert.ok(!f.startsWith(`repos/${B}`) && !f.startsWith(`badges/${B}`), f);
    // Deleting every run of page 1 removes it.
    await age();
    const more = pruneRuns(db, 10, [RID_A]);
    const again = await writeReportChanges(db, reportDir, INFO, { removed: more });
    assert.ok(again.removed.includes(`repos/${A}/page-1.html`), again.removed.join(' '));
    assert.ok(again.removed.includes(`repos/${A}/branches/main/page-1.html`), again.removed.join(' '));
    // A full regeneration now finds nothing to do but the clock-dependent files.
    await age();
    const full = await writeReports(db, reportDir, { ...INFO, now: new Date('2024-06-01T00:02:00Z') });
    assert.deepEqual(full.written, ['index.html', 'status.json']);
    assert.deepEqual(full.removed, []);
  });

  test('a change to an unpublished private run writes no page of it', async () => {
    await age();
    const s = run('secret', 400, { repo: RID_PRIVATE, repo_name: 'topsecret', private: true });
    applyUpdate(db, update(s, 'queued', s.queued_at));
    const stats = await writeReportChanges(db, reportDir, { ...INFO, now: new Date('2024-06-01T00:02:00Z') }, { runIds: [s.id] });
    assert.deepEqual(stats.written, []);
    assert.equal(existsSync(join(reportDir, 'runs/secret.html')), false);
    assert.equal(existsSync(join(reportDir, 'repos', RID_PRIVATE.slice(4))), false);
    const pub = await writeReportChanges(db, reportDir, { ...INFO, reportPrivate: true }, { runIds: [s.id] });
    assert.ok(pub.written.includes('runs/secret.html'));
  });
});

describe('job COB link', () => {
  test('the page of a run whose adapter publishes job COBs says how to see its job', async () => {
    await writeReports(db, reportDir, { ...INFO, jobCobs: (adapter) => adapter === 'native' });
    const name = (await readdir(join(reportDir, 'runs'))).find((f) => f.startsWith('main-'));
    assert.ok(name);
    const page = await readFile(join(reportDir, 'runs', name), 'utf8');
    assert.match(page, /xyz\.radworks\.job/);
    assert.match(page, new RegExp(`cibq jobs ${RID_A} [0-9a-f]{40}`));
    await writeReports(db, reportDir, INFO);
    assert.doesNotMatch(await readFile(join(reportDir, 'runs', name), 'utf8'), /xyz\.radworks\.job/);
  });
});
