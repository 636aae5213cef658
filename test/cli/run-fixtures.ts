/** A database of runs for the `runs list` tests, written by the reporter's own update code. */
import { applyUpdate } from '../../src/db/apply-update.ts';
import { openDb } from '../../src/db/open-db.ts';
import type { RunResult, RunSubject, RunUpdate } from '../../src/model/run.ts';

export const ACME = 'rad:z3gqcJUoA1n9HaHKufZs5FCSGazv5';
export const TOOLS = 'rad:z2u2CP3ZJzB7ZqE8jHrau19yjcfCQ';
export const ALICE = 'z6MkiB8T5cBEQHnrs2MgjMVqvpSVj42X81HjKfFi2XBoMbtr';
export const BOB = 'z6MkrLMMsiPWUcNPHcRajuMi9mDfYckSoJyPwwnknocNYPm7';
export const PATCH = 'ab'.repeat(20);

type RunSpec = { id: string; repo?: string; ref?: string; patch?: string; adapter?: string; state?: RunUpdate['state']; result?: RunResult; log?: string; minute: number };

/** The log of r06: colour, and a terminal title change that `runs show --log` must not pass on. */
export const R06_LOG = 'building\n\u001b[31merror: test failed\u001b[0m\n\u001b]0;pwned\u0007done\n';

function subjectOf(r: RunSpec): RunSubject {
  const repo = r.repo ?? ACME;
  return {
    id: r.id,
    adapter: r.adapter ?? 'native',
    repo,
    repo_name: repo === ACME ? 'acme' : 'tools',
    event_type: r.patch ? 'patch' : 'push',
    ref: r.patch ? `refs/namespaces/${BOB}/refs/cobs/xyz.radicle.patch/${r.patch}` : (r.ref ?? `refs/namespaces/${ALICE}/refs/heads/main`),
    patch: r.patch ?? null,
    title: r.patch ? 'A <b>patch</b>' : null,
    author: null,
    commit: 'c'.repeat(40),
    private: false,
    queued_at: `2026-01-01T10:${String(r.minute).padStart(2, '0')}:00.000Z`,
  };
}

export const RUNS: RunSpec[] = [
  { id: 'r01', minute: 1, state: 'finished', result: 'success' },
  { id: 'r02', minute: 2, ref: `refs/namespaces/${BOB}/refs/heads/main`, state: 'finished', result: 'failure' },
  { id: 'r03', minute: 3, ref: 'refs/heads/main', state: 'finished', result: 'success', adapter: 'heavy' },
  { id: 'r04', minute: 4, ref: `refs/namespaces/${ALICE}/refs/heads/feature/main`, state: 'running' },
  { id: 'r05', minute: 5, ref: `refs/namespaces/${ALICE}/refs/tags/main` },
  { id: 'r06', minute: 6, patch: PATCH, state: 'finished', result: 'failure', log: R06_LOG },
  { id: 'r07', minute: 7, repo: TOOLS, state: 'finished', result: 'timeout' },
  { id: 'r08', minute: 8, ref: `refs/namespaces/${ALICE}/refs/heads/dev_x`, state: 'finished', result: 'success' },
];

/** Creates the database at `file` with RUNS: each queued, then moved to its state. */
export function seedRuns(file: string): void {
  const db = openDb(file);
  try {
    for (const r of RUNS) {
      const s = subjectOf(r);
      applyUpdate(db, { subject: s, state: 'queued', at: s.queued_at, attempts: 0 });
      if (r.state !== undefined && r.state !== 'queued') {
        applyUpdate(db, {
          subject: s,
          state: r.state,
          at: s.queued_at.replace(':00.000Z', ':30.000Z'),
          attempts: 1,
          ...(r.result !== undefined ? { result: r.result } : {}),
          ...(r.log !== undefined ? { log: r.log } : {}),
        } as RunUpdate);
      }
    }
  } finally {
    db.close();
  }
}
