import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { applyUpdate } from '../../src/reporter/apply-update.ts';
import { writeReportChanges, writeReports, type ReportInfo } from '../../src/reporter/pages.ts';
import { pruneRuns } from '../../src/reporter/store/retention.ts';
import { openDb } from '../../src/reporter/store/open-db.ts';
import { RID_A, RID_B, RID_PRIVATE, subject, update } from './fixtures.ts';

const A = RID_A.slice(4);
const B = RID_B.slice(4);
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
  test('the full report has list pages per repository, branch and patch, paginated by 50', async () => {
    const all = await files();
    for (const f of [
      `repos/${A}/index.html`, `repos/${A}/page-2.html`, `repos/${A}/runs.json`,
      `repos/${A}/branches/main/index.html`, `repos/${A}/branches/main/page-2.html`, `repos/${A}/branches/dev/index.html`,
      `repos/${A}/patches/${PATCH}/index.html`, `badges/${A}/main.svg`, `badges/${A}/dev.svg`,
      `repos/${B}/index.html`, `badges/${B}/main.svg`, 'runs/main-00.html', 'runs/patch-1.html',
    ]) {
      assert.ok(all.includes(f), f);
    }
    assert.ok(!all.includes(`repos/${A}/page-3.html`));
    assert.ok(!all.includes(`repos/${A}/branches/dev/page-2.html`));
    assert.equal(all.filter((f) => f.startsWith('runs/')).length, 70);
  });

  test('a new run rewrites its own page and its repository and branch pages, nothing unrelated', async () => {
    await age();
    const s = run('dev-new', 300, { ref: 'refs/heads/dev' });
    applyUpdate(db, update(s, 'queued', s.queued_at));
    const stats = await writeReportChanges(db, reportDir, INFO, { runIds: [s.id] });
    const expected = [
      `badges/${A}/dev.svg`,
      `repos/${A}/branches/dev/index.html`,
      `repos/${A}/index.html`,
      `repos/${A}/page-2.html`, // every run moved down one place
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
      `repos/${A}/index.html`,
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

  test('nothing changed: only status.json and index.html are written, and only if they differ', async () => {
    await age();
    const same = await writeReportChanges(db, reportDir, INFO, {});
    assert.deepEqual(same.written, []);
    const later = await writeReportChanges(db, reportDir, { ...INFO, now: new Date('2024-06-01T00:01:00Z') }, {});
    assert.deepEqual(later.written, ['index.html', 'status.json']);
  });

  test('runs deleted by retention lose their pages, and pages beyond the last are removed', async () => {
    await age();
    const pruned = pruneRuns(db, 40, [RID_A]);
    assert.equal(pruned.length, 26);
    const stats = await writeReportChanges(db, reportDir, INFO, { removed: pruned });
    assert.equal(stats.removed.filter((f) => f.startsWith('runs/')).length, 26);
    assert.ok(stats.removed.includes(`repos/${A}/page-2.html`));
    assert.ok(stats.removed.includes(`repos/${A}/branches/main/page-2.html`));
    assert.equal(existsSync(join(reportDir, 'runs/main-00.html')), false);
    assert.equal(existsSync(join(reportDir, `repos/${A}/page-2.html`)), false);
    for (const f of await touched()) assert.ok(!f.startsWith(`repos/${B}`) && !f.startsWith(`badges/${B}`), f);
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
