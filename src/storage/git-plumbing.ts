/**
 * The git plumbing the job-COB writer needs, one `git` command each, on a bare storage repository:
 * write objects, build trees, read refs, and move a ref by compare-and-swap (`git update-ref <ref>
 * <new> <old>`), which fails instead of overwriting when another writer moved the ref first.
 */
import { execa } from 'execa';

export const ZERO_OID = '0000000000000000000000000000000000000000';
const OID = /^[0-9a-f]{40}$/;

export type TreeEntry = { mode: '100644' | '040000'; type: 'blob' | 'tree'; oid: string; name: string };

export class GitPlumbing {
  readonly gitDir: string;

  constructor(gitDir: string) {
    this.gitDir = gitDir;
  }

  async #git(args: string[], input?: string | Buffer): Promise<string> {
    const r = await execa('git', ['--git-dir', this.gitDir, ...args], {
      ...(input !== undefined ? { input } : {}),
      stripFinalNewline: true,
      env: { GIT_TERMINAL_PROMPT: '0' },
    });
    return String(r.stdout);
  }

  async writeObject(type: 'blob' | 'commit', content: string | Buffer): Promise<string> {
    const oid = await this.#git(['hash-object', '-t', type, '-w', '--stdin'], content);
    if (!OID.test(oid)) throw new Error(`git hash-object gave ${JSON.stringify(oid)}`);
    return oid;
  }

  async writeTree(entries: readonly TreeEntry[]): Promise<string> {
    for (const e of entries) if (/[\t\n\0/]/.test(e.name) || !OID.test(e.oid)) throw new Error(`bad tree entry ${JSON.stringify(e.name)}`);
    const text = entries.map((e) => `${e.mode} ${e.type} ${e.oid}\t${e.name}\n`).join('');
    return this.#git(['mktree'], text);
  }

  /** The object a revision names, or null. */
  async revParse(rev: string): Promise<string | null> {
    const r = await execa('git', ['--git-dir', this.gitDir, 'rev-parse', '-q', '--verify', '--end-of-options', rev], { reject: false });
    const out = String(r.stdout).trim();
    return r.exitCode === 0 && OID.test(out) ? out : null;
  }

  /** Refs under `prefix` (full names) → the object each resolves to (symbolic refs are followed). */
  async refs(prefix: string): Promise<Map<string, string>> {
    const out = await this.#git(['for-each-ref', '--format=%(objectname) %(refname)', prefix]);
    const refs = new Map<string, string>();
    for (const line of out.split('\n')) {
      const sp = line.indexOf(' ');
      if (sp === 40 && OID.test(line.slice(0, sp))) refs.set(line.slice(sp + 1), line.slice(0, sp));
    }
    return refs;
  }

  /**
   * Sets `ref` to `next` only if it is still `expected` (null: must not exist). False when another
   * writer moved it first; the caller re-reads and tries again.
   */
  async compareAndSwap(ref: string, next: string, expected: string | null, reason: string): Promise<boolean> {
    const r = await execa('git', ['--git-dir', this.gitDir, 'update-ref', '-m', reason, ref, next, expected ?? ZERO_OID], {
      reject: false,
    });
    if (r.exitCode === 0) return true;
    const now = await this.revParse(ref);
    if (now !== expected) return false;
    throw new Error(`git update-ref ${ref} failed: ${String(r.stderr).trim()}`);
  }

  async readBlob(oid: string): Promise<Buffer> {
    const r = await execa('git', ['--git-dir', this.gitDir, 'cat-file', 'blob', oid], { encoding: 'buffer' });
    return Buffer.from(r.stdout);
  }

  async config(key: string): Promise<string | null> {
    const r = await execa('git', ['--git-dir', this.gitDir, 'config', '--get', key], { reject: false });
    return r.exitCode === 0 ? String(r.stdout).trim() : null;
  }

  /** Those of `oids` that are not ancestors of another (`git merge-base --independent`), sorted. */
  async independent(oids: readonly string[]): Promise<string[]> {
    const unique = [...new Set(oids)];
    if (unique.length <= 1) return unique;
    const out = await this.#git(['merge-base', '--independent', ...unique]);
    return out.split('\n').filter((l) => OID.test(l)).sort();
  }

  /** The root commit(s) of the history of `rev`. */
  async roots(rev: string): Promise<string[]> {
    const out = await this.#git(['rev-list', '--max-parents=0', '--end-of-options', rev]);
    return out.split('\n').filter((l) => OID.test(l));
  }
}
