/**
 * Migration 4: tables SQLite triggers keep up to date as runs are written, so that the report never
 * counts or groups the whole `runs` table to write one page:
 * - `report_scopes`: runs and newest queue time per repository, branch and patch (and private flag):
 *   list-page counts, the repository list, the patches most recently run;
 * - `report_totals`: runs per private flag, state and result (status.json);
 * - `report_dirty`: runs created, changed or deleted whose pages the reporter has not yet written
 *   (it clears them once written), so pages lost to a crash between SQLite and the page write are
 *   written at the next start without a full regeneration. `gen` only grows: a run changed again
 *   while its pages were being written gets a new gen, and is not cleared by that write;
 * - `report_meta`: this database's random id, part of the report's fingerprint, so that pages
 *   made from another database (one deleted and created anew) are regenerated.
 * Kept apart from migrations.ts for its size; never edit it once released.
 */

type Side = 'NEW' | 'OLD';

/** One scope kind: its name column in `runs`, and the index that finds its newest run. */
const KINDS = [
  { kind: 'repo', name: () => `''`, match: (s: Side) => `repo = ${s}.repo` },
  { kind: 'branch', name: (s: Side) => `${s}.branch`, match: (s: Side) => `repo = ${s}.repo AND branch = ${s}.branch` },
  { kind: 'patch', name: (s: Side) => `${s}.patch`, match: (s: Side) => `repo = ${s}.repo AND patch = ${s}.patch` },
] as const;

function scopesAdd(s: Side): string {
  const rows = KINDS.map(
    (k) => `SELECT ${s}.repo AS repo, '${k.kind}' AS kind, ${k.name(s)} AS name, ${s}.private AS private, 1 AS runs, ${s}.queued_at AS last_queued
      WHERE ${k.name(s)} IS NOT NULL`,
  ).join('\n    UNION ALL ');
  return `INSERT INTO report_scopes (repo, kind, name, private, runs, last_queued)
    SELECT * FROM (${rows}) WHERE true
    ON CONFLICT DO UPDATE SET runs = runs + 1, last_queued = max(last_queued, excluded.last_queued);`;
}

function scopesRemove(s: Side): string {
  // The newest queue time is looked up again only when the newest run of the scope goes.
  return KINDS.map(
    (k) => `UPDATE report_scopes SET runs = runs - 1, last_queued = CASE WHEN last_queued = ${s}.queued_at THEN COALESCE(
      (SELECT queued_at FROM runs WHERE ${k.match(s)} AND private = ${s}.private ORDER BY queued_at DESC LIMIT 1), '') ELSE last_queued END
    WHERE repo = ${s}.repo AND kind = '${k.kind}' AND name = ${k.name(s)} AND private = ${s}.private;`,
  ).join('\n  ') + `\n  DELETE FROM report_scopes WHERE repo = ${s}.repo AND runs <= 0;`;
}

function totalsAdd(s: Side, n: 1 | -1): string {
  return `INSERT INTO report_totals (private, state, result, runs) VALUES (${s}.private, ${s}.state, COALESCE(${s}.result, ''), ${n})
    ON CONFLICT DO UPDATE SET runs = runs + (${n});`;
}

function dirty(s: Side): string {
  return `DELETE FROM report_dirty WHERE id = ${s}.id;
  INSERT INTO report_dirty (id, repo, branch, patch, repo_seq, branch_seq, patch_seq)
    VALUES (${s}.id, ${s}.repo, ${s}.branch, ${s}.patch, ${s}.repo_seq, ${s}.branch_seq, ${s}.patch_seq);`;
}

const MOVED = ['repo', 'branch', 'patch', 'private', 'queued_at'].map((c) => `OLD.${c} IS NOT NEW.${c}`).join(' OR ');
const RECOUNTED = ['state', 'result', 'private'].map((c) => `OLD.${c} IS NOT NEW.${c}`).join(' OR ');

export const REPORT_TABLES_SQL = `
CREATE TABLE report_scopes (
  repo        TEXT NOT NULL,
  kind        TEXT NOT NULL CHECK (kind IN ('repo', 'branch', 'patch')),
  name        TEXT NOT NULL, -- '' for a repository
  private     INTEGER NOT NULL,
  runs        INTEGER NOT NULL,
  last_queued TEXT NOT NULL
  , PRIMARY KEY (repo, kind, name, private)
) STRICT, WITHOUT ROWID;
INSERT INTO report_scopes (repo, kind, name, private, runs, last_queued)
  SELECT repo, 'repo', '', private, COUNT(*), MAX(queued_at) FROM runs GROUP BY repo, private;
INSERT INTO report_scopes (repo, kind, name, private, runs, last_queued)
  SELECT repo, 'branch', branch, private, COUNT(*), MAX(queued_at) FROM runs WHERE branch IS NOT NULL GROUP BY repo, branch, private;
INSERT INTO report_scopes (repo, kind, name, private, runs, last_queued)
  SELECT repo, 'patch', patch, private, COUNT(*), MAX(queued_at) FROM runs WHERE patch IS NOT NULL GROUP BY repo, patch, private;

CREATE TABLE report_totals (
  private INTEGER NOT NULL,
  state   TEXT NOT NULL,
  result  TEXT NOT NULL, -- '' while unfinished
  runs    INTEGER NOT NULL,
  PRIMARY KEY (private, state, result)
) STRICT, WITHOUT ROWID;
INSERT INTO report_totals (private, state, result, runs)
  SELECT private, state, COALESCE(result, ''), COUNT(*) FROM runs GROUP BY private, state, COALESCE(result, '');

CREATE TABLE report_dirty (
  gen        INTEGER PRIMARY KEY AUTOINCREMENT,
  id         TEXT NOT NULL UNIQUE,
  repo       TEXT NOT NULL,
  branch     TEXT,
  patch      TEXT,
  repo_seq   INTEGER,
  branch_seq INTEGER,
  patch_seq  INTEGER
) STRICT;

CREATE TABLE report_meta (
  key   TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) STRICT;
INSERT INTO report_meta (key, value) VALUES ('database_id', lower(hex(randomblob(16))));

CREATE TRIGGER runs_report_insert AFTER INSERT ON runs BEGIN
  ${scopesAdd('NEW')}
  ${totalsAdd('NEW', 1)}
  ${dirty('NEW')}
END;
CREATE TRIGGER runs_report_delete AFTER DELETE ON runs BEGIN
  ${scopesRemove('OLD')}
  ${totalsAdd('OLD', -1)}
  ${dirty('OLD')}
END;
CREATE TRIGGER runs_report_update AFTER UPDATE ON runs BEGIN
  ${dirty('NEW')}
END;
CREATE TRIGGER runs_report_update_scopes AFTER UPDATE ON runs WHEN ${MOVED} BEGIN
  ${scopesRemove('OLD')}
  ${scopesAdd('NEW')}
END;
CREATE TRIGGER runs_report_update_totals AFTER UPDATE ON runs WHEN ${RECOUNTED} BEGIN
  ${totalsAdd('OLD', -1)}
  ${totalsAdd('NEW', 1)}
END;
`;
