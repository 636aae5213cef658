/**
 * Read-only access to a Radicle node's storage (`$RAD_HOME/storage/<rid>`, reference
 * radicle-node.md §3–4, §6). Long-lived: owns one `git cat-file --batch` per repository and a
 * read-only handle on the COB cache; `close()` releases them. Never writes to storage.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { Rid } from '../model/ci-event.ts';
import { CobRefReader } from './cob-refs.ts';
import { commitsBetween } from './commit-walk.ts';
import { GitBatch, assertBatchRev, type GitObject } from './git-batch.ts';
import { parseCommit, tagTarget, type Commit } from './git-object.ts';
import { parseIdentityDoc, type Identity } from './identity.ts';
import { PatchCache, patchFromCacheJson } from './patch-cache.ts';
import { evaluatePatchCob } from './patch-cob.ts';
import type { PatchInfo } from './patch-info.ts';
import { parseSigrefsBlob, type Sigrefs } from './sigrefs.ts';

export type { Identity } from './identity.ts';
export type { PatchInfo, RevisionInfo } from './patch-info.ts';
export type { Sigrefs } from './sigrefs.ts';

const OID = /^[0-9a-f]{40}$/;
/** node's own execFile, not execa: the producer reads storage and carries no execa in its memory. */
const run = promisify(execFile);
const PATCH_TYPE = 'xyz.radicle.patch';

export class Storage {
  readonly #radHome: string;
  readonly #log: Logger;
  readonly #batches = new Map<string, GitBatch>();
  readonly #cache: PatchCache;
  readonly #cobRefs = new CobRefReader();
  #commandSpawns = 0;
  #closed: Promise<void> | null = null;

  constructor(opts: { radHome: string; log: Logger }) {
    this.#radHome = opts.radHome;
    this.#log = opts.log;
    this.#cache = new PatchCache(join(opts.radHome, 'cobs', 'cache.db'));
  }

