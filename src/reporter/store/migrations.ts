/**
 * Numbered schema migrations for the reporter's SQLite database, applied in order by `migrate()`.
 * Never edit a released migration: add a new one with the next number.
 */
export type Migration = Readonly<{ version: number; name: string; sql: string }>;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'runs',
    sql: `
CREATE TABLE runs (
  id             TEXT PRIMARY KEY NOT NULL,
  adapter        TEXT NOT NULL,
  adapter_run_id TEXT,
  info_url       TEXT,
  repo           TEXT NOT NULL,
  repo_name      TEXT NOT NULL,
  event_type     TEXT NOT NULL CHECK (event_type IN ('push', 'patch')),
  ref            TEXT NOT NULL,
  patch          TEXT,
  title          TEXT,
  author         TEXT,
  commit_oid     TEXT NOT NULL,
  private        INTEGER NOT NULL DEFAULT 0 CHECK (private IN (0, 1)),
  state          TEXT NOT NULL CHECK (state IN ('queued', 'triggered', 'running', 'finished')),
  result         TEXT CHECK (result IN ('success', 'failure', 'error', 'timeout', 'cancelled')),
  reason         TEXT,
  exit_code      INTEGER,
  queued_at      TEXT NOT NULL,
  triggered_at   TEXT,
  started_at     TEXT,
  finished_at    TEXT,
  attempts       INTEGER NOT NULL DEFAULT 0,
  worker         TEXT,
  trigger_json   TEXT,
  log            TEXT,
  updated_at     TEXT NOT NULL
) STRICT;
-- Runs of a repository newest first, and the latest run per repository.
CREATE INDEX runs_repo_queued ON runs (repo, queued_at DESC, id);
-- All runs newest first (listRuns without a repository, latest_ci_run).
CREATE INDEX runs_queued ON runs (queued_at DESC, id);
-- Runs by state (e.g. reconciling runs left running).
CREATE INDEX runs_state ON runs (state);
`,
  },
];
