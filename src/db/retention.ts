/**
 * Retention (`keep_runs`): each repository keeps its newest `keepRuns` runs; older runs are
 * deleted once finished (a run still queued or running is never deleted).
 */
import type { DatabaseSync } from 'node:sqlite';
import { z } from 'zod';
import { stmt } from './statements.ts';

/** What the report needs to know about a deleted run to remove and rewrite its pages. */
export type PrunedRun = {
  id: string;
  repo: string;
  branch: string | null;
  patch: string | null;
  /** Its run numbers in repository, branch and patch: which list pages showed it. */
  repo_seq: number | null;
  branch_seq: number | null;
  patch_seq: number | null;
};

const Repo = z.object({ repo: z.string() });
const Seq = z.number().int().nullable();
/** A deleted run as read back: what its pages and list positions need (report-dirty.ts extends it). */
export const Pruned = z.object({
  id: z.string(),
  repo: z.string(),
  branch: z.string().nullable(),
  patch: z.string().nullable(),
  repo_seq: Seq,
  branch_seq: Seq,
  patch_seq: Seq,
});

/**
 * Deletes the finished runs beyond the newest `keepRuns` of each repository in `repos` (every
 * repository when omitted), in one transaction; returns the deleted runs.
 */
export function pruneRuns(db: DatabaseSync, keepRuns: number, repos?: Iterable<string>): PrunedRun[] {
  if (!Number.isInteger(keepRuns) || keepRuns < 0) throw new Error(`keep_runs must be a whole number, got ${keepRuns}`);
  const nested = db.isTransaction;
  db.exec(nested ? 'SAVEPOINT prune_runs' : 'BEGIN IMMEDIATE');
  try {
    // Only repositories with more runs than kept (counts kept by triggers, migration 4) have any to delete.
    const over = stmt(db, "SELECT repo FROM report_scopes WHERE kind = 'repo' GROUP BY repo HAVING SUM(runs) > ?")
      .all(keepRuns)
      .map((r) => Repo.parse(r).repo);
    const wanted = repos === undefined ? null : new Set(repos);
    const list = wanted === null ? over : over.filter((r) => wanted.has(r));
    const select = stmt(
      db,
      `SELECT id, repo, branch, patch, repo_seq, branch_seq, patch_seq FROM runs WHERE id IN (
         SELECT id FROM runs WHERE repo = ? ORDER BY queued_at DESC, id LIMIT -1 OFFSET ?)
       AND state = 'finished'`,
    );
    const del = stmt(db, 'DELETE FROM runs WHERE id = ?');
    const pruned: PrunedRun[] = [];
    for (const repo of list) {
      for (const row of select.all(repo, keepRuns)) {
        const p = Pruned.parse(row);
        del.run(p.id);
        pruned.push(p);
      }
    }
    db.exec(nested ? 'RELEASE prune_runs' : 'COMMIT');
    return pruned;
  } catch (e) {
    db.exec(nested ? 'ROLLBACK TO prune_runs; RELEASE prune_runs' : 'ROLLBACK');
    throw e;
  }
}
