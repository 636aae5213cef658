/**
 * Applies the numbered migrations that a database lacks, each in its own transaction, and records
 * them in `schema_version`. Safe when several processes open the same file at once.
 */
import type { DatabaseSync } from 'node:sqlite';
import { MIGRATIONS, type Migration } from './migrations.ts';

export function schemaVersion(db: DatabaseSync): number {
  const table = db
    .prepare(`SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'`)
    .get();
  if (table === undefined) return 0;
  const row = db.prepare('SELECT MAX(version) AS version FROM schema_version').get();
  const v = row?.['version'];
  return typeof v === 'number' ? v : 0;
}

/** Brings `db` to the newest schema; returns the version it is at afterwards. */
export function migrate(db: DatabaseSync, migrations: readonly Migration[] = MIGRATIONS): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
  ) STRICT`);
  const newest = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  const current = schemaVersion(db);
  if (current > newest) {
    throw new Error(`database schema version ${current} is newer than this cibq understands (${newest})`);
  }
  const pending = [...migrations].sort((a, b) => a.version - b.version).filter((m) => m.version > current);
  for (const m of pending) {
    // IMMEDIATE takes the write lock first, so a concurrent opener waits and then sees the migration as applied.
    db.exec('BEGIN IMMEDIATE');
    try {
      if (schemaVersion(db) < m.version) {
        db.exec(m.sql);
        db.prepare('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)').run(
          m.version,
          m.name,
          new Date().toISOString(),
        );
      }
      db.exec('COMMIT');
    } catch (e) {
      db.exec('ROLLBACK');
      throw new Error(`migration ${m.version} (${m.name}) failed`, { cause: e });
    }
  }
  return schemaVersion(db);
}
