/**
 * Opening the reporter's SQLite database: the reporter opens it read-write (and migrates it), the
 * CLI opens it read-only and can read while the reporter writes (WAL mode).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { migrate, schemaVersion } from './migrate.ts';
import { MIGRATIONS } from './migrations.ts';

const BUSY_TIMEOUT_MS = 5000;

/** Opens (creating it and its directory if needed) and migrates the database at `path`. */
export function openDb(path: string): DatabaseSync {
  mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path, { enableForeignKeyConstraints: true });
  try {
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec('PRAGMA foreign_keys = ON');
    migrate(db);
    optimizeDb(db);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * Refreshes the query planner's statistics where they are stale (SQLite's `PRAGMA optimize`):
 * without them SQLite may pick an index that reads every run. Cheap; the reporter runs it at start
 * and after each full regeneration.
 */
export function optimizeDb(db: DatabaseSync): void {
  db.exec('PRAGMA optimize=0x10002');
}

/** Opens an existing, migrated database for reading only. */
export function openDbReadOnly(path: string): DatabaseSync {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const version = schemaVersion(db);
    const newest = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);
    if (version === 0) throw new Error(`${path} is not a cibq database (no schema version)`);
    if (version > newest) {
      throw new Error(`${path} has schema version ${version}, newer than this cibq understands (${newest})`);
    }
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}
