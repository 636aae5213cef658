/**
 * The tables migration 4's triggers keep (report-tables.ts): counts per scope and in total always
 * equal a count over runs, and a run changed again while its pages were written keeps waiting.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { applyUpdate } from '../../src/db/apply-update.ts';
import { openDb } from '../../src/db/open-db.ts';
import { clearDirty, clearDirtyThrough, dirtyRuns, lastDirtyGen } from '../../src/db/report-dirty.ts';
import { countScope, latestPerPatch, repoSummaries } from '../../src/db/report-queries.ts';
import { pruneRuns } from '../../src/db/retention.ts';
import { countRuns, countRunsByResult, countRunsByState } from '../../src/db/runs.ts';
import { RID_A, RID_B, RID_PRIVATE, subject, update } from '../reporter/fixtures.ts';

let dir: string;
let db: DatabaseSync;
const P1 = 'a'.repeat(40);
const P2 = 'b'.repeat(40);

function at(minute: number): string {
  return new Date(Date.parse('2024-05-01T00:00:00Z') + minute * 60_000).toISOString();
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cibq-rt-'));
  db = openDb(join(dir, 'runs.sqlite'));
});
after(async () => {
  db?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Every count the triggers keep, against the same count made over runs. */
function assertCountsAgree(): void {
  const scopes = db
    .prepare(
      `SELECT s.repo, s.kind, s.name, s.private, s.runs, s.last_queued,
         (SELECT COUNT(*) FROM runs r WHERE r.repo = s.repo AND r.private = s.private AND (s.kind = 'repo'
            OR (s.kind = 'branch' AND r.branch = s.name) OR (s.kind = 'patch' AND r.patch = s.name))) AS counted,
         (SELECT MAX(queued_at) FROM runs r WHERE r.repo = s.repo AND r.private = s.private AND (s.kind = 'repo'
            OR (s.kind = 'branch' AND r.branch = s.name) OR (s.kind = 'patch' AND r.patch = s.name))) AS newest
       FROM report_scopes s`,
    )
    .all();
  for (const s of scopes) {
    assert.equal(s['runs'], s['counted'], JSON.stringify(s));
    assert.equal(s['last_queued'], s['newest'], JSON.stringify(s));
  }
  const n = (sql: string) => Number(db.prepare(sql).get()?.['n']);
  assert.equal(countRuns(db), n('SELECT COUNT(*) AS n FROM runs'));
  assert.equal(countRuns(db, { includePrivate: false }), n('SELECT COUNT(*) AS n FROM runs WHERE private = 0'));
  assert.equal(countRunsByResult(db).success, n(`SELECT COUNT(*) AS n FROM runs WHERE result = 'success'`));
  assert.equal(countRunsByState(db).queued, n(`SELECT COUNT(*) AS n FROM runs WHERE state = 'queued'`));
  assert.equal(countScope(db, { repo: RID_A, branch: 'main' }, true), n(`SELECT COUNT(*) AS n FROM runs WHERE repo = '${RID_A}' AND branch = 'main'`));
}

describe('report tables', () => {
  test('counts per repository, branch and patch and in total follow inserts, state changes and deletes', () => {
    for (let i = 0; i < 30; i++) {
      const s = subject({
        id: `r-${i}`,
        repo: [RID_A, RID_B, RID_PRIVATE][i % 3] as string,
        private: i % 3 === 2,
        queued_at: at(i),
        ...(i % 4 === 0
          ? { event_type: 'patch' as const, ref: `refs/heads/patches/${i % 8 === 0 ? P1 : P2}`, patch: i % 8 === 0 ? P1 : P2 }
          : { ref: i % 5 === 0 ? 'refs/heads/dev' : 'refs/heads/main' }),
      });
      applyUpdate(db, update(s, 'queued', s.queued_at));
      if (i % 2 === 0) applyUpdate(db, update(s, 'finished', at(i + 1), { result: i % 6 === 0 ? 'failure' : 'success' }));
    }
    assertCountsAgree();
    assert.deepEqual(repoSummaries(db, false).map((r) => r.runs), [10, 10]);
    assert.deepEqual(latestPerPatch(db, RID_A, true, 5).map((r) => r.id), ['r-24', 'r-12']);
    // Retention deletes the oldest finished runs; the newest of a scope going is looked up again.
    pruneRuns(db, 4);
    assertCountsAgree();
    assert.deepEqual(latestPerPatch(db, RID_A, true, 5).map((r) => r.id), ['r-24']);
    db.exec(`DELETE FROM runs WHERE id = 'r-24'`);
    assertCountsAgree();
    assert.deepEqual(latestPerPatch(db, RID_A, true, 5), []);
  });

  test('a run changed again while its pages were written keeps waiting; clearing through a gen clears older ones', () => {
    clearDirtyThrough(db, lastDirtyGen(db));
    assert.deepEqual(dirtyRuns(db, 10), []);
    const s = subject({ id: 'w-1', queued_at: at(100) });
    applyUpdate(db, update(s, 'queued', s.queued_at));
    const read = dirtyRuns(db, 10);
    assert.deepEqual(read.map((d) => [d.id, d.present]), [['w-1', true]]);
    applyUpdate(db, update(s, 'running', at(101)));
    clearDirty(db, read);
    assert.deepEqual(dirtyRuns(db, 10).map((d) => d.id), ['w-1'], 'the change made meanwhile still waits');
    clearDirty(db, dirtyRuns(db, 10));
    assert.deepEqual(dirtyRuns(db, 10), []);
    db.exec(`DELETE FROM runs WHERE id = 'w-1'`);
    const gone = dirtyRuns(db, 10);
    assert.deepEqual(gone.map((d) => [d.id, d.present, d.repo_seq !== null]), [['w-1', false, true]]);
  });
});
