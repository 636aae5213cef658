/**
 * The script's whole environment, built from nothing: nothing of the adapter's own environment
 * (the broker's variables, RAD_HOME, tokens) reaches a repository's script except PATH. What the
 * script may want to know about the run comes as RADICLE_* and CIBQ_* variables; values a peer
 * chose (a branch name) are data in a variable, never text of a command.
 */
import type { TriggerFacts } from './trigger-request.ts';

export const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

export type ScriptEnvInput = {
  /** The adapter's PATH (the operator's choice), or null for DEFAULT_PATH. */
  path: string | null;
  home: string;
  tmpdir: string;
  facts: TriggerFacts;
  runId: string;
  /** The broker's id of the run (cibq's CIBQ_RUN_ID), when it gave one. */
  brokerRunId: string | null;
  /** The commit's committer time, seconds since the epoch. */
  commitTime: number;
};

export function scriptEnv(i: ScriptEnvInput): Record<string, string> {
  const f = i.facts;
  const env: Record<string, string> = {
    PATH: i.path ?? DEFAULT_PATH,
    HOME: i.home,
    TMPDIR: i.tmpdir,
    CI: 'true',
    LANG: 'C.UTF-8',
    TZ: 'UTC',
    SOURCE_DATE_EPOCH: String(i.commitTime),
    CIBQ_NATIVE_RUN_ID: i.runId,
    RADICLE_RID: f.rid,
    RADICLE_REPO_NAME: f.repoName,
    RADICLE_COMMIT: f.commit,
    RADICLE_EVENT_TYPE: f.eventType,
  };
  if (i.brokerRunId !== null) env.CIBQ_RUN_ID = i.brokerRunId;
  if (f.ref !== null) env.RADICLE_REF = f.ref;
  if (f.branch !== null) env.RADICLE_BRANCH = f.branch;
  if (f.tag !== null) env.RADICLE_TAG = f.tag;
  if (f.patchId !== null) env.RADICLE_PATCH_ID = f.patchId;
  return env;
}

/**
 * One line saying what is built, for logs: `branch "main"`, `tag "v1.0"`, `patch 1e4673a0 "title"`.
 * Names are JSON-quoted: a control character a peer put in a branch name cannot drive a terminal.
 */
export function whatIsBuilt(f: TriggerFacts): string {
  const q = (s: string): string => JSON.stringify(s);
  if (f.patchId !== null) return `patch ${f.patchId.slice(0, 8)}${f.patchTitle ? ` ${q(f.patchTitle)}` : ''}`;
  if (f.tag !== null) return `tag ${q(f.tag)}`;
  if (f.branch !== null) return `branch ${q(f.branch)}`;
  return f.ref === null ? 'push' : q(f.ref);
}
