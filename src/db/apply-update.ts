/**
 * Folds one run update into the `runs` table. Updates arrive at least once and in any order (several
 * workers, retries, a reporter restart replaying its queue), so applying them is idempotent and
 * order-independent:
 * - the first update seen for a run creates its row from the subject it carries, with the next run
 *   number of its repository, branch and patch (which list page shows it, see migration 3);
 * - the state only moves forward (`stateRank`);
 * - result, reason, exit code and finish time are set once, by the first `finished` update;
 * - triggered_at / started_at are the earliest time seen for those states;
 * - attempts is the largest seen; adapter run id, info URL, worker and trigger fill in when unknown,
 *   and are replaced only by an update at least as new (attempt, then state) as the row;
 * - the log is replaced by a longer log of the same attempt, or any log of a later attempt; while the
 *   row is not finished, also by a log of the same attempt at least as new as the row, and by the first
 *   `finished` update's log (a bounded live log keeps its length while its tail moves on).
 */
import type { DatabaseSync } from 'node:sqlite';
import { z } from 'zod';
import { stateRank, type RunUpdate } from '../model/run.ts';
import { branchOf, getRunRow, RunRow } from './runs.ts';
import { stmt } from './statements.ts';

/** Normalizes an ISO 8601 time so that text order is time order in SQLite. */
function iso(s: string): string {
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) throw new Error(`invalid timestamp ${JSON.stringify(s)}`);
  return d.toISOString();
}

function earliest(a: string | null, b: string): string {
  return a === null || b < a ? b : a;
}

function rowFromSubject(u: RunUpdate): RunRow {
  const s = u.subject;
  const queuedAt = iso(s.queued_at);
  return {
    id: s.id,
    adapter: s.adapter,
    adapter_run_id: null,
    info_url: null,
    repo: s.repo,
    repo_name: s.repo_name,
    event_type: s.event_type,
    ref: s.ref,
    patch: s.patch,
    title: s.title,
    author: s.author,
    commit_oid: s.commit,
    private: s.private ? 1 : 0,
    state: 'queued',
    result: null,
    reason: null,
    exit_code: null,
    queued_at: queuedAt,
    triggered_at: null,
    started_at: null,
    finished_at: null,
    attempts: 0,
    worker: null,
    trigger_json: null,
    log: null,
    updated_at: queuedAt,
  };
}

/** The row after applying `u` to `cur` (pure). */
export function mergeUpdate(cur: RunRow, u: RunUpdate): RunRow {
  const at = iso(u.at);
  const next: RunRow = { ...cur };
  const uAttempts = u.attempts ?? cur.attempts;
  const attemptCmp = Math.sign(uAttempts - cur.attempts);
  const cmp = attemptCmp !== 0 ? attemptCmp : Math.sign(stateRank(u.state) - stateRank(cur.state));

  if (stateRank(u.state) > stateRank(cur.state)) next.state = u.state;
  if (u.state === 'triggered') next.triggered_at = earliest(cur.triggered_at, at);
  if (u.state === 'running') next.started_at = earliest(cur.started_at, at);
  if (u.state === 'finished' && cur.finished_at === null) {
    next.finished_at = at;
    next.result = u.result;
    next.reason = u.reason ?? null;
    next.exit_code = u.exit_code ?? null;
  }
  next.attempts = Math.max(cur.attempts, u.attempts ?? 0);

  const fill = <T>(current: T | null, incoming: T | null | undefined): T | null =>
    incoming !== undefined && incoming !== null && (current === null || cmp >= 0) ? incoming : current;
  next.worker = fill(cur.worker, u.worker === '' ? undefined : u.worker);
  if (u.state === 'queued') return next;
  next.trigger_json = fill(cur.trigger_json, u.trigger);
  if (u.state !== 'triggered') {
    next.adapter_run_id = fill(cur.adapter_run_id, u.adapter_run_id);
    next.info_url = fill(cur.info_url, u.info_url);
  }

  if (u.log !== undefined) {
    const newer = attemptCmp === 0 && cur.finished_at === null && (u.state === 'finished' || at >= cur.updated_at);
    if (cur.log === null || attemptCmp > 0 || (attemptCmp === 0 && u.log.length > cur.log.length) || newer) {
      next.log = u.log;
    }
  }
  return next;
}

