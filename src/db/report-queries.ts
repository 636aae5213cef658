/**
 * The queries the report pages make. Each is served by an index (migrations 1–3) or by the tables
 * triggers keep (migration 4) and reads a bounded number of rows by key (no OFFSET, no count over
 * runs), so writing the pages one change touches stays cheap however many runs the database holds.
 * Lists select the summary columns only, never the logs. Statements are prepared once per handle.
 */
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import { z } from 'zod';
import { SUMMARY_COLUMNS, toRunSummary, type RunSummary } from './runs.ts';
import { stmt } from './statements.ts';

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

/** The kind and name of a scope in `report_scopes`. */
function scopeKey(scope: RunScope): [string, string] {
  if (scope.branch !== undefined) return ['branch', scope.branch];
  if (scope.patch !== undefined) return ['patch', scope.patch];
  return ['repo', ''];
}

/** The scope's published runs (kept by triggers in `report_scopes`: no count over runs). */
export function countScope(db: DatabaseSync, scope: RunScope, includePrivate: boolean): number {
  const priv = includePrivate ? '' : 'AND private = 0';
  const sql = `SELECT COALESCE(SUM(runs), 0) AS n FROM report_scopes WHERE repo = ? AND kind = ? AND name = ? ${priv}`;
  return Count.parse(stmt(db, sql).get(scope.repo, ...scopeKey(scope))).n;
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
    stmt(db, `SELECT ${col} AS n FROM ${bySeq(scope)} WHERE ${where} AND ${col} IS NOT NULL ORDER BY ${col} ${dir} LIMIT 1`).get(...params);
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
  return stmt(db, `SELECT ${SUMMARY_COLUMNS} FROM ${bySeq(scope)} WHERE ${where} AND ${col} BETWEEN ? AND ? ORDER BY queued_at DESC, id`)
    .all(...params, from, to)
    .map(toRunSummary);
}

/** The scope's `limit` most recently recorded published runs, newest first. */
export function newestRuns(db: DatabaseSync, scope: RunScope, includePrivate: boolean, limit: number): RunSummary[] {
  const { where, params } = scopeWhere(scope, includePrivate);
  const col = seqColumn(scope);
  return stmt(db, `SELECT ${SUMMARY_COLUMNS} FROM ${bySeq(scope)} WHERE ${where} AND ${col} IS NOT NULL ORDER BY ${col} DESC LIMIT ?`)
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
  const row = stmt(db, 'SELECT repo_seq, branch_seq, patch_seq FROM runs WHERE id = ?').get(id);
  return row === undefined ? null : RunSeqsRow.parse(row);
}

export type RepoSummary = { repo: string; name: string; runs: number };

const RepoCount = z.object({ repo: z.string(), n: z.number().int() });
const RepoName = z.object({ repo_name: z.string() }).optional();
const Name = z.object({ name: z.string() });
const RowidId = z.object({ _rowid: z.number().int(), id: z.string() });

/** Every repository with published runs, with its newest name and its number of runs, by name. */
export function repoSummaries(db: DatabaseSync, includePrivate: boolean): RepoSummary[] {
  const priv = includePrivate ? '' : 'AND private = 0';
  const rows = stmt(db, `SELECT repo, SUM(runs) AS n FROM report_scopes WHERE kind = 'repo' ${priv} GROUP BY repo`).all();
  const nameOf = stmt(db, 'SELECT repo_name FROM runs WHERE repo = ? ORDER BY queued_at DESC, id LIMIT 1');
  return rows
    .map((row) => {
      const r = RepoCount.parse(row);
      const name = RepoName.parse(nameOf.get(r.repo))?.repo_name ?? '';
      return { repo: r.repo, name: name === '' ? r.repo : name, runs: r.n };
    })
    .sort((a, b) => a.name.localeCompare(b.name) || a.repo.localeCompare(b.repo));
}

/** The newest run of each branch of `repo`, by branch name. */
export function latestPerBranch(db: DatabaseSync, repo: string, includePrivate: boolean): RunSummary[] {
  const priv = includePrivate ? '' : 'AND private = 0';
  const branches = stmt(db, `SELECT DISTINCT name FROM report_scopes WHERE repo = ? AND kind = 'branch' ${priv} ORDER BY name`)
    .all(repo)
    .map((r) => Name.parse(r).name);
  const latest = stmt(db, `SELECT ${SUMMARY_COLUMNS} FROM runs WHERE repo = ? AND branch = ? ${priv} ORDER BY queued_at DESC, id LIMIT 1`);
  return branches.flatMap((b) => {
    const row = latest.get(repo, b);
    return row === undefined ? [] : [toRunSummary(row)];
  });
}

/** The newest run of each of the `limit` patches of `repo` that had runs most recently. */
export function latestPerPatch(db: DatabaseSync, repo: string, includePrivate: boolean, limit: number): RunSummary[] {
  const priv = includePrivate ? '' : 'AND private = 0';
  const patches = stmt(
    db,
    `SELECT name, MAX(last_queued) AS last FROM report_scopes WHERE repo = ? AND kind = 'patch' ${priv}
     GROUP BY name ORDER BY last DESC, name LIMIT ?`,
  )
    .all(repo, limit)
    .map((r) => Name.parse(r).name);
  const latest = stmt(db, `SELECT ${SUMMARY_COLUMNS} FROM runs WHERE repo = ? AND patch = ? ${priv} ORDER BY queued_at DESC, id LIMIT 1`);
  return patches.flatMap((p) => {
    const row = latest.get(repo, p);
    return row === undefined ? [] : [toRunSummary(row)];
  });
}

/** Every patch of `repo` with published runs. */
export function patchesOf(db: DatabaseSync, repo: string, includePrivate: boolean): string[] {
  const priv = includePrivate ? '' : 'AND private = 0';
  return stmt(db, `SELECT DISTINCT name FROM report_scopes WHERE repo = ? AND kind = 'patch' ${priv}`)
    .all(repo)
    .map((r) => Name.parse(r).name);
}

/** Up to `limit` run ids in storage order after `afterRowid`, for walking the whole table in batches. */
export function runIdsAfterRowid(
  db: DatabaseSync,
  afterRowid: number,
  limit: number,
  includePrivate: boolean,
): { rowid: number; id: string }[] {
  const priv = includePrivate ? '' : 'AND private = 0';
  return stmt(db, `SELECT rowid AS _rowid, id FROM runs WHERE rowid > ? ${priv} ORDER BY rowid LIMIT ?`)
    .all(afterRowid, limit)
    .map((r) => {
      const row = RowidId.parse(r);
      return { rowid: row._rowid, id: row.id };
    });
}

/** The newest published run, or null. */
export function latestRun(db: DatabaseSync, includePrivate: boolean): RunSummary | null {
  const priv = includePrivate ? '' : 'WHERE private = 0';
  const row = stmt(db, `SELECT ${SUMMARY_COLUMNS} FROM runs ${priv} ORDER BY queued_at DESC, id LIMIT 1`).get();
  // (served by runs_private_queued when private runs are left out, runs_queued otherwise)
  return row === undefined ? null : toRunSummary(row);
}
