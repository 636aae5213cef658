/**
 * A made-up history of finished runs for the reporter benches: runs spread over repositories,
 * branches, tags and patches (or all in one branch), a minute apart, each with a short log.
 */
import type { RunSubject, RunUpdate } from '../../src/model/run.ts';

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
export const HISTORY_START = Date.parse('2024-01-01T00:00:00Z');

export function rid(i: number): string {
  let s = '';
  for (let n = i + 1000; s.length < 28; n = Math.floor(n / 7) + 31 * s.length + 1) s += B58[n % 58];
  return `rad:z${s}`;
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0').repeat(5);
}

/** Run i of a history over `repos` repositories (branches, tags and patches). */
export function spreadSubject(i: number, repos: number): RunSubject {
  const repo = i % repos;
  const kind = i % 10;
  const isPatch = kind >= 7;
  const branch = ['main', 'main', 'main', 'develop', `feature/f${i % 7}`, 'release/1.x', 'main'][kind % 7] as string;
  const patch = hex(repo * 1000 + (Math.floor(i / repos) % 40));
  return {
    id: `run-${String(i).padStart(7, '0')}`,
    adapter: i % 3 === 0 ? 'podman' : 'native',
    repo: rid(repo),
    repo_name: `project-${repo}`,
    event_type: isPatch ? 'patch' : 'push',
    ref: isPatch ? `refs/heads/patches/${patch}` : `refs/namespaces/z6MkNode/refs/heads/${branch}`,
    patch: isPatch ? patch : null,
    title: isPatch ? `Improve <thing> #${i % 40}` : null,
    author: 'did:key:z6MkiB8T5cBEQHnrs2MgjMVqvpSVj42X81HjKfFi2XBoMbtr',
    commit: hex(i),
    private: false,
    queued_at: new Date(HISTORY_START + i * 60_000).toISOString(),
  };
}

/** Run i of a history all in one repository, on one branch. */
export function oneBranchSubject(i: number): RunSubject {
  return {
    ...spreadSubject(i, 1),
    repo: rid(0),
    repo_name: 'monorepo',
    event_type: 'push',
    ref: 'refs/namespaces/z6MkNode/refs/heads/main',
    patch: null,
    title: null,
  };
}

/** The `finished` update of run i. */
export function finished(s: RunSubject, i: number): RunUpdate {
  const at = new Date(Date.parse(s.queued_at) + 45_000 + (i % 300) * 1000).toISOString();
  return {
    subject: s,
    state: 'finished',
    at,
    attempts: 1,
    result: i % 11 === 0 ? 'failure' : 'success',
    exit_code: i % 11 === 0 ? 1 : 0,
    adapter_run_id: `ar-${i}`,
    log: `\x1b[32mCompiling\x1b[0m project v0.1.0\nrunning ${i % 50} tests\ntest result: ok\n`,
  };
}