function sameRow(a: RunRow, b: RunRow): boolean {
  return (Object.keys(a) as (keyof RunRow)[]).every((k) => k === 'updated_at' || a[k] === b[k]);
}

const COLUMNS = Object.keys(RunRow.shape) as (keyof RunRow)[];

const INSERTED = [...COLUMNS, 'repo_seq', 'branch_seq', 'patch_seq'];
const INSERT_SQL = `INSERT INTO runs (${INSERTED.join(', ')}) VALUES (${INSERTED.map(() => '?').join(', ')})`;
const UPDATED = COLUMNS.filter((c) => c !== 'id');

/**
 * An UPDATE of only the columns that changed: SQLite maintains an index only when the statement
 * sets one of its columns, and `runs` has a dozen indexes that most updates (a log growing, a
 * state moving on) leave alone. One statement per set of columns, prepared once.
 */
function updateSql(columns: readonly string[]): string {
  return `UPDATE runs SET ${columns.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`;
}

const NextSeq = z.object({ n: z.number().int().nullable() });

/** The next free run number in a repository, branch or patch (1 for the first): see migration 3. */
function nextSeq(db: DatabaseSync, sql: string, ...params: string[]): number {
  return (NextSeq.parse(stmt(db, sql).get(...params)).n ?? 0) + 1;
}

function writeRow(db: DatabaseSync, row: RunRow, before: RunRow | null): void {
  if (before === null) {
    const branch = branchOf(row);
    const seqs = {
      repo_seq: nextSeq(db, 'SELECT MAX(repo_seq) AS n FROM runs WHERE repo = ?', row.repo),
      branch_seq:
        branch === null
          ? null
          : nextSeq(db, 'SELECT MAX(branch_seq) AS n FROM runs WHERE repo = ? AND branch = ?', row.repo, branch),
      patch_seq:
        row.patch === null
          ? null
          : nextSeq(db, 'SELECT MAX(patch_seq) AS n FROM runs WHERE repo = ? AND patch = ?', row.repo, row.patch),
    };
    stmt(db, INSERT_SQL).run(
      ...COLUMNS.map((c) => row[c]),
      seqs.repo_seq,
      seqs.branch_seq,
      seqs.patch_seq,
    );
  } else {
    const changed = UPDATED.filter((c) => row[c] !== before[c]);
    if (changed.length === 0) return;
    stmt(db, updateSql(changed)).run(...changed.map((c) => row[c]), row.id);
  }
}

/** Applies `u`; returns true when the stored run changed (or was created). */
export function applyUpdate(db: DatabaseSync, u: RunUpdate): boolean {
  const nested = db.isTransaction;
  db.exec(nested ? 'SAVEPOINT apply_update' : 'BEGIN IMMEDIATE');
  try {
    const existing = getRunRow(db, u.subject.id);
    const cur = existing ?? rowFromSubject(u);
    const next = mergeUpdate(cur, u);
    const changed = existing === null || !sameRow(cur, next);
    if (changed) {
      const at = iso(u.at);
      next.updated_at = at > cur.updated_at ? at : cur.updated_at;
      writeRow(db, next, existing);
    }
    db.exec(nested ? 'RELEASE apply_update' : 'COMMIT');
    return changed;
  } catch (e) {
    db.exec(nested ? 'ROLLBACK TO apply_update; RELEASE apply_update' : 'ROLLBACK');
    throw e;
  }
}

/**
 * Applies a batch of updates in one transaction (one commit, one WAL sync for the batch); returns
 * true when any stored run changed. All or nothing: on a fault none of them is kept.
 */
export function applyUpdates(db: DatabaseSync, updates: readonly RunUpdate[]): boolean {
  if (updates.length === 0) return false;
  db.exec('BEGIN IMMEDIATE');
  try {
    let changed = false;
    for (const u of updates) if (applyUpdate(db, u)) changed = true;
    db.exec('COMMIT');
    return changed;
  } catch (e) {
    db.exec('ROLLBACK');
    throw e;
  }
}
