/**
 * Runs whose pages are not yet written (`report_dirty`, kept by the triggers of migration 4): every
 * run created, changed or deleted lands there in the same transaction as the change, and leaves only
 * when the reporter has written its pages. A reporter killed between SQLite and its page write finds
 * them at its next start, without regenerating every page.
 */
import type { DatabaseSync } from 'node:sqlite';
import { z } from 'zod';
import { Pruned, type PrunedRun } from './retention.ts';
import { stmt } from './statements.ts';

/** A run waiting for its pages: still stored (`present`) or deleted, with the numbers it had. */
export type DirtyRun = PrunedRun & { gen: number; present: boolean };

const DirtyRow = Pruned.extend({ gen: z.number().int(), present: z.number().int() });
const Repo = z.object({ repo: z.string() });
const Value = z.object({ value: z.string() });
const Gen = z.object({ gen: z.number().int().nullable() });

/** The oldest `limit` runs waiting for their pages. */
export function dirtyRuns(db: DatabaseSync, limit: number): DirtyRun[] {
  return stmt(
    db,
    `SELECT d.gen, d.id, d.repo, d.branch, d.patch, d.repo_seq, d.branch_seq, d.patch_seq,
            EXISTS (SELECT 1 FROM runs WHERE runs.id = d.id) AS present
     FROM report_dirty AS d ORDER BY d.gen LIMIT ?`,
  )
    .all(limit)
    .map((r) => {
      const row = DirtyRow.parse(r);
      return { ...row, present: row.present === 1 };
    });
}

/** The repositories of runs waiting for their pages (retention looks at these). */
export function dirtyRepos(db: DatabaseSync): string[] {
  return stmt(db, 'SELECT DISTINCT repo FROM report_dirty')
    .all()
    .map((r) => Repo.parse(r).repo);
}

/** The newest change waiting (0 when none): a full regeneration that starts now covers up to it. */
export function lastDirtyGen(db: DatabaseSync): number {
  return Gen.parse(stmt(db, 'SELECT MAX(gen) AS gen FROM report_dirty').get()).gen ?? 0;
}

/** Clears `runs` once their pages are written; a run changed again since (a newer gen) stays. */
export function clearDirty(db: DatabaseSync, runs: readonly Pick<DirtyRun, 'id' | 'gen'>[]): void {
  if (runs.length === 0) return;
  const del = stmt(db, 'DELETE FROM report_dirty WHERE id = ? AND gen = ?');
  const nested = db.isTransaction;
  db.exec(nested ? 'SAVEPOINT clear_dirty' : 'BEGIN IMMEDIATE');
  try {
    for (const r of runs) del.run(r.id, r.gen);
    db.exec(nested ? 'RELEASE clear_dirty' : 'COMMIT');
  } catch (e) {
    db.exec(nested ? 'ROLLBACK TO clear_dirty; RELEASE clear_dirty' : 'ROLLBACK');
    throw e;
  }
}

/** Clears every change up to `gen` (after a full regeneration that began after it). */
export function clearDirtyThrough(db: DatabaseSync, gen: number): void {
  stmt(db, 'DELETE FROM report_dirty WHERE gen <= ?').run(gen);
}

/** This database's random id (migration 4): pages made from another database are not up to date. */
export function databaseId(db: DatabaseSync): string {
  return Value.parse(stmt(db, `SELECT value FROM report_meta WHERE key = 'database_id'`).get()).value;
}
