/**
 * Getting the commit to build into a fresh directory: from the node's storage
 * (`$RAD_HOME/storage/<rid>`, only read: `git fetch` runs upload-pack there, which writes nothing),
 * or, on a machine without a node, from the `git_url` template. The repository id and the commit
 * were checked at the boundary (trigger-request.ts); git runs without a shell, without hooks, and
 * never sees a branch name or anything else a peer chose.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';

export type CommitSource = { kind: 'storage'; path: string } | { kind: 'url'; url: string };

export type CheckedOut = {
  /** Seconds since the epoch: the commit's committer time (SOURCE_DATE_EPOCH). */
  commitTime: number;
  /** `.radicle/native.yaml` at the commit, or null when the commit has no such file. */
  runspec: { text: string; blob: string } | null;
};

/** Where the commit comes from, or why it cannot be got. */
export function commitSource(rid: string, radHome: string, gitUrl: string | null): CommitSource | { error: string } {
  const id = rid.slice('rad:'.length);
  const path = join(radHome, 'storage', id);
  if (existsSync(path)) return { kind: 'storage', path };
  if (gitUrl !== null) return { kind: 'url', url: gitUrl.replaceAll('{rid}', id) };
  return { error: `repository ${rid} is not in the node's storage (${path}) and no git_url is configured to fetch it from` };
}

export function describeSource(s: CommitSource): string {
  return s.kind === 'storage' ? `node storage ${s.path}` : s.url;
}

/** git's environment: the adapter's, without GIT_* variables that would point git elsewhere. */
export function gitEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !k.startsWith('GIT_')) out[k] = v;
  return { ...out, GIT_TERMINAL_PROMPT: '0', GIT_ADVICE: '0' };
}

const SAFE = ['-c', 'core.hooksPath=/dev/null', '-c', 'advice.detachedHead=false', '-c', 'init.defaultBranch=ci'];

async function git(dir: string, args: string[], env: Record<string, string>, opts: { input?: string } = {}): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  const r = await execa('git', [...SAFE, '-C', dir, ...args], { env, extendEnv: false, reject: false, stripFinalNewline: true, ...(opts.input === undefined ? { stdin: 'ignore' } : { input: opts.input }) });
  return { ok: r.exitCode === 0, stdout: String(r.stdout), stderr: String(r.stderr).trim() };
}

export class CheckoutError extends Error {
  override readonly name = 'CheckoutError';
}

/** Fetches `commit` from `source` into the new directory `dir` and checks it out (detached). */
export async function checkoutCommit(opts: { source: CommitSource; commit: string; dir: string; env: Record<string, string> }): Promise<CheckedOut> {
  const { dir, commit, env } = opts;
  const from = opts.source.kind === 'storage' ? opts.source.path : opts.source.url;
  const steps: [string, string[]][] = [
    ['create the checkout', ['init', '-q', '.']],
    [`fetch commit ${commit} from ${describeSource(opts.source)}`, ['fetch', '-q', '--no-tags', '--no-write-fetch-head', '--', from, commit]],
  ];
  for (const [what, args] of steps) {
    const r = await git(dir, args, env);
    if (!r.ok) throw new CheckoutError(`could not ${what}: ${r.stderr || 'git failed'}`);
  }
  const type = await git(dir, ['cat-file', '-t', commit], env);
  if (!type.ok || type.stdout !== 'commit') throw new CheckoutError(`${commit} is not a commit`);
  const time = await git(dir, ['show', '-s', '--format=%ct', commit], env);
  const commitTime = Number(time.stdout);
  if (!time.ok || !Number.isSafeInteger(commitTime)) throw new CheckoutError(`cannot read the time of commit ${commit}: ${time.stderr}`);
  const runspec = await readRunspec(dir, commit, env);
  const co = await git(dir, ['checkout', '-q', '--detach', commit], env);
  if (!co.ok) throw new CheckoutError(`could not check out ${commit}: ${co.stderr}`);
  return { commitTime, runspec };
}

async function readRunspec(dir: string, commit: string, env: Record<string, string>): Promise<CheckedOut['runspec']> {
  const rev = `${commit}:.radicle/native.yaml`;
  const blob = await git(dir, ['rev-parse', '-q', '--verify', rev], env);
  if (!blob.ok) return null;
  const type = await git(dir, ['cat-file', '-t', blob.stdout], env);
  if (type.stdout !== 'blob') return null;
  const text = await git(dir, ['cat-file', 'blob', blob.stdout], env);
  if (!text.ok) throw new CheckoutError(`cannot read ${rev}: ${text.stderr}`);
  return { text: text.stdout, blob: blob.stdout };
}
