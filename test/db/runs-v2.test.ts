import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { applyUpdate } from '../../src/db/apply-update.ts';
import { migrate, schemaVersion } from '../../src/db/migrate.ts';
import { MIGRATIONS } from '../../src/db/migrations.ts';
import { openDb } from '../../src/db/open-db.ts';
import { latestPerBranch, latestPerPatch } from '../../src/db/report-queries.ts';
import { pruneRuns } from '../../src/db/retention.ts';
import { branchOf, getRunDetail, latestRunPerRepo, listRunDetails, listRuns } from '../../src/db/runs.ts';
import { RID_A, RID_B, subject, update } from '../reporter/fixtures.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cibq-s2-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const NS = 'refs/namespaces/z6MkiB8T5cBEQHnrs2MgjMVqvpSVj42X81HjKfFi2XBoMbtr/';

/** A run row as an older cibq wrote it (without the columns of later migrations). */
function insertRaw(db: DatabaseSync, id: string, repo: string, ref: string, queuedAt: string, patch: string | null = null): void {
  db.prepare(
    `INSERT INTO runs (id, adapter, repo, repo_name, event_type, ref, patch, commit_oid, state, queued_at, updated_at)
     VALUES (?, 'native', ?, 'name', ?, ?, ?, ?, 'queued', ?, ?)`,
  ).run(id, repo, patch === null ? 'push' : 'patch', ref, patch, 'c'.repeat(40), queuedAt, queuedAt);
}

describe('migration 3', () => {
  test('existing runs are numbered oldest first per repository, branch and patch; new runs get the next number', () => {
    const path = join(dir, 'v2.sqlite');
    const raw = new DatabaseSync(path);
    migrate(raw, MIGRATIONS.filter((m) => m.version <= 2));
    const P = 'e'.repeat(40);
    // Inserted out of time order: the numbers follow queued_at (then id), not insertion.
    insertRaw(raw, 'r3', RID_A, 'refs/heads/main', '2024-05-01T12:00:00.000Z');
    insertRaw(raw, 'r1', RID_A, `${NS}refs/heads/main`, '2024-05-01T10:00:00.000Z');
    insertRaw(raw, 'r2', RID_A, 'refs/heads/dev', '2024-05-01T11:00:00.000Z');
    insertRaw(raw, 'p1', RID_A, `refs/heads/patches/${P}`, '2024-05-01T11:30:00.000Z', P);
    insertRaw(raw, 'b1', RID_B, 'refs/heads/main', '2024-05-01T09:00:00.000Z');
    raw.close();

    const db = openDb(path);
    const seqs = () =>
      Object.fromEntries(
        db.prepare('SELECT id, repo_seq, branch_seq, patch_seq FROM runs ORDER BY id').all().map((r) => [r['id'], [r['repo_seq'], r['branch_seq'], r['patch_seq']]]),
      );
    assert.deepEqual(seqs(), {
      b1: [1, 1, null],
      p1: [3, null, 1],
      r1: [1, 1, null],
      r2: [2, 1, null],
      r3: [4, 2, null],
    });
    applyUpdate(db, update(subject({ id: 'r4', ref: 'refs/heads/main', queued_at: '2024-05-01T08:00:00Z' }), 'queued', '2024-05-01T08:00:00Z'));
    applyUpdate(db, update(subject({ id: 'p2', event_type: 'patch', ref: `refs/heads/patches/${P}`, patch: P }), 'queued', '2024-05-01T13:00:00Z'));
    // Numbers are given as runs are recorded: an update for a known run keeps its number.
    applyUpdate(db, update(subject({ id: 'r4', ref: 'refs/heads/main', queued_at: '2024-05-01T08:00:00Z' }), 'running', '2024-05-01T08:01:00Z'));
    assert.deepEqual(seqs()['r4'], [5, 3, null]);
    assert.deepEqual(seqs()['p2'], [6, null, 2]);
    // The list pages read a page by its numbers through an index, never by OFFSET or a scan.
    const plan = (sql: string, ...p: (string | number)[]) =>
      db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...p).map((r) => String(r['detail'])).join('; ');
    assert.match(plan('SELECT MAX(branch_seq) FROM runs WHERE repo = ? AND branch = ?', RID_A, 'main'), /runs_repo_branch_seq/);
    assert.match(plan('SELECT MAX(patch_seq) FROM runs WHERE repo = ? AND patch = ?', RID_A, P), /runs_repo_patch_seq/);
    assert.match(plan('SELECT MAX(repo_seq) FROM runs WHERE repo = ?', RID_A), /runs_repo_seq/);
    db.close();
  });
});

