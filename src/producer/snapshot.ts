/**
 * The producer's memory of storage, kept in Redis: per repository, the tracked refs it has fully
 * processed, and the latest revision of every patch it has seen. A ref is written here only after
 * its runs are enqueued, so a crash in between is repaired by the next catch-up scan.
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

  async record(rid: string, c: RefChange): Promise<void> {
    const key = this.#keys.snapshot(rid);
    if (c.new === null) await this.#redis.hdel(key, c.ref);
    else await this.#redis.hset(key, c.ref, c.new);
  }

  /**
   * The latest revision (the one built) of each patch the producer has seen, per repository, so a
   * COB update that leaves it unchanged (a comment, a review, a label) starts nothing. Kept without
   * expiry next to the ref snapshot: `<snapshot key>:patches`, patch id → revision id.
   */
  async getPatchRevision(rid: string, patchId: string): Promise<string | null> {
    return this.#redis.hget(this.#patchesKey(rid), patchId);
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
