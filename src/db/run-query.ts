/**
 * Read-only queries on the reporter's `runs` table for `cibq runs list`: filters by repository
 * (id or name), branch (in any namespace, or the canonical one), patch (id or prefix), result,
 * state and adapter; newest first. Every filter is served by an index, and only the columns a
 * RunRecord has are read (not the logs).
 */
import type { DatabaseSync } from 'node:sqlite';
import { z } from 'zod';
import { RECORD_COLUMNS, parseRecordRow } from './runs.ts';
import type { RunResult, RunState, RunRecord } from '../model/run.ts';

export type RunQuery = {
  /** Repository id (`rad:z…`) or repository name. */
  repo?: string;
  /** Branch name: runs of pushes to `refs/heads/<branch>` or `refs/namespaces/<nid>/refs/heads/<branch>`. */
  branch?: string;
  /** Patch id, or a prefix of it (at least 4 hex digits). */
  patch?: string;
  result?: RunResult;
  state?: RunState;
  adapter?: string;
  /** At most this many runs. */
  limit: number;
};

/** The repository ids `repo` names: itself if it is one, and every repository with that name (by index). */
function repoIds(db: DatabaseSync, repo: string): string[] {
  const named = db
    .prepare('SELECT DISTINCT repo FROM runs WHERE repo_name = ?')
    .all(repo)
    .map((r) => z.object({ repo: z.string() }).parse(r).repo);
  return [...new Set([repo, ...named])];
}

/** The first string after every string starting with `prefix` (`abab` → `abac`): a prefix as a range. */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/** The SQL and parameters of a query; each filter is one an index can serve (see migrations 2 and 3). */
export function runQuerySql(db: DatabaseSync, q: RunQuery): { sql: string; params: (string | number)[] } {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (q.repo !== undefined) {
    const ids = repoIds(db, q.repo);
    where.push(`repo IN (${ids.map(() => '?').join(', ')})`);
    params.push(...ids);
  }
  if (q.branch !== undefined) {
    // The generated branch column: pushes to refs/heads/<branch> in any namespace or the canonical one.
    where.push('branch = ?');
    params.push(q.branch);
  }
  if (q.patch !== undefined && q.patch !== '') {
    where.push('patch >= ? AND patch < ?');
    params.push(q.patch, prefixEnd(q.patch));
  }
  for (const key of ['result', 'state', 'adapter'] as const) {
    const v = q[key];
    if (v !== undefined) {
      where.push(`${key} = ?`);
      params.push(v);
    }
  }
  let sql = `SELECT ${RECORD_COLUMNS} FROM runs`;
  if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`;
  sql += ' ORDER BY queued_at DESC, id LIMIT ?';
  params.push(q.limit);
  return { sql, params };
}

export function queryRuns(db: DatabaseSync, q: RunQuery): RunRecord[] {
  const { sql, params } = runQuerySql(db, q);
  return db
    .prepare(sql)
    .all(...params)
    .map(parseRecordRow);
}