  /** Total git processes started by this instance: cat-file batches plus one-shot commands. */
  get gitSpawns(): number {
    let n = this.#commandSpawns;
    for (const b of this.#batches.values()) n += b.spawnCount;
    return n;
  }

  /** Bare git directory of a repository; throws on anything that is not a RID. */
  gitDir(rid: string): string {
    if (!Rid.safeParse(rid).success) throw new Error(`not a repository id: ${JSON.stringify(rid)}`);
    return join(this.#radHome, 'storage', rid.slice('rad:'.length));
  }

  async listRepositories(): Promise<string[]> {
    let entries;
    try {
      entries = await readdir(join(this.#radHome, 'storage'), { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    return entries
      .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !e.name.endsWith('.lock'))
      .map((e) => `rad:${e.name}`)
      .filter((rid) => Rid.safeParse(rid).success)
      .sort();
  }

  /** Any object by revision (`<oid>`, `<ref>`, `<rev>:<path>`); null when missing. */
  async read(rid: string, rev: string): Promise<GitObject | null> {
    return this.#batch(rid).read(rev);
  }

  async identity(rid: string): Promise<Identity> {
    const doc = await this.read(rid, 'refs/rad/id:embeds/radicle.json');
    if (doc?.type !== 'blob') throw new Error(`repository ${rid} has no identity document at refs/rad/id`);
    return parseIdentityDoc(rid, doc.content);
  }

  /** The direct target of a ref (for an annotated tag: the tag object); null when missing. */
  async resolveRef(rid: string, ref: string): Promise<string | null> {
    if (!ref.startsWith('refs/') || ref.includes(':') || ref.includes('..')) throw new Error(`invalid ref ${ref}`);
    return (await this.read(rid, ref))?.oid ?? null;
  }

  /** All refs under refs/namespaces/, refs/heads/, refs/tags/ and refs/rad/id, with one git command. */
  async listRefs(rid: string): Promise<Map<string, string>> {
    return this.#forEachRef(rid, ['refs/namespaces/', 'refs/heads/', 'refs/tags/', 'refs/rad/id']);
  }

  async peelToCommit(rid: string, oid: string): Promise<string | null> {
    let rev = oid;
    for (let depth = 0; depth < 16; depth++) {
      const obj = await this.read(rid, rev);
      if (obj === null) return null;
      if (obj.type === 'commit') return obj.oid;
      if (obj.type !== 'tag') return null;
      const target = tagTarget(obj.content);
      if (target === null) return null;
      rev = target;
    }
    return null;
  }

  /** Like `git rev-list tip ^old`, newest first; `[tip]` when old is null or nothing is new. */
  async commitsBetween(rid: string, tip: string, old: string | null, limit = 1000): Promise<string[]> {
    const tipCommit = (await this.peelToCommit(rid, tip)) ?? tip;
    const oldCommit = old === null ? null : ((await this.peelToCommit(rid, old)) ?? old);
    return commitsBetween((oid) => this.#commit(rid, oid), tipCommit, oldCommit, limit);
  }

  /** True only when `path` names a blob (file or symlink) in `commit`; directories never match. */
  async hasFile(rid: string, commit: string, path: string): Promise<boolean> {
    const bad = path.length === 0 || path.startsWith('/') || path.split('/').some((s) => s === '' || s === '.' || s === '..');
    if (bad) throw new Error(`invalid path ${JSON.stringify(path)}`);
    assertBatchRev(path);
    const obj = await this.read(rid, `${commit}:${path}`);
    return obj?.type === 'blob';
  }

  async sigrefs(rid: string, sigrefsCommit: string): Promise<Sigrefs> {
    const commit = await this.#commit(rid, sigrefsCommit);
    if (commit === null) throw new Error(`sigrefs commit ${sigrefsCommit} not found in ${rid}`);
    const blob = await this.read(rid, `${commit.tree}:refs`);
    if (blob?.type !== 'blob') throw new Error(`sigrefs commit ${sigrefsCommit} has no refs blob`);
    return { refs: parseSigrefsBlob(blob.content), parent: commit.parents[0] ?? null };
  }

  /** The patch from cache.db when it has a valid row, else evaluated from the COB in git. */
  async patch(rid: string, patchId: string): Promise<PatchInfo | null> {
    if (!OID.test(patchId)) throw new Error(`invalid patch id ${JSON.stringify(patchId)}`);
    const log = this.#log.child({ rid, patch: patchId });
    try {
      const row = this.#cache.row(rid, patchId);
      if (row !== null) return patchFromCacheJson(patchId, JSON.parse(row));
    } catch (err) {
      log.warn({ err }, 'cannot use the COB cache for this patch; evaluating from git');
    }
    // No process per patch event: the tips are read from the ref files (loose, then packed-refs).
    const gitDir = this.gitDir(rid);
    if (!existsSync(gitDir)) throw new Error(`repository ${rid} not found in storage`);
    const refs = await this.#cobRefs.tips(gitDir, PATCH_TYPE, patchId);
    if (refs.size === 0) return null;
    const identity = await this.identity(rid);
    return evaluatePatchCob((rev) => this.read(rid, rev), {
      patchId,
      tips: [...refs.values()],
      auth: { delegates: new Set(identity.delegates), threshold: identity.threshold },
    });
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#cache.close();
      const batches = [...this.#batches.values()];
      this.#batches.clear();
      await Promise.all(batches.map((b) => b.close()));
    })();
    return this.#closed;
  }

  #batch(rid: string): GitBatch {
    if (this.#closed !== null) throw new Error('Storage is closed');
    let b = this.#batches.get(rid);
    if (b === undefined) {
      const gitDir = this.gitDir(rid);
      if (!existsSync(gitDir)) throw new Error(`repository ${rid} not found in storage`);
      b = new GitBatch(gitDir, this.#log.child({ rid }));
      this.#batches.set(rid, b);
    }
    return b;
  }

  async #commit(rid: string, oid: string): Promise<Commit | null> {
    const obj = await this.read(rid, oid);
    return obj?.type === 'commit' ? parseCommit(obj.content) : null;
  }

  async #forEachRef(rid: string, patterns: string[]): Promise<Map<string, string>> {
    const gitDir = this.gitDir(rid);
    if (!existsSync(gitDir)) throw new Error(`repository ${rid} not found in storage`);
    this.#commandSpawns++;
    const { stdout } = await run('git', ['--git-dir', gitDir, 'for-each-ref', '--format=%(objectname) %(refname)', ...patterns], {
      maxBuffer: 256 * 1024 * 1024,
    });
    const refs = new Map<string, string>();
    for (const line of stdout.split('\n')) {
      const sp = line.indexOf(' ');
      if (sp > 0) refs.set(line.slice(sp + 1), line.slice(0, sp));
    }
    return refs;
  }
}
