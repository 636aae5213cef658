/**
 * Run counts and durations for /metrics, straight from the reporter's SQLite database (read-only,
 * opened per scrape so a database created after the dashboard started is picked up).
 */
import { existsSync } from 'node:fs';
import type { DatabaseSync } from 'node:sqlite';
import { openDbReadOnly } from './open-db.ts';

/** Upper bounds (seconds) of the run duration histogram's buckets; +Inf is implied. */
export const DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200] as const;

export type RunGroup = {
  adapter: string;
  result: string;
  count: number;
  /** Finished runs with a known duration, and the sum of those durations (seconds). */
  timed: number;
  sum: number;
  /** Cumulative counts, one per DURATION_BUCKETS entry (runs with duration ≤ bound). */
  buckets: number[];
};

export type RunStats = { groups: RunGroup[]; unfinished: { adapter: string; state: string; count: number }[] };

function queryStats(db: DatabaseSync): RunStats {
  const bucketCols = DURATION_BUCKETS.map((b, i) => `SUM(CASE WHEN d <= ${b} THEN 1 ELSE 0 END) AS b${i}`).join(', ');
  const rows = db.prepare(`
    SELECT adapter, result, COUNT(*) AS n, COUNT(d) AS timed, COALESCE(SUM(d), 0) AS total, ${bucketCols}
    FROM (SELECT adapter, COALESCE(result, 'unknown') AS result,
                 CASE WHEN started_at IS NOT NULL AND finished_at IS NOT NULL
                      THEN MAX(0, unixepoch(finished_at, 'subsec') - unixepoch(started_at, 'subsec')) END AS d
          FROM runs WHERE state = 'finished')
    GROUP BY adapter, result ORDER BY adapter, result`).all() as Record<string, unknown>[];
  const groups = rows.map((r) => ({
    adapter: String(r.adapter),
    result: String(r.result),
    count: Number(r.n),
    timed: Number(r.timed),
    sum: Number(r.total),
    buckets: DURATION_BUCKETS.map((_, i) => Number(r[`b${i}`] ?? 0)),
  }));
  const unfinished = (db.prepare(`SELECT adapter, state, COUNT(*) AS n FROM runs WHERE state != 'finished'
    GROUP BY adapter, state ORDER BY adapter, state`).all() as Record<string, unknown>[])
    .map((r) => ({ adapter: String(r.adapter), state: String(r.state), count: Number(r.n) }));
  return { groups, unfinished };
}

/** Stats from the database at `dbPath`; empty when it does not exist yet. */
export function readRunStats(dbPath: string): RunStats {
  if (!existsSync(dbPath)) return { groups: [], unfinished: [] };
  const db = openDbReadOnly(dbPath);
  try {
    return queryStats(db);
  } finally {
    db.close();
  }
}
