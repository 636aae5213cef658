/**
 * Read-only git plumbing over a bare repository, for the test-side Radicle reader.
 *
 * Everything goes through `git --git-dir=<repo>` with argument arrays (no shell), and returns raw bytes:
 * the reader must see exactly what is stored, never a re-encoded view.
 */
import { execFileSync, spawnSync } from 'node:child_process';

export interface TreeEntry {
  readonly mode: string;
  readonly type: 'blob' | 'tree' | 'commit';
  readonly oid: string;
  readonly name: string;
}

export interface RefEntry {
  readonly name: string;
  readonly oid: string;
}

export const ZERO_OID = '0'.repeat(40);
export const OID_RE = /^[0-9a-f]{40}$/;

/** Runs git and returns stdout; throws with git's stderr on a non-zero exit. */
export function git(gitDir: string, args: readonly string[], input?: Uint8Array): Buffer {
  return execFileSync('git', [`--git-dir=${gitDir}`, ...args], {
    input,
    maxBuffer: 256 * 1024 * 1024,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C' },
  });
}

/** Like `git`, but `null` instead of throwing when git exits non-zero. */
export function gitTry(gitDir: string, args: readonly string[]): Buffer | null {
  const res = spawnSync('git', [`--git-dir=${gitDir}`, ...args], {
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C' },
  });
  return res.status === 0 ? res.stdout : null;
}

/** The object's type, or `null` if it is not in the repository. */
export function objectType(gitDir: string, oid: string): string | null {
  if (!OID_RE.test(oid)) return null;
  return gitTry(gitDir, ['cat-file', '-t', oid])?.toString().trim() ?? null;
}

/** Raw content of an object of the given type, or `null` if it is missing or of another type. */
export function readObject(gitDir: string, type: 'blob' | 'tree' | 'commit', oid: string): Buffer | null {
  if (objectType(gitDir, oid) !== type) return null;
  return gitTry(gitDir, ['cat-file', type, oid]);
}

/** Entries of a tree, in git's stored order; `null` if `oid` is not a tree. */
export function readTree(gitDir: string, oid: string): TreeEntry[] | null {
  if (objectType(gitDir, oid) !== 'tree') return null;
  const out = git(gitDir, ['ls-tree', '-z', '--full-tree', oid]).toString('utf8');
  return out
    .split('\0')
    .filter((l) => l.length > 0)
    .map((line) => {
      const tab = line.indexOf('\t');
      const [mode = '', type = '', entryOid = ''] = line.slice(0, tab).split(' ');
      return { mode, type: type as TreeEntry['type'], oid: entryOid, name: line.slice(tab + 1) };
    });
}

/** Refs under `prefix` (symbolic refs resolved to their target object), sorted by name bytes. */
export function listRefs(gitDir: string, prefix: string): RefEntry[] {
  const out = git(gitDir, ['for-each-ref', '--format=%(objectname) %(refname)', prefix]).toString('utf8');
  return out
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => ({ oid: l.slice(0, l.indexOf(' ')), name: l.slice(l.indexOf(' ') + 1) }))
    .sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
}

/** OID a ref points to (peeling symbolic refs), or `null` if it does not exist. */
export function resolveRef(gitDir: string, name: string): string | null {
  return gitTry(gitDir, ['rev-parse', '-q', '--verify', `${name}^{}`])?.toString().trim() ?? null;
}

/** True iff `ancestor` is `descendant` or one of its ancestors. */
export function isAncestor(gitDir: string, ancestor: string, descendant: string): boolean {
  return gitTry(gitDir, ['merge-base', '--is-ancestor', ancestor, descendant]) !== null;
}

export interface FsckResult {
  readonly ok: boolean;
  readonly output: string;
}

/** `git fsck --strict` over the whole repository (issue 8: "git fsck --strict passes"). */
export function fsckStrict(gitDir: string): FsckResult {
  const res = spawnSync('git', [`--git-dir=${gitDir}`, 'fsck', '--strict', '--no-dangling', '--no-progress'], {
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C' },
  });
  return { ok: res.status === 0, output: `${res.stdout}${res.stderr}`.trim() };
}
