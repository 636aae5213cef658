/**
 * Numbered schema migrations for the reporter's SQLite database, applied in order by `migrate()`.
 * Never edit a released migration: add a new one with the next number.
 */
import { REPORT_TABLES_SQL } from './report-tables.ts';

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
  {
    version: 2,
    name: 'branch column, report and CLI indexes',
    sql: `
-- The branch a push run built (\`main\` for \`refs/namespaces/<nid>/refs/heads/main\`), NULL for tags and patches.
-- Must agree with branchOf() in runs.ts.
ALTER TABLE runs ADD COLUMN branch TEXT GENERATED ALWAYS AS (
  CASE WHEN event_type = 'push' AND substr((CASE WHEN substr(ref, 1, 16) = 'refs/namespaces/' AND instr(substr(ref, 17), '/') > 0 THEN substr(ref, 17 + instr(substr(ref, 17), '/')) ELSE ref END), 1, 11) = 'refs/heads/' AND length((CASE WHEN substr(ref, 1, 16) = 'refs/namespaces/' AND instr(substr(ref, 17), '/') > 0 THEN substr(ref, 17 + instr(substr(ref, 17), '/')) ELSE ref END)) > 11
       THEN substr((CASE WHEN substr(ref, 1, 16) = 'refs/namespaces/' AND instr(substr(ref, 17), '/') > 0 THEN substr(ref, 17 + instr(substr(ref, 17), '/')) ELSE ref END), 12) END
) VIRTUAL;
-- Every index ends with \`private\` so that pages, which leave out private runs, filter inside the index.
-- Runs of a repository newest first (replaces runs_repo_queued of migration 1).
DROP INDEX runs_repo_queued;
CREATE INDEX runs_repo_queued ON runs (repo, queued_at DESC, id, private);
-- Repositories and their run counts (index page, status.json).
CREATE INDEX runs_private_repo ON runs (private, repo);
-- The newest run (status.json latest_ci_run).
CREATE INDEX runs_private_queued ON runs (private, queued_at DESC, id);
-- Runs of a branch newest first, the latest run per branch (index page, badges, \`runs list --repo --branch\`).
CREATE INDEX runs_repo_branch_queued ON runs (repo, branch, queued_at DESC, id, private) WHERE branch IS NOT NULL;
CREATE INDEX runs_branch_queued ON runs (branch, queued_at DESC, id) WHERE branch IS NOT NULL;
-- Runs of a patch newest first, the latest run per patch.
CREATE INDEX runs_repo_patch_queued ON runs (repo, patch, queued_at DESC, id, private) WHERE patch IS NOT NULL;
CREATE INDEX runs_patch_queued ON runs (patch, queued_at DESC, id) WHERE patch IS NOT NULL;
-- Runs by result (\`runs list --result\`), and counts by result and state (status.json).
CREATE INDEX runs_result_queued ON runs (result, queued_at DESC, id);
CREATE INDEX runs_private_result ON runs (private, result);
CREATE INDEX runs_private_state ON runs (private, state);
`,
  },
  {
    version: 3,
    name: 'stable list pages: run numbers per repository, branch and patch',
    sql: `
-- Each run's number within its repository, branch and patch: 1 for the oldest, then the next free
-- number as runs are recorded (apply-update.ts). List page k of a scope holds the numbers
-- (k-1)*50+1 … k*50, so a new run only changes the newest page.
ALTER TABLE runs ADD COLUMN repo_seq INTEGER;
ALTER TABLE runs ADD COLUMN branch_seq INTEGER;
ALTER TABLE runs ADD COLUMN patch_seq INTEGER;
UPDATE runs SET repo_seq = s.n
  FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY repo ORDER BY queued_at, id) AS n FROM runs) AS s
  WHERE s.id = runs.id;
UPDATE runs SET branch_seq = s.n
  FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY repo, branch ORDER BY queued_at, id) AS n
        FROM runs WHERE branch IS NOT NULL) AS s
  WHERE s.id = runs.id;
UPDATE runs SET patch_seq = s.n
  FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY repo, patch ORDER BY queued_at, id) AS n
        FROM runs WHERE patch IS NOT NULL) AS s
  WHERE s.id = runs.id;
CREATE UNIQUE INDEX runs_repo_seq ON runs (repo, repo_seq);
CREATE UNIQUE INDEX runs_repo_branch_seq ON runs (repo, branch, branch_seq) WHERE branch IS NOT NULL;
CREATE UNIQUE INDEX runs_repo_patch_seq ON runs (repo, patch, patch_seq) WHERE patch IS NOT NULL;
-- \`runs list --repo NAME\`: a repository name to its ids.
CREATE INDEX runs_repo_name ON runs (repo_name, repo);
`,
  },
  {
    version: 4,
    name: 'report counts, scopes and pages to write, kept by triggers',
    sql: REPORT_TABLES_SQL,
  },
];
