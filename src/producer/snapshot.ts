/**
 * The producer's memory of storage, kept in Redis: per repository, the tracked refs it has fully
 * processed, and the latest revision of every patch it has seen. A ref is written here only after
 * its runs are enqueued, so a crash in between is repaired by the next catch-up scan. Reads and
 * writes of a batch of changes take one round trip each.
 */
import type { Redis } from 'ioredis';
import type { Keys } from '../queue/redis.ts';
import type { RefChange } from './ref-change.ts';

export class Snapshot {
  readonly #redis: Redis;
  readonly #keys: Keys;

  constructor(redis: Redis, keys: Keys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  async initialized(): Promise<boolean> {
    return (await this.#redis.exists(this.#keys.snapshotInitialized)) === 1;
  }

  async markInitialized(): Promise<void> {
    await this.#redis.set(this.#keys.snapshotInitialized, new Date().toISOString());
  }

  async get(rid: string): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.#redis.hgetall(this.#keys.snapshot(rid))));
  }

  async getRef(rid: string, ref: string): Promise<string | null> {
    return this.#redis.hget(this.#keys.snapshot(rid), ref);
  }

  /** The processed oid of each `(rid, ref)`, in one round trip. */
  async getRefs(refs: readonly { rid: string; ref: string }[]): Promise<(string | null)[]> {
    if (refs.length === 0) return [];
    const p = this.#redis.pipeline();
    for (const r of refs) p.hget(this.#keys.snapshot(r.rid), r.ref);
    return replies(await p.exec());
  }

  /**
   * Records changes as processed (in order: the last change of a ref wins) and the revisions built
   * of patches, in one MULTI.
   */
  async record(changes: readonly { rid: string; change: RefChange }[], revisions: readonly { rid: string; patch: string; revision: string }[] = []): Promise<void> {
    if (changes.length === 0 && revisions.length === 0) return;
    const last = new Map<string, Map<string, string | null>>();
    for (const { rid, change } of changes) {
      const refs = last.get(rid) ?? new Map<string, string | null>();
      refs.delete(change.ref); // re-inserted at the end: the map keeps the order of last changes
      refs.set(change.ref, change.new);
      last.set(rid, refs);
    }
    const multi = this.#redis.multi();
    for (const [rid, refs] of last) {
      const key = this.#keys.snapshot(rid);
      const set = [...refs].filter(([, oid]) => oid !== null);
      const gone = [...refs].filter(([, oid]) => oid === null).map(([ref]) => ref);
      if (set.length > 0) multi.hset(key, Object.fromEntries(set));
      if (gone.length > 0) multi.hdel(key, ...gone);
    }
    for (const r of revisions) multi.hset(this.#patchesKey(r.rid), r.patch, r.revision);
    const res = await multi.exec();
    for (const [err] of res ?? []) if (err) throw err;
  }

  /**
   * The latest revision (the one built) of each patch the producer has seen, per repository, so a
   * COB update that leaves it unchanged (a comment, a review, a label) starts nothing. Kept without
   * expiry next to the ref snapshot: `<snapshot key>:patches`, patch id → revision id.
   */
  async getPatchRevision(rid: string, patchId: string): Promise<string | null> {
    return this.#redis.hget(this.#patchesKey(rid), patchId);
  }

  /** The revision of each patch, in one round trip. */
  async getPatchRevisions(patches: readonly { rid: string; patch: string }[]): Promise<(string | null)[]> {
    if (patches.length === 0) return [];
    const p = this.#redis.pipeline();
    for (const x of patches) p.hget(this.#patchesKey(x.rid), x.patch);
    return replies(await p.exec());
  }

  async setPatchRevision(rid: string, patchId: string, revision: string): Promise<void> {
    await this.#redis.hset(this.#patchesKey(rid), patchId, revision);
  }

  #patchesKey(rid: string): string {
    return `${this.#keys.snapshot(rid)}:patches`;
  }

  async replace(rid: string, refs: ReadonlyMap<string, string>): Promise<void> {
    const key = this.#keys.snapshot(rid);
    const multi = this.#redis.multi().del(key);
    if (refs.size > 0) multi.hset(key, Object.fromEntries(refs));
    await multi.exec();
  }
}

/** The values of a pipeline of single-value reads; the first error is thrown. */
function replies(res: [Error | null, unknown][] | null): (string | null)[] {
  return (res ?? []).map(([err, v]) => {
    if (err) throw err;
    return (v ?? null) as string | null;
  });
}
