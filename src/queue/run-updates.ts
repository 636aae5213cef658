/**
 * Run state changes travel from producer and workers to the reporter through a Redis stream with a
 * consumer group: entries stay until the reporter has written them to SQLite and acknowledged them,
 * so a reporter that is down loses nothing, and one that crashes or fails mid-batch re-reads its
 * pending entries. The job-COB publisher reads the same stream through a group of its own; an entry
 * is deleted only once every group has acknowledged it, so either can be down without the other
 * losing anything.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RunUpdate } from '../model/run.ts';
import { parseJson } from '../util/parse-json.ts';

export const REPORTER_GROUP = 'reporter';
export const PUBLISHER_GROUP = 'publisher';

type GroupInfo = { name: string; pending: number; lastDelivered: string; lag: number | null };

/** The id right after `id` (`<ms>-<seq+1>`). */
function nextId(id: string): string {
  const [ms, seq] = id.split('-');
  return `${ms ?? '0'}-${BigInt(seq ?? '0') + 1n}`;
}

function olderId(a: string, b: string): boolean {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  return BigInt(am) < BigInt(bm) || (am === bm && BigInt(as) < BigInt(bs));
}

async function groups(redis: Redis, key: string): Promise<GroupInfo[]> {
  let raw: unknown[];
  try {
    raw = (await redis.xinfo('GROUPS', key)) as unknown[];
  } catch (e) {
    if (e instanceof Error && /no such key/i.test(e.message)) return [];
    throw e;
  }
  return raw.map((g) => {
    const f = g as unknown[];
    const get = (k: string): unknown => f[f.indexOf(k) + 1];
    const lag = get('lag');
    return {
      name: String(get('name')),
      pending: Number(get('pending')),
      lastDelivered: String(get('last-delivered-id')),
      lag: lag === null || lag === undefined ? null : Number(lag),
    };
  });
}

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
  readonly #group: string;
  #pendingFirst = true;

  constructor(redis: Redis, streamKey: string, consumer: string, log: Logger, group: string = REPORTER_GROUP) {
    this.#redis = redis;
    this.#key = streamKey;
    this.#consumer = consumer;
    this.#log = log;
    this.#group = group;
  }

  /**
   * Makes the next read start again with this consumer's unacknowledged entries: after a batch
   * could not be written or acknowledged, it is re-read instead of waiting for a restart.
   */
  rereadPending(): void {
    this.#pendingFirst = true;
  }

  /** Creates the stream and this reader's group if missing (again after Redis lost its data). */
  async ensureGroup(): Promise<void> {
    try {
      await this.#redis.xgroup('CREATE', this.#key, this.#group, '0', 'MKSTREAM');
    } catch (e) {
      if (!(e instanceof Error) || !e.message.includes('BUSYGROUP')) throw e;
    }
  }

  /** Next batch: first whatever this consumer read but never acknowledged, then new entries. */
  async read(blockMs: number, count = 200): Promise<ReadBatch> {
    const from = this.#pendingFirst ? '0' : '>';
    const args: (string | number)[] = ['GROUP', this.#group, this.#consumer, 'COUNT', count];
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

  /** Acknowledges `ids` for this group, then deletes the entries every group has acknowledged. */
  async ack(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.#redis.xack(this.#key, this.#group, ...ids);
    await this.#trimAcknowledged();
  }

  async #trimAcknowledged(): Promise<void> {
    const all = await groups(this.#redis, this.#key);
    let bound: string | null = null;
    for (const g of all) {
      let keepFrom = nextId(g.lastDelivered);
      if (g.pending > 0) {
        const summary = (await this.#redis.xpending(this.#key, g.name));
        if (typeof summary[1] === 'string') keepFrom = summary[1];
      }
      if (bound === null || olderId(keepFrom, bound)) bound = keepFrom;
    }
    if (bound !== null) await this.#redis.xtrim(this.#key, 'MINID', bound);
  }

  /** Entries not yet acknowledged by `group` (default: this reader's; used by `cibq queue` and tests). */
  async backlog(group: string = this.#group): Promise<number> {
    const g = (await groups(this.#redis, this.#key)).find((x) => x.name === group);
    if (g === undefined || g.lag === null) return this.#redis.xlen(this.#key);
    return g.pending + g.lag;
  }
}