describe('migration 2', () => {
  test('a version-1 database with runs is upgraded in place: runs kept, branch column and indexes added', () => {
    const path = join(dir, 'v1.sqlite');
    const raw = new DatabaseSync(path);
    migrate(raw, MIGRATIONS.filter((m) => m.version === 1));
    assert.equal(schemaVersion(raw), 1);
    insertRaw(raw, 'old', RID_A, `${NS}refs/heads/feature/x`, '2024-05-01T10:00:00.000Z');
    raw.close();

    const db = openDb(path);
    assert.equal(schemaVersion(db), MIGRATIONS.length);
    assert.equal(db.prepare(`SELECT branch FROM runs WHERE id = 'old'`).get()?.['branch'], 'feature/x');
    const names = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'runs'`).all().map((r) => r['name']);
    for (const ix of ['runs_repo_branch_queued', 'runs_branch_queued', 'runs_repo_patch_queued', 'runs_patch_queued', 'runs_result_queued']) {
      assert.ok(names.includes(ix), ix);
    }
    // The queries the pages and the CLI make use those indexes, not a scan of the table.
    const plan = (sql: string, ...p: string[]) =>
      db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...p).map((r) => String(r['detail'])).join('; ');
    assert.match(plan('SELECT * FROM runs WHERE repo = ? AND branch = ? ORDER BY queued_at DESC, id LIMIT 1', RID_A, 'main'), /USING INDEX runs_repo_branch_queued/);
    assert.match(plan('SELECT * FROM runs WHERE patch = ? ORDER BY queued_at DESC, id', 'a'), /USING INDEX runs_patch_queued/);
    assert.match(plan('SELECT * FROM runs WHERE result = ? ORDER BY queued_at DESC, id', 'failure'), /USING INDEX runs_result_queued/);
    assert.match(plan('SELECT * FROM runs WHERE branch = ? ORDER BY queued_at DESC, id', 'main'), /USING INDEX runs_branch_queued/);
    db.close();
  });

  test('the branch column agrees with branchOf for namespaced and plain refs, tags and patches', () => {
    const db = openDb(join(dir, 'branch.sqlite'));
    const cases: [string, 'push' | 'patch', string | null][] = [
      [`${NS}refs/heads/main`, 'push', 'main'],
      ['refs/heads/release/1.x', 'push', 'release/1.x'],
      [`${NS}refs/tags/v1.0`, 'push', null],
      ['refs/heads/', 'push', null],
      ['refs/namespaces/broken', 'push', null],
      [`refs/heads/patches/${'a'.repeat(40)}`, 'patch', null],
    ];
    cases.forEach(([ref, event_type, want], i) => {
      const s = subject({ id: `b${i}`, ref, event_type, patch: event_type === 'patch' ? 'a'.repeat(40) : null });
      applyUpdate(db, update(s, 'queued', s.queued_at));
      assert.equal(db.prepare('SELECT branch FROM runs WHERE id = ?').get(s.id)?.['branch'], want, ref);
      assert.equal(branchOf({ ref, event_type }), want, ref);
      assert.equal(getRunDetail(db, s.id)?.branch, want, ref);
    });
    db.close();
  });
});

describe('run filters for the CLI', () => {
  test('listRuns filters by branch, patch and result, and pages with limit and offset', () => {
    const db = openDb(join(dir, 'filters.sqlite'));
    const patch = 'b'.repeat(40);
    const runs = [
      subject({ id: 'm1', ref: `${NS}refs/heads/main`, queued_at: '2024-05-01T10:00:00Z' }),
      subject({ id: 'm2', ref: `${NS}refs/heads/main`, queued_at: '2024-05-01T11:00:00Z' }),
      subject({ id: 'd1', ref: `${NS}refs/heads/dev`, queued_at: '2024-05-01T12:00:00Z' }),
      subject({ id: 'p1', event_type: 'patch', ref: `refs/heads/patches/${patch}`, patch, queued_at: '2024-05-01T13:00:00Z' }),
      subject({ id: 'b1', repo: RID_B, ref: `${NS}refs/heads/main`, queued_at: '2024-05-01T14:00:00Z' }),
    ];
    for (const s of runs) applyUpdate(db, update(s, 'queued', s.queued_at));
    applyUpdate(db, update(runs[0]!, 'finished', '2024-05-01T10:05:00Z', { result: 'failure' }));
    applyUpdate(db, update(runs[3]!, 'finished', '2024-05-01T13:05:00Z', { result: 'failure' }));
    const ids = (f: Parameters<typeof listRuns>[1]) => listRuns(db, f).map((r) => r.id);
    assert.deepEqual(ids({ branch: 'main' }), ['b1', 'm2', 'm1']);
    assert.deepEqual(ids({ repo: RID_A, branch: 'main' }), ['m2', 'm1']);
    assert.deepEqual(ids({ patch }), ['p1']);
    assert.deepEqual(ids({ result: 'failure' }), ['p1', 'm1']);
    assert.deepEqual(ids({ limit: 2, offset: 1 }), ['p1', 'd1']);
    assert.deepEqual(ids({ offset: 3 }), ['m2', 'm1']);
    assert.deepEqual(latestPerBranch(db, RID_A, true).map((r) => [r.branch, r.id]), [['dev', 'd1'], ['main', 'm2']]);
    assert.deepEqual(latestPerPatch(db, RID_A, true, 5).map((r) => r.id), ['p1']);
    db.close();
  });
});

describe('retention (keep_runs)', () => {
  test('each repository keeps its newest runs; older finished runs are deleted, unfinished ones never', () => {
    const db = openDb(join(dir, 'keep.sqlite'));
    for (let i = 0; i < 6; i++) {
      const s = subject({ id: `a${i}`, queued_at: `2024-05-01T1${i}:00:00Z` });
      applyUpdate(db, update(s, 'queued', s.queued_at));
      // a1 is still running; the others finished.
      if (i !== 1) applyUpdate(db, update(s, 'finished', `2024-05-01T1${i}:30:00Z`, { result: 'success' }));
    }
    for (let i = 0; i < 2; i++) {
      const s = subject({ id: `b${i}`, repo: RID_B, queued_at: `2024-05-01T0${i}:00:00Z` });
      applyUpdate(db, update(s, 'finished', `2024-05-01T0${i}:30:00Z`, { result: 'success' }));
    }
    const pruned = pruneRuns(db, 3);
    assert.deepEqual(pruned.map((p) => p.id).sort(), ['a0', 'a2']);
    assert.deepEqual(pruned.find((p) => p.id === 'a0'), {
      id: 'a0', repo: RID_A, branch: 'main', patch: null, repo_seq: 1, branch_seq: 1, patch_seq: null,
    });
    assert.deepEqual(listRuns(db, { repo: RID_A }).map((r) => r.id), ['a5', 'a4', 'a3', 'a1']);
    assert.deepEqual(listRuns(db, { repo: RID_B }).map((r) => r.id), ['b1', 'b0']);
    // Once the old run finishes it goes too; pruning only the named repositories leaves others alone.
    applyUpdate(db, update(subject({ id: 'a1', queued_at: '2024-05-01T11:00:00Z' }), 'finished', '2024-05-01T11:40:00Z', { result: 'error' }));
    assert.deepEqual(pruneRuns(db, 1, [RID_A]).map((p) => p.id).sort(), ['a1', 'a3', 'a4']);
    assert.equal(listRuns(db, { repo: RID_B }).length, 2);
    assert.deepEqual(pruneRuns(db, 1), [
      { id: 'b0', repo: RID_B, branch: 'main', patch: null, repo_seq: 1, branch_seq: 1, patch_seq: null },
    ]);
    assert.throws(() => pruneRuns(db, -1), /keep_runs/);
    db.close();
  });
});

describe('list queries', () => {
  test('lists read neither logs nor trigger messages, only the patch state the trigger recorded', () => {
    const db = openDb(join(dir, 'lists.sqlite'));
    const P = 'f'.repeat(40);
    const s = subject({ id: 'pm', event_type: 'patch', ref: `refs/heads/patches/${P}`, patch: P });
    const trigger = JSON.stringify({ event_type: 'patch', patch: { id: P, state: { status: 'merged' } } });
    applyUpdate(db, update(s, 'finished', '2024-05-01T10:05:00Z', { result: 'success', log: 'x'.repeat(100_000), trigger }));
    const bad = subject({ id: 'pb', event_type: 'patch', ref: `refs/heads/patches/${'a'.repeat(40)}`, patch: 'a'.repeat(40) });
    applyUpdate(db, update(bad, 'queued', '2024-05-01T10:06:00Z', { trigger: '{not json' }));
    const [merged, broken] = [...latestPerPatch(db, RID_A, true, 5)].sort((a, b) => a.id.localeCompare(b.id)).reverse();
    assert.equal(merged?.id, 'pm');
    assert.equal(merged?.patch_status, 'merged');
    assert.equal(broken?.patch_status, null, 'a trigger that is not JSON is no state, not an error');
    for (const r of [merged, ...listRunDetails(db, { repo: RID_A }), ...latestRunPerRepo(db)]) {
      assert.ok(r !== undefined && !('log' in r) && !('trigger' in r) && !('trigger_json' in r), JSON.stringify(Object.keys(r ?? {})));
    }
    assert.equal(getRunDetail(db, 'pm')?.log?.length, 100_000, 'the run page still has the log');
    db.close();
  });
});
