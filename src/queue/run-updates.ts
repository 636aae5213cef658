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

/**
 * Acknowledges entries for one group and deletes what every group has acknowledged, in one script
 * (atomic): a reader killed between separate calls would leave entries in the stream that no
 * group will read again. The stream is trimmed below the oldest entry some group still needs: its
 * oldest pending entry, or the one after the last it was given. KEYS[1] the stream, ARGV[1] the
 * group, ARGV[2..] entry ids (a batch: at most a few hundred).
 */
const ACK_AND_TRIM = `
redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 2))
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq), ms
end
local bound, bms, bseq = nil, nil, nil
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local f = {}
  for i = 1, #g, 2 do f[g[i]] = g[i + 1] end
  local keep
  if tonumber(f['pending']) > 0 then
    keep = redis.call('XPENDING', KEYS[1], f['name'])[2]
  else
    local _, seq, ms = parse(f['last-delivered-id'])
    keep = ms .. '-' .. string.format('%.0f', seq + 1)
  end
  local kms, kseq = parse(keep)
  if bound == nil or kms < bms or (kms == bms and kseq < bseq) then bound, bms, bseq = keep, kms, kseq end
end
if bound == nil then return 0 end
return redis.call('XTRIM', KEYS[1], 'MINID', bound)`;

export async function publishRunUpdate(redis: Redis, streamKey: string, update: RunUpdate): Promise<void> {
  await redis.xadd(streamKey, '*', 'u', JSON.stringify(update));
}

/** `bytes`: the entries' size as read, so a reader can read fewer at a time when they carry large logs. */
export type ReadBatch = { ids: string[]; updates: RunUpdate[]; bytes: number };

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
    let bytes = 0;
    for (const [id, fields] of entries) {
      ids.push(id);
      const raw = fields[1];
      bytes += raw?.length ?? 0;
      const r = parseJson(RunUpdate, raw ?? '');
      if (r.success) updates.push(r.data);
      else this.#log.error({ entry: id, issues: r.error?.issues }, 'dropping malformed run update');
    }
    return { ids, updates, bytes };
  }

  /**
   * Acknowledges `ids` for this group and deletes the entries every group has acknowledged, in one
   * atomic step (see ACK_AND_TRIM).
   */
  async ack(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.#redis.eval(ACK_AND_TRIM, 1, this.#key, this.#group, ...ids);
  }

  /** Entries not yet acknowledged by `group` (default: this reader's; used by `cibq queue` and tests). */
  async backlog(group: string = this.#group): Promise<number> {
    const g = (await groups(this.#redis, this.#key)).find((x) => x.name === group);
    if (g === undefined || g.lag === null) return this.#redis.xlen(this.#key);
    return g.pending + g.lag;
  }
}
