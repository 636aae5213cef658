/** The SQL behind `cibq runs list` filters, on a real SQLite database opened read-only. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { DatabaseSync } from 'node:sqlite';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { queryRuns, runQuerySql, type RunQuery } from '../../src/db/run-query.ts';
import { openDbReadOnly } from '../../src/db/open-db.ts';
import { ACME, PATCH, TOOLS, seedRuns } from '../cli/run-fixtures.ts';

describe('queryRuns', () => {
  let dir: string;
  let db: DatabaseSync;
  const ids = (q: Omit<RunQuery, 'limit'> & { limit?: number }) => queryRuns(db, { limit: 50, ...q }).map((r) => r.id);

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cq-rq-'));
    seedRuns(path.join(dir, 'ci.db'));
    db = openDbReadOnly(path.join(dir, 'ci.db'));
  });
  after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('newest first, at most limit', () => {
    assert.deepEqual(ids({}), ['r08', 'r07', 'r06', 'r05', 'r04', 'r03', 'r02', 'r01']);
    assert.deepEqual(ids({ limit: 3 }), ['r08', 'r07', 'r06']);
  });

  test('branch: that branch in any namespace or canonical; not other branches ending the same, tags, patches', () => {
    assert.deepEqual(ids({ branch: 'main' }), ['r07', 'r03', 'r02', 'r01']);
    assert.deepEqual(ids({ branch: 'feature/main' }), ['r04']);
    assert.deepEqual(ids({ branch: 'dev_x' }), ['r08']);
    // LIKE wildcards in a name are plain characters.
    assert.deepEqual(ids({ branch: 'dev%' }), []);
    assert.deepEqual(ids({ branch: 'dev_' }), []);
  });

  test('repository by id or name, patch by id or prefix', () => {
    assert.deepEqual(ids({ repo: TOOLS }), ['r07']);
    assert.deepEqual(ids({ repo: 'tools' }), ['r07']);
    assert.deepEqual(ids({ repo: ACME }).length, 7);
    assert.deepEqual(ids({ patch: PATCH }), ['r06']);
    assert.deepEqual(ids({ patch: 'abab' }), ['r06']);
    assert.deepEqual(ids({ patch: 'abac' }), []);
    assert.deepEqual(ids({ patch: 'abaa' }), []);
  });

  test('result, state and adapter, and all filters combined', () => {
    assert.deepEqual(ids({ result: 'failure' }), ['r06', 'r02']);
    assert.deepEqual(ids({ result: 'timeout' }), ['r07']);
    assert.deepEqual(ids({ state: 'running' }), ['r04']);
    assert.deepEqual(ids({ state: 'queued' }), ['r05']);
    assert.deepEqual(ids({ adapter: 'heavy' }), ['r03']);
    assert.deepEqual(ids({ repo: 'acme', branch: 'main', result: 'success', state: 'finished' }), ['r03', 'r01']);
    assert.deepEqual(ids({ repo: 'acme', branch: 'main', adapter: 'native', result: 'success' }), ['r01']);
  });

  test('each filter is served by an index, never a scan of the table', () => {
    const plan = (q: Omit<RunQuery, 'limit'>) => {
      const { sql, params } = runQuerySql(db, { limit: 50, ...q });
      return db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params).map((r) => String(r['detail'])).join('; ');
    };
    for (const [q, index] of [
      [{ repo: 'acme' }, 'runs_repo_(queued|seq)'],
      [{ repo: ACME }, 'runs_repo_(queued|seq)'],
      [{ branch: 'main' }, 'runs_branch_queued'],
      [{ patch: 'abab' }, 'runs_patch_queued'],
      [{ patch: PATCH }, 'runs_patch_queued'],
      [{ result: 'failure' }, 'runs_result_queued'],
    ] as const) {
      const p = plan(q);
      assert.match(p, new RegExp(`USING (COVERING )?INDEX ${index}`), `${JSON.stringify(q)}: ${p}`);
      assert.doesNotMatch(p, /SCAN runs(?! USING)/, `${JSON.stringify(q)}: ${p}`);
    }
    // Resolving a repository name reads its index too.
    const name = db.prepare('EXPLAIN QUERY PLAN SELECT DISTINCT repo FROM runs WHERE repo_name = ?').all('acme');
    assert.match(String(name[0]?.['detail']), /INDEX runs_repo_name/);
  });

  test('the records have the RunRecord shape', () => {
    const [run] = queryRuns(db, { limit: 1, patch: PATCH });
    assert.equal(run?.event_type, 'patch');
    assert.equal(run?.patch, PATCH);
    assert.equal(run?.commit, 'c'.repeat(40));
    assert.equal(run?.result, 'failure');
  });
});
