/**
 * Queries on the `runs` table. Rows are parsed with zod as they leave SQLite, so a corrupted or
 * hand-edited database is reported instead of leaking malformed values into pages and JSON.
 */
import type { DatabaseSync } from 'node:sqlite';
import { z } from 'zod';
import { RUN_RESULTS, RUN_STATES, RunResult, RunState, type RunRecord } from '../model/run.ts';
import { stmt } from './statements.ts';

/** A row of `runs` as SQLite returns it. */
export const RunRow = z.object({
  id: z.string(),
  adapter: z.string(),
  adapter_run_id: z.string().nullable(),
  info_url: z.string().nullable(),
  repo: z.string(),
  repo_name: z.string(),
  event_type: z.enum(['push', 'patch']),
  ref: z.string(),
  patch: z.string().nullable(),
  title: z.string().nullable(),
  author: z.string().nullable(),
  commit_oid: z.string(),
  private: z.union([z.literal(0), z.literal(1)]),
  state: RunState,
  result: RunResult.nullable(),
  reason: z.string().nullable(),
  exit_code: z.number().int().nullable(),
  queued_at: z.string(),
  triggered_at: z.string().nullable(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  attempts: z.number().int(),
  worker: z.string().nullable(),
  trigger_json: z.string().nullable(),
  log: z.string().nullable(),
  updated_at: z.string(),
});
export type RunRow = z.infer<typeof RunRow>;

/** Everything the run page shows: the run record plus what only the page needs. */
export type RunDetail = RunRecord & {
  /** The branch a push run built, null for tags and patches (see branchOf). */
  branch: string | null;
  title: string | null;
  author: string | null;
  private: boolean;
  exit_code: number | null;
  worker: string | null;
  triggered_at: string | null;
  updated_at: string;
  /** The trigger message sent to the adapter (JSON text), if recorded. */
  trigger: string | null;
  log: string | null;
};

/**
 * What a list shows of a run: everything but the log (up to log_limit_bytes) and the trigger
 * message, plus the patch state the trigger recorded (`open`, `merged`, …; null if none).
 */
export type RunSummary = Omit<RunDetail, 'trigger' | 'log'> & { patch_status: string | null };

const SummaryRow = RunRow.omit({ log: true, trigger_json: true }).extend({ patch_status: z.string().nullable() });

/** The columns of a RunSummary, for `SELECT ${SUMMARY_COLUMNS} FROM runs …`. */
export const SUMMARY_COLUMNS = [
  ...Object.keys(RunRow.shape).filter((c) => c !== 'log' && c !== 'trigger_json'),
  `CASE WHEN event_type = 'patch' AND json_valid(trigger_json) THEN json_extract(trigger_json, '$.patch.state.status') END AS patch_status`,
].join(', ');

export function toRunSummary(row: unknown): RunSummary {
  const parsed = SummaryRow.safeParse(row);
  if (!parsed.success) {
    throw new Error(`invalid row in runs table: ${z.prettifyError(parsed.error)}`, { cause: parsed.error });
  }
  const r = parsed.data;
  const { trigger: _t, log: _l, ...detail } = toRunDetail({ ...r, trigger_json: null, log: null });
  return { ...detail, patch_status: r.patch_status };
}

export type RunFilter = {
  /** Only runs of this repository (`rad:z…`). */
  repo?: string;
  /** Only push runs of this branch (`main`, not the full ref). */
  branch?: string;
  /** Only runs of this patch (full id). */
  patch?: string;
  /** Only finished runs with this result. */
  result?: RunResult;
  /** At most this many runs (newest first). */
  limit?: number;
  /** Skip this many runs first (pagination; needs no limit). */
  offset?: number;
  /** Include runs of private repositories (default true; pages pass false unless configured). */
  includePrivate?: boolean;
};

/**
 * The branch a push run built: `main` for `refs/heads/main` or `refs/namespaces/<nid>/refs/heads/main`;
 * null for tags, other refs and patches. Agrees with the `branch` column of migration 2.
 */
export function branchOf(r: { event_type: 'push' | 'patch'; ref: string }): string | null {
  if (r.event_type !== 'push') return null;
  let local = r.ref;
  if (local.startsWith('refs/namespaces/')) {
    const slash = local.indexOf('/', 'refs/namespaces/'.length);
    if (slash >= 0) local = local.slice(slash + 1);
  }
  return local.startsWith('refs/heads/') && local.length > 'refs/heads/'.length ? local.slice('refs/heads/'.length) : null;
}

export function parseRunRow(row: unknown): RunRow {
  const parsed = RunRow.safeParse(row);
  if (!parsed.success) {
    throw new Error(`invalid row in runs table: ${z.prettifyError(parsed.error)}`, { cause: parsed.error });
  }
  return parsed.data;
}

/** The columns a RunRecord is made of: what run lists read (never logs or trigger messages). */
const RecordRow = RunRow.pick({
  id: true, adapter: true, adapter_run_id: true, info_url: true, repo: true, repo_name: true, event_type: true,
  ref: true, patch: true, commit_oid: true, state: true, result: true, reason: true, queued_at: true,
  started_at: true, finished_at: true, attempts: true,
});

/** For `SELECT ${RECORD_COLUMNS} FROM runs …`, read back with parseRecordRow. */
export const RECORD_COLUMNS = Object.keys(RecordRow.shape).join(', ');

/** A row of RECORD_COLUMNS, validated, as a RunRecord. */
export function parseRecordRow(row: unknown): RunRecord {
  const parsed = RecordRow.safeParse(row);
  if (!parsed.success) {
    throw new Error(`invalid row in runs table: ${z.prettifyError(parsed.error)}`, { cause: parsed.error });
  }
  return runRecordOf({ ...parsed.data, commit: parsed.data.commit_oid });
}

export function toRunRecord(r: RunRow): RunRecord {
  return runRecordOf({ ...r, commit: r.commit_oid });
}

/** Exactly the RunRecord keys (for JSON output) of a row or detail. */
export function runRecordOf(r: RunRecord): RunRecord {
  return {
    id: r.id,
    adapter: r.adapter,
    adapter_run_id: r.adapter_run_id,
    info_url: r.info_url,
    repo: r.repo,
    repo_name: r.repo_name,
    event_type: r.event_type,
    ref: r.ref,
    patch: r.patch,
    commit: r.commit,
    state: r.state,
    result: r.result,
    reason: r.reason,
    queued_at: r.queued_at,
    started_at: r.started_at,
    finished_at: r.finished_at,
    attempts: r.attempts,
  };
}

export function toRunDetail(r: RunRow): RunDetail {
  return {
    ...toRunRecord(r),
    branch: branchOf(r),
    title: r.title,
    author: r.author,
    private: r.private === 1,
    exit_code: r.exit_code,
    worker: r.worker,
    triggered_at: r.triggered_at,
    updated_at: r.updated_at,
    trigger: r.trigger_json,
    log: r.log,
  };
}

/** The raw row of a run, or null. */
export function getRunRow(db: DatabaseSync, id: string): RunRow | null {
  const row = stmt(db, 'SELECT * FROM runs WHERE id = ?').get(id);
  return row === undefined ? null : parseRunRow(row);
}

export function getRun(db: DatabaseSync, id: string): RunRecord | null {
  const row = getRunRow(db, id);
  return row === null ? null : toRunRecord(row);
}

export function getRunDetail(db: DatabaseSync, id: string): RunDetail | null {
  const row = getRunRow(db, id);
  return row === null ? null : toRunDetail(row);
}

function listRunRows(db: DatabaseSync, filter: RunFilter = {}): RunSummary[] {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (filter.repo !== undefined) {
    where.push('repo = ?');
    params.push(filter.repo);
  }
  for (const key of ['branch', 'patch', 'result'] as const) {
    const v = filter[key];
    if (v !== undefined) {
      where.push(`${key} = ?`);
      params.push(v);
    }
  }
  if (filter.includePrivate === false) where.push('private = 0');
  let sql = `SELECT ${SUMMARY_COLUMNS} FROM runs`;
  if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`;
  sql += ' ORDER BY queued_at DESC, id';
  if (filter.limit !== undefined || filter.offset !== undefined) {
    sql += ' LIMIT ? OFFSET ?';
    params.push(filter.limit === undefined ? -1 : Math.max(0, Math.floor(filter.limit)));
    params.push(Math.max(0, Math.floor(filter.offset ?? 0)));
  }
  return db.prepare(sql).all(...params).map(toRunSummary);
}

/** Runs newest first (queued_at descending, then id). */
export function listRuns(db: DatabaseSync, filter: RunFilter = {}): RunRecord[] {
  return listRunRows(db, filter).map(runRecordOf);
}

/** Like `listRuns`, with the fields the pages show. */
export function listRunDetails(db: DatabaseSync, filter: RunFilter = {}): RunSummary[] {
  return listRunRows(db, filter);
}

/** The newest run of each repository, ordered by repository name then id. */
export function latestRunPerRepo(db: DatabaseSync, opts: { includePrivate?: boolean } = {}): RunSummary[] {
  const priv = opts.includePrivate === false ? 'AND r2.private = 0' : '';
  const privOuter = opts.includePrivate === false ? 'WHERE private = 0' : '';
  const rows = db
    .prepare(
      `SELECT ${SUMMARY_COLUMNS} FROM runs WHERE id IN (
         SELECT (SELECT r2.id FROM runs AS r2 WHERE r2.repo = d.repo ${priv} ORDER BY r2.queued_at DESC, r2.id LIMIT 1)
         FROM (SELECT DISTINCT repo FROM runs ${privOuter}) AS d)
       ORDER BY repo_name, repo`,
    )
    .all();
  return rows.map(toRunSummary);
}

const Counted = z.object({ key: z.string(), n: z.number().int() });

/** Runs per `column` of `report_totals` (kept by triggers: no count over runs). */
function totalsBy(db: DatabaseSync, column: 'state' | 'result', includePrivate: boolean): { key: string; n: number }[] {
  const sql = `SELECT ${column} AS key, SUM(runs) AS n FROM report_totals${includePrivate ? '' : ' WHERE private = 0'} GROUP BY ${column}`;
  return stmt(db, sql)
    .all()
    .map((r) => Counted.parse(r));
}

export function countRuns(db: DatabaseSync, opts: { includePrivate?: boolean } = {}): number {
  return totalsBy(db, 'state', opts.includePrivate !== false).reduce((n, r) => n + r.n, 0);
}

/** Finished runs by result; every result is present (zero when none). */
export function countRunsByResult(
  db: DatabaseSync,
  opts: { includePrivate?: boolean } = {},
): Record<RunResult, number> {
  const counts = Object.fromEntries(RUN_RESULTS.map((r) => [r, 0])) as Record<RunResult, number>;
  for (const row of totalsBy(db, 'result', opts.includePrivate !== false)) {
    if (row.key === '') continue;
    counts[RunResult.parse(row.key)] = row.n;
  }
  return counts;
}

/** Runs by state; every state is present (zero when none). */
export function countRunsByState(db: DatabaseSync, opts: { includePrivate?: boolean } = {}): Record<RunState, number> {
  const counts = Object.fromEntries(RUN_STATES.map((s) => [s, 0])) as Record<RunState, number>;
  for (const row of totalsBy(db, 'state', opts.includePrivate !== false)) counts[RunState.parse(row.key)] = row.n;
  return counts;
}
