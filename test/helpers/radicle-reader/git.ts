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

interface StoredObject {
  readonly type: string;
  readonly content: Buffer;
}

/** Objects are content-addressed, so a found object can be cached for good (per repository). */
const cache = new Map<string, StoredObject>();

/**
 * Reads many objects with one `git cat-file --batch`; missing ones map to `null`. Spawning git per
 * object is what made a naive reader slow; graphs are read a level at a time through this.
 */
export function readObjects(gitDir: string, oids: readonly string[]): Map<string, StoredObject | null> {
  const out = new Map<string, StoredObject | null>();
  const todo = [...new Set(oids)].filter((oid) => {
    const hit = cache.get(`${gitDir}\0${oid}`);
    if (hit) out.set(oid, hit);
    else if (!OID_RE.test(oid)) out.set(oid, null);
    return hit === undefined && OID_RE.test(oid);
  });
  if (todo.length === 0) return out;
  const raw = git(gitDir, ['cat-file', '--batch'], Buffer.from(todo.map((o) => `${o}\n`).join('')));
  const found = parseBatch(gitDir, raw);
  for (const oid of todo) out.set(oid, found.get(oid) ?? null);
  return out;
}

/** Parses `cat-file --batch` output (`<oid> <type> <size>\n<content>\n` or `<oid> missing\n`), caching hits. */
function parseBatch(gitDir: string, raw: Buffer): Map<string, StoredObject> {
  const found = new Map<string, StoredObject>();
  for (let pos = 0; pos < raw.length; ) {
    const nl = raw.indexOf(10, pos);
    const [oid = '', type = '', size] = raw.subarray(pos, nl).toString('latin1').split(' ');
    pos = nl + 1;
    if (type === 'missing' || size === undefined) continue;
    const obj = { type, content: Buffer.from(raw.subarray(pos, pos + Number(size))) };
    pos += Number(size) + 1;
    cache.set(`${gitDir}\0${oid}`, obj);
    found.set(oid, obj);
  }
  return found;
}

/** Loads every object of a (small, test) repository into the cache with a single git process. */
export function preloadObjects(gitDir: string): void {
  parseBatch(gitDir, git(gitDir, ['cat-file', '--batch-all-objects', '--batch']));
}

/** The object's type, or `null` if it is not in the repository. */
export function objectType(gitDir: string, oid: string): string | null {
  return readObjects(gitDir, [oid]).get(oid)?.type ?? null;
}

/** Raw content of an object of the given type, or `null` if it is missing or of another type. */
export function readObject(gitDir: string, type: 'blob' | 'tree' | 'commit', oid: string): Buffer | null {
  const obj = readObjects(gitDir, [oid]).get(oid);
  return obj?.type === type ? obj.content : null;
}

/** Parses raw tree content: `<mode> <name>\0<20-byte oid>` entries. */
export function parseTree(content: Buffer): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (let pos = 0; pos < content.length; ) {
    const sp = content.indexOf(32, pos);
    const nul = content.indexOf(0, sp);
    const mode = content.subarray(pos, sp).toString('latin1').padStart(6, '0');
    const type = mode === '040000' ? 'tree' : mode === '160000' ? 'commit' : 'blob';
    entries.push({ mode, type, name: content.subarray(sp + 1, nul).toString('utf8'), oid: content.subarray(nul + 1, nul + 21).toString('hex') });
    pos = nul + 21;
  }
  return entries;
}

/** Entries of a tree, in git's stored order; `null` if `oid` is not a tree. */
export function readTree(gitDir: string, oid: string): TreeEntry[] | null {
  const content = readObject(gitDir, 'tree', oid);
  return content === null ? null : parseTree(content);
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
