/**
 * The queries the report pages make. Each is served by an index (migrations 1–3) and reads a
 * bounded number of rows by key (no OFFSET), so writing the pages one change touches stays cheap
 * however many runs the database holds. Lists select the summary columns only, never the logs.
 */
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import { z } from 'zod';
import { SUMMARY_COLUMNS, toRunSummary, type RunSummary } from './runs.ts';

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

/** The column numbering a scope's runs (migration 3). */
function seqColumn(scope: RunScope): 'repo_seq' | 'branch_seq' | 'patch_seq' {
  return scope.branch !== undefined ? 'branch_seq' : scope.patch !== undefined ? 'patch_seq' : 'repo_seq';
}

/** `runs` read through the scope's numbering index: the planner must not walk a time index instead. */
function bySeq(scope: RunScope): string {
  const index =
    scope.branch !== undefined ? 'runs_repo_branch_seq' : scope.patch !== undefined ? 'runs_repo_patch_seq' : 'runs_repo_seq';
  return `runs INDEXED BY ${index}`;
}

const Seq = z.object({ n: z.number().int() });

/** The lowest and highest run number of the scope's published runs, or null when it has none. */
export function scopeSeqRange(
  db: DatabaseSync,
  scope: RunScope,
  includePrivate: boolean,
): { first: number; last: number } | null {
  const { where, params } = scopeWhere(scope, includePrivate);
  const col = seqColumn(scope);
  // Each is one step into the scope's index from either end (no scan).
  const end = (dir: 'ASC' | 'DESC') =>
    db.prepare(`SELECT ${col} AS n FROM ${bySeq(scope)} WHERE ${where} AND ${col} IS NOT NULL ORDER BY ${col} ${dir} LIMIT 1`).get(...params);
  const first = end('ASC');
  const last = end('DESC');
  if (first === undefined || last === undefined) return null;
  return { first: Seq.parse(first).n, last: Seq.parse(last).n };
}

/** The scope's published runs numbered `from` … `to`, newest first: one list page. */
export function scopeRunsBySeq(
  db: DatabaseSync,
  scope: RunScope,
  includePrivate: boolean,
  from: number,
  to: number,
): RunSummary[] {
  const { where, params } = scopeWhere(scope, includePrivate);
  const col = seqColumn(scope);
  return db
    .prepare(`SELECT ${SUMMARY_COLUMNS} FROM ${bySeq(scope)} WHERE ${where} AND ${col} BETWEEN ? AND ? ORDER BY queued_at DESC, id`)
    .all(...params, from, to)
    .map(toRunSummary);
}

/** The scope's `limit` most recently recorded published runs, newest first. */
export function newestRuns(db: DatabaseSync, scope: RunScope, includePrivate: boolean, limit: number): RunSummary[] {
  const { where, params } = scopeWhere(scope, includePrivate);
  const col = seqColumn(scope);
  return db
    .prepare(`SELECT ${SUMMARY_COLUMNS} FROM ${bySeq(scope)} WHERE ${where} AND ${col} IS NOT NULL ORDER BY ${col} DESC LIMIT ?`)
    .all(...params, limit)
    .map(toRunSummary);
}

export type RunSeqs = { repo_seq: number | null; branch_seq: number | null; patch_seq: number | null };

const RunSeqsRow = z.object({
  repo_seq: z.number().int().nullable(),
  branch_seq: z.number().int().nullable(),
  patch_seq: z.number().int().nullable(),
});

/** A run's numbers in its repository, branch and patch, or null when there is no such run. */
export function runSeqs(db: DatabaseSync, id: string): RunSeqs | null {
  const row = db.prepare('SELECT repo_seq, branch_seq, patch_seq FROM runs WHERE id = ?').get(id);
  return row === undefined ? null : RunSeqsRow.parse(row);
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
export function latestPerBranch(db: DatabaseSync, repo: string, includePrivate: boolean): RunSummary[] {
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
    `SELECT ${SUMMARY_COLUMNS} FROM runs WHERE repo = ? AND branch = ? ${priv} ORDER BY queued_at DESC, id LIMIT 1`,
  );
  return branches.flatMap((b) => {
    const row = latest.get(repo, b);
    return row === undefined ? [] : [toRunSummary(row)];
  });
}

/** The newest run of each of the `limit` patches of `repo` that had runs most recently. */
export function latestPerPatch(db: DatabaseSync, repo: string, includePrivate: boolean, limit: number): RunSummary[] {
  const priv = includePrivate ? '' : 'AND private = 0';
  const patches = db
    .prepare(
      `SELECT patch, MAX(queued_at) AS last FROM runs WHERE repo = ? AND patch IS NOT NULL ${priv}
       GROUP BY patch ORDER BY last DESC, patch LIMIT ?`,
    )
    .all(repo, limit)
    .map((r) => z.object({ patch: z.string() }).parse(r).patch);
  const latest = db.prepare(
    `SELECT ${SUMMARY_COLUMNS} FROM runs WHERE repo = ? AND patch = ? ${priv} ORDER BY queued_at DESC, id LIMIT 1`,
  );
  return patches.flatMap((p) => {
    const row = latest.get(repo, p);
    return row === undefined ? [] : [toRunSummary(row)];
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

/** Up to `limit` run ids in storage order after `afterRowid`, for walking the whole table in batches. */
export function runIdsAfterRowid(
  db: DatabaseSync,
  afterRowid: number,
  limit: number,
  includePrivate: boolean,
): { rowid: number; id: string }[] {
  const priv = includePrivate ? '' : 'AND private = 0';
  return db
    .prepare(`SELECT rowid AS _rowid, id FROM runs WHERE rowid > ? ${priv} ORDER BY rowid LIMIT ?`)
    .all(afterRowid, limit)
    .map((r) => {
      const row = z.object({ _rowid: z.number().int(), id: z.string() }).parse(r);
      return { rowid: row._rowid, id: row.id };
    });
}

/** The newest published run, or null. */
export function latestRun(db: DatabaseSync, includePrivate: boolean): RunSummary | null {
  const priv = includePrivate ? '' : 'WHERE private = 0';
  const row = db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM runs ${priv} ORDER BY queued_at DESC, id LIMIT 1`).get();
  // (served by runs_private_queued when private runs are left out, runs_queued otherwise)
  return row === undefined ? null : toRunSummary(row);
}
