/**
 * The queries the report pages make. Each is served by an index of migration 1 or 2, so writing
 * the pages one change touches stays cheap however many runs the database holds.
 */
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import { z } from 'zod';
import { parseRunRow, toRunDetail, type RunDetail } from './runs.ts';

/** Which runs a list page shows: a repository, optionally narrowed to one branch or one patch. */
export type RunScope = { repo: string; branch?: string; patch?: string };

function scopeWhere(scope: RunScope, includePrivate: boolean): { where: string; params: SQLInputValue[] } {
  const where = ['repo = ?'];
  const params: SQLInputValue[] = [scope.repo];
  if (scope.branch !== undefined) {
    where.push('branch = ?');
    params.push(scope.branch);
  }
  if (scope.patch !== undefined) {
    where.push('patch = ?');
    params.push(scope.patch);
  }
  if (!includePrivate) where.push('private = 0');
  return { where: where.join(' AND '), params };
}

const Count = z.object({ n: z.number().int() });

export function countScope(db: DatabaseSync, scope: RunScope, includePrivate: boolean): number {
  const { where, params } = scopeWhere(scope, includePrivate);
  return Count.parse(db.prepare(`SELECT COUNT(*) AS n FROM runs WHERE ${where}`).get(...params)).n;
}

/** Runs of the scope newest first, `limit` of them from `offset`. */
export function scopeRuns(
  db: DatabaseSync,
  scope: RunScope,
  includePrivate: boolean,
  offset: number,
  limit: number,
): RunDetail[] {
  const { where, params } = scopeWhere(scope, includePrivate);
  return db
    .prepare(`SELECT * FROM runs WHERE ${where} ORDER BY queued_at DESC, id LIMIT ? OFFSET ?`)
    .all(...params, limit, offset)
    .map((r) => toRunDetail(parseRunRow(r)));
}

export type RepoSummary = { repo: string; name: string; runs: number };

/** Every repository with published runs, with its newest name and its number of runs, by name. */
export function repoSummaries(db: DatabaseSync, includePrivate: boolean): RepoSummary[] {
  const priv = includePrivate ? '' : 'WHERE private = 0';
  const rows = db.prepare(`SELECT repo, COUNT(*) AS n FROM runs ${priv} GROUP BY repo`).all();
  const nameOf = db.prepare('SELECT repo_name FROM runs WHERE repo = ? ORDER BY queued_at DESC, id LIMIT 1');
  return rows
    .map((row) => {
      const r = z.object({ repo: z.string(), n: z.number().int() }).parse(row);
      const name = z.object({ repo_name: z.string() }).optional().parse(nameOf.get(r.repo))?.repo_name ?? '';
      return { repo: r.repo, name: name === '' ? r.repo : name, runs: r.n };
    })
    .sort((a, b) => a.name.localeCompare(b.name) || a.repo.localeCompare(b.repo));
}

/** The newest run of each branch of `repo`, by branch name. */
export function latestPerBranch(db: DatabaseSync, repo: string, includePrivate: boolean): RunDetail[] {
  const priv = includePrivate ? '' : 'AND private = 0';
  // Jumps from one branch to the next through the index instead of reading every run.
  const branches = db
    .prepare(
      `WITH RECURSIVE b(branch) AS (
         SELECT MIN(branch) FROM runs WHERE repo = ?1 AND branch IS NOT NULL ${priv}
         UNION ALL
         SELECT (SELECT MIN(branch) FROM runs WHERE repo = ?1 AND branch > b.branch ${priv}) FROM b WHERE b.branch IS NOT NULL)
       SELECT branch FROM b WHERE branch IS NOT NULL`,
    )
    .all(repo)
    .map((r) => z.object({ branch: z.string() }).parse(r).branch);
  const latest = db.prepare(
    `SELECT * FROM runs WHERE repo = ? AND branch = ? ${priv} ORDER BY queued_at DESC, id LIMIT 1`,
  );
  return branches.flatMap((b) => {
    const row = latest.get(repo, b);
    return row === undefined ? [] : [toRunDetail(parseRunRow(row))];
  });
}

/** The newest run of each of the `limit` patches of `repo` that had runs most recently. */
export function latestPerPatch(db: DatabaseSync, repo: string, includePrivate: boolean, limit: number): RunDetail[] {
  const priv = includePrivate ? '' : 'AND private = 0';
  const patches = db
    .prepare(
      `SELECT patch, MAX(queued_at) AS last FROM runs WHERE repo = ? AND patch IS NOT NULL ${priv}
       GROUP BY patch ORDER BY last DESC, patch LIMIT ?`,
    )
    .all(repo, limit)
    .map((r) => z.object({ patch: z.string() }).parse(r).patch);
  const latest = db.prepare(
    `SELECT * FROM runs WHERE repo = ? AND patch = ? ${priv} ORDER BY queued_at DESC, id LIMIT 1`,
  );
  return patches.flatMap((p) => {
    const row = latest.get(repo, p);
    return row === undefined ? [] : [toRunDetail(parseRunRow(row))];
  });
}

/** Every patch of `repo` with published runs. */
export function patchesOf(db: DatabaseSync, repo: string, includePrivate: boolean): string[] {
  const priv = includePrivate ? '' : 'AND private = 0';
  return db
    .prepare(`SELECT DISTINCT patch FROM runs WHERE repo = ? AND patch IS NOT NULL ${priv}`)
    .all(repo)
    .map((r) => z.object({ patch: z.string() }).parse(r).patch);
}

/** Up to `limit` runs in storage order after `afterRowid`, for walking the whole table in batches. */
export function runsAfterRowid(
  db: DatabaseSync,
  afterRowid: number,
  limit: number,
  includePrivate: boolean,
): { rowid: number; run: RunDetail }[] {
  const priv = includePrivate ? '' : 'AND private = 0';
  return db
    .prepare(`SELECT rowid AS _rowid, * FROM runs WHERE rowid > ? ${priv} ORDER BY rowid LIMIT ?`)
    .all(afterRowid, limit)
    .map((r) => ({ rowid: z.object({ _rowid: z.number().int() }).parse(r)._rowid, run: toRunDetail(parseRunRow(r)) }));
}

/** The newest published run, or null. */
export function latestRun(db: DatabaseSync, includePrivate: boolean): RunDetail | null {
  const priv = includePrivate ? '' : 'WHERE private = 0';
  const row = db.prepare(`SELECT * FROM runs ${priv} ORDER BY queued_at DESC, id LIMIT 1`).get();
  // (served by runs_private_queued when private runs are left out, runs_queued otherwise)
  return row === undefined ? null : toRunDetail(parseRunRow(row));
}
