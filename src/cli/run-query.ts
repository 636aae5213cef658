/**
 * Read-only queries on the reporter's `runs` table for `cibq runs list`: filters by repository
 * (id or name), branch (in any namespace, or the canonical one), patch (id or prefix), result,
 * state and adapter; newest first.
 */
import type { DatabaseSync } from 'node:sqlite';
import { parseRunRow, toRunRecord } from '../reporter/store/runs.ts';
import type { RunRecord, RunResult, RunState } from '../shared/run.ts';

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

/** Length of `refs/namespaces/`; the namespace (a NID, never containing '/') follows. */
const NS_PREFIX_LEN = 'refs/namespaces/'.length;

export function queryRuns(db: DatabaseSync, q: RunQuery): RunRecord[] {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (q.repo !== undefined) {
    where.push('(repo = ? OR repo_name = ?)');
    params.push(q.repo, q.repo);
  }
  if (q.branch !== undefined) {
    // The part after `refs/namespaces/<nid>/` compared exactly: no LIKE, so names with % or _ are safe.
    where.push(
      `(event_type = 'push' AND (ref = ? OR (substr(ref, 1, ${NS_PREFIX_LEN}) = 'refs/namespaces/'` +
        ` AND substr(ref, ${NS_PREFIX_LEN + 1} + instr(substr(ref, ${NS_PREFIX_LEN + 1}), '/')) = ?)))`,
    );
    params.push(`refs/heads/${q.branch}`, `refs/heads/${q.branch}`);
  }
  if (q.patch !== undefined) {
    where.push('substr(patch, 1, ?) = ?');
    params.push(q.patch.length, q.patch);
  }
  if (q.result !== undefined) {
    where.push('result = ?');
    params.push(q.result);
  }
  if (q.state !== undefined) {
    where.push('state = ?');
    params.push(q.state);
  }
  if (q.adapter !== undefined) {
    where.push('adapter = ?');
    params.push(q.adapter);
  }
  let sql = 'SELECT * FROM runs';
  if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`;
  sql += ' ORDER BY queued_at DESC, id LIMIT ?';
  params.push(q.limit);
  return db.prepare(sql).all(...params).map((row) => toRunRecord(parseRunRow(row)));
}
