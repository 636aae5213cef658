/**
 * Prepared statements cached per database handle: node:sqlite compiles SQL on every `prepare`, which
 * costs more than running most of the reporter's queries. Each distinct SQL text is prepared once per
 * handle; the cache goes with the handle (a WeakMap), so a closed and reopened database starts anew.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';

const caches = new WeakMap<DatabaseSync, Map<string, StatementSync>>();

/** The statement for `sql` on `db`, prepared on first use. */
export function stmt(db: DatabaseSync, sql: string): StatementSync {
  let cache = caches.get(db);
  if (cache === undefined) {
    cache = new Map();
    caches.set(db, cache);
  }
  let s = cache.get(sql);
  if (s === undefined) {
    s = db.prepare(sql);
    cache.set(sql, s);
  }
  return s;
}
