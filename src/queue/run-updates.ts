/**
 * Run state changes travel from producer and workers to the reporter through a Redis stream with a
 * consumer group: entries stay until the reporter has written them to SQLite and acknowledged them,
 * so a reporter that is down loses nothing, and one that crashes or fails mid-batch re-reads its
 * pending entries.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RunUpdate } from '../model/run.ts';
import { parseJson } from '../util/parse-json.ts';

const GROUP = 'reporter';

export async function publishRunUpdate(redis: Redis, streamKey: string, update: RunUpdate): Promise<void> {
  await redis.xadd(streamKey, '*', 'u', JSON.stringify(update));
}

export type ReadBatch = { ids: string[]; updates: RunUpdate[] };

/** Reads updates for one consumer of the reporter group. Bad entries are logged and acknowledged away. */
export class RunUpdateReader {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #consumer: string;
  readonly #log: Logger;
  #pendingFirst = true;

  constructor(redis: Redis, streamKey: string, consumer: string, log: Logger) {
    this.#redis = redis;
    this.#key = streamKey;
    this.#consumer = consumer;
    this.#log = log;
  }

  /**
   * Makes the next read start again with this consumer's unacknowledged entries: after a batch
   * could not be written or acknowledged, it is re-read instead of waiting for a restart.
   */
  rereadPending(): void {
    this.#pendingFirst = true;
  }

  /** Creates the stream and the reporter group if missing (again after Redis lost its data). */
  async ensureGroup(): Promise<void> {
    try {
      await this.#redis.xgroup('CREATE', this.#key, GROUP, '0', 'MKSTREAM');
    } catch (e) {
      if (!(e instanceof Error) || !e.message.includes('BUSYGROUP')) throw e;
    }
  }

  /** Next batch: first whatever this consumer read but never acknowledged, then new entries. */
  async read(blockMs: number, count = 200): Promise<ReadBatch> {
    const from = this.#pendingFirst ? '0' : '>';
    const args: (string | number)[] = ['GROUP', GROUP, this.#consumer, 'COUNT', count];
    if (!this.#pendingFirst) args.push('BLOCK', blockMs);
    args.push('STREAMS', this.#key, from);
    const res = (await (this.#redis.xreadgroup as (...a: unknown[]) => Promise<unknown>)(...args)) as
      | [string, [string, string[]][]][]
      | null;
    const entries = res?.[0]?.[1] ?? [];
    if (this.#pendingFirst && entries.length === 0) this.#pendingFirst = false;
    const ids: string[] = [];
    const updates: RunUpdate[] = [];
    for (const [id, fields] of entries) {
      ids.push(id);
      const raw = fields[1];
      const r = parseJson(RunUpdate, raw ?? '');
      if (r.success) updates.push(r.data);
      else this.#log.error({ entry: id, issues: r.error?.issues }, 'dropping malformed run update');
    }
    return { ids, updates };
  }

  async ack(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.#redis.xack(this.#key, GROUP, ...ids);
    await this.#redis.xdel(this.#key, ...ids);
  }

  /** Entries not yet written by the reporter (used by `cibq queue` and tests). */
  async backlog(): Promise<number> {
    return this.#redis.xlen(this.#key);
  }
}
