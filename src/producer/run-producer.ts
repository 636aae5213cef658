/**
 * The producer: subscribe to the node, turn ref changes into CI events, enqueue runs. Events are
 * read off the socket at once and handled in order, those waiting in a row as one batch (see
 * change-batch.ts; an event alone is handled at once, nothing waits to fill a batch); on every
 * (re)connect a catch-up
 * scan compares storage with the snapshot, after subscribing so nothing falls in between. While
 * connected a catch-up also runs every `catchUpIntervalMs`, so a change skipped because storage
 * failed (and therefore not recorded as processed) is retried without waiting for a reconnect.
 *
 * The baseline (what already existed, which starts nothing) is recorded only while not subscribed:
 * on a first start before the first subscription, and if the snapshot is ever found missing (Redis
 * lost its data) with the subscription dropped until it is done. So nothing the node announces on a
 * subscription can be taken into a baseline and recorded as seen; what changed between the baseline
 * and the subscription is found by the catch-up that follows every subscribe.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { coerceError } from '../util/coerce-error.ts';
import type { Keys } from '../queue/redis.ts';
import type { RunQueues } from '../queue/run-queues.ts';
import type { NodeEvent } from '../node/node-event.ts';
import { NodeSubscription } from '../node/subscription.ts';
import { waitForReplica } from '../queue/replica-wait.ts';
import { dispatchChanges, type BatchChange, type BatchDeps } from './change-batch.ts';
import { changeCount, changesOfEvents, MAX_BATCH_CHANGES } from './event-batch.ts';
import { recordBaseline, trackedRefs } from './baseline.ts';
import { IdentityCache } from './identity-cache.ts';
import { diffRefs, type RefChange } from './ref-change.ts';
import { sigrefsChanges } from './sigrefs-changes.ts';
import { Snapshot } from './snapshot.ts';
import type { StoragePort } from './storage-port.ts';

export type ProducerDeps = {
  config: Config;
  storage: StoragePort;
  queues: RunQueues;
  redis: Redis;
  keys: Keys;
  log: Logger;
  now?: () => Date;
  /** Backoff of the node reconnect loop (tests shorten it). */
  reconnect?: { minMs: number; maxMs: number };
  /** Period of the catch-up scan while connected (default 5 minutes; tests shorten it). */
  catchUpIntervalMs?: number;
};

export const DEFAULT_CATCH_UP_INTERVAL_MS = 5 * 60_000;

type WorkItem = { kind: 'event'; event: NodeEvent } | { kind: 'scan' };
/** What the loop handles at once: a catch-up, or the events waiting in a row, oldest first. */
type Batch = { kind: 'events'; events: NodeEvent[] } | { kind: 'scan' };


export type ProducerStats = {
  events: number;
  scans: number;
  enqueued: number;
  duplicates: number;
  skipped: number;
  /** Skipped because storage failed: not recorded as processed, retried by a later catch-up. */
  retryLater: number;
};

export class Producer {
  readonly stats: ProducerStats = { events: 0, scans: 0, enqueued: 0, duplicates: 0, skipped: 0, retryLater: 0 };
  readonly #deps: BatchDeps;
  readonly #log: Logger;
  readonly #sub: NodeSubscription;
  readonly #items: WorkItem[] = [];
  #wake: (() => void) | null = null;
  #stopping = false;
  #loop: Promise<void> | null = null;
  #idleWaiters: (() => void)[] = [];
  #busy = false;
  readonly #catchUpIntervalMs: number;
  #catchUpTimer: NodeJS.Timeout | null = null;

  constructor(deps: ProducerDeps) {
    this.#log = deps.log;
    this.#deps = {
      config: deps.config,
      storage: deps.storage,
      queues: deps.queues,
      redis: deps.redis,
      keys: deps.keys,
      log: deps.log,
      now: deps.now ?? (() => new Date()),
      snapshot: new Snapshot(deps.redis, deps.keys),
      identities: new IdentityCache(deps.storage),
    };
    this.#deps.patchRevisions = this.#deps.snapshot;
    this.#catchUpIntervalMs = deps.catchUpIntervalMs ?? DEFAULT_CATCH_UP_INTERVAL_MS;
    this.#sub = new NodeSubscription({
      socketPath: deps.config.node.socket,
      radHome: deps.config.node.radHome,
      log: deps.log.child({ component: 'node' }),
      onConnected: () => this.#push({ kind: 'scan' }),
      onEvent: (event) => this.#push({ kind: 'event', event }),
      ...(deps.reconnect ? { minBackoffMs: deps.reconnect.minMs, maxBackoffMs: deps.reconnect.maxMs } : {}),
    });
  }

  /**
   * Redis came back (a restart, a failover): it may have lost the last writes before it went away
   * (a job, a dedupe mark, the snapshot entry after them). The snapshot is then behind storage, so
   * a catch-up finds those changes again; what did survive is deduplicated.
   */
  readonly #onRedisReady = (): void => {
    if (!this.#redisWasLost) return;
    this.#redisWasLost = false;
    if (this.#sub.connected && !this.#items.some((i) => i.kind === 'scan')) this.#push({ kind: 'scan' });
  };
  readonly #onRedisClose = (): void => {
    this.#redisWasLost = true;
  };
  #redisWasLost = false;

  start(): void {
    this.#deps.redis.on('close', this.#onRedisClose);
    this.#deps.redis.on('ready', this.#onRedisReady);
    this.#loop ??= this.#run();
    this.#catchUpTimer ??= setInterval(() => {
      if (this.#sub.connected && !this.#items.some((i) => i.kind === 'scan')) this.#push({ kind: 'scan' });
    }, this.#catchUpIntervalMs);
    this.#catchUpTimer.unref();
  }

  /** Resolves when every event received so far has been handled (tests, `cibq up`). */
  async idle(): Promise<void> {
    if (this.#items.length === 0 && !this.#busy) return;
    await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  get connected(): boolean {
    return this.#sub.connected;
  }

  #push(item: WorkItem): void {
    this.#items.push(item);
    this.#wake?.();
  }

  async #run(): Promise<void> {
    this.#busy = true;
    await this.#baselineUntilDone();
    this.#busy = false;
    if (!this.#stopping) this.#sub.start();
    while (!this.#stopping) {
      const item = this.#items.shift();
      if (!item) {
        for (const w of this.#idleWaiters.splice(0)) w();
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = null;
        continue;
      }
      this.#busy = true;
      await this.#handleWithRetry(item.kind === 'scan' ? item : { kind: 'events', events: [item.event, ...this.#waitingEvents(item.event)] });
      this.#busy = false;
    }
    for (const w of this.#idleWaiters.splice(0)) w();
  }

  /** Takes the events queued behind `first`, in order, up to the batch limit (stops at a scan). */
  #waitingEvents(first: NodeEvent): NodeEvent[] {
    const out: NodeEvent[] = [];
    let size = changeCount(first);
    for (let next = this.#items[0]; next?.kind === 'event' && size < MAX_BATCH_CHANGES; next = this.#items[0]) {
      this.#items.shift();
      out.push(next.event);
      size += changeCount(next.event);
    }
    return out;
  }

  /** Infrastructure faults (Redis down) retry the same batch with capped backoff: nothing is dropped. */
  async #handleWithRetry(item: Batch): Promise<void> {
    for (let attempt = 0; !this.#stopping; attempt++) {
      try {
        await this.#handle(item);
        // What this item enqueued and recorded survives a failover once a replica has it.
        await waitForReplica(this.#deps.redis);
        return;
      } catch (e) {
        const delay = Math.min(30_000, 250 * 2 ** Math.min(attempt, 7));
        this.#log.error({ err: coerceError(e), attempt, retryInMs: delay }, 'failed to handle node event; will retry');
        await this.#sleep(delay);
      }
    }
  }

  async #handle(item: Batch): Promise<void> {
    if (item.kind === 'scan') return this.#catchUp();
    this.stats.events += item.events.length;
    return changesOfEvents(item.events, {
      sigrefsChanges: (rid, nid, at) => this.#sigrefsChanges(rid, nid, at),
      snapshotRef: (rid, ref) => this.#deps.snapshot.getRef(rid, ref),
      dispatch: (changes) => this.#changes(changes),
    });
  }

  /** What a local push changed: the diff of the namespace's sigrefs with its parent (reference §1, §3). */
  async #sigrefsChanges(rid: string, nid: string, at: string): Promise<RefChange[]> {
    try {
      return await sigrefsChanges(this.#deps.storage, rid, nid, at);
    } catch (e) {
      this.#log.warn({ rid, nid, at, err: coerceError(e) }, 'cannot read sigrefs of local announcement');
      return [];
    }
  }

  async #changes(changes: readonly BatchChange[]): Promise<void> {
    if (changes.length === 0) return;
    const r = await dispatchChanges(this.#deps, changes);
    this.stats.enqueued += r.enqueued;
    this.stats.duplicates += r.duplicates;
    this.stats.skipped += r.skipped;
    this.stats.retryLater += r.retryLater;
  }

  /** Compare storage with the snapshot and handle what changed while nobody listened (reference §6). */
  async #catchUp(): Promise<void> {
    this.stats.scans++;
    const { storage, snapshot } = this.#deps;
    if (!(await snapshot.initialized())) return this.#rebaseline();
    let repos: string[];
    try {
      repos = await storage.listRepositories();
    } catch (e) {
      this.#log.error({ err: coerceError(e) }, 'cannot list repositories in storage');
      return;
    }
    let changed = 0;
    for (const rid of repos) {
      let current: Map<string, string>;
      try {
        current = await trackedRefs(storage, rid);
      } catch (e) {
        this.#log.warn({ rid, err: coerceError(e) }, 'cannot list refs; skipping repository in catch-up');
        continue;
      }
      const changes = diffRefs(await snapshot.get(rid), current, null);
      changed += changes.length;
      await this.#changes(changes.map((change) => ({ rid, change })));
    }
    this.#log.info({ repositories: repos.length, changedRefs: changed }, 'caught up with storage');
  }

  /**
   * The snapshot is gone while subscribed (Redis lost its data). Drop the subscription, handle the
   * events already received (changes after the old subscription, which a baseline would swallow),
   * record a new baseline, then subscribe again: its catch-up builds what changed in between.
   */
  async #rebaseline(): Promise<void> {
    this.#log.warn('the snapshot of storage is missing (Redis lost its data?): recording a new baseline');
    this.#sub.pause();
    try {
      for (let item = this.#items.shift(); item !== undefined && !this.#stopping; item = this.#items.shift()) {
        if (item.kind === 'event') await this.#handleWithRetry({ kind: 'events', events: [item.event, ...this.#waitingEvents(item.event)] });
      }
      await this.#baselineUntilDone();
    } finally {
      this.#sub.resume();
    }
  }

  /**
   * Records the baseline unless the snapshot exists, retrying (storage or Redis failing) until it is
   * done or the producer stops. Called only while not subscribed.
   */
  async #baselineUntilDone(): Promise<void> {
    for (let attempt = 0; !this.#stopping; attempt++) {
      try {
        if (await this.#deps.snapshot.initialized()) return;
        this.stats.scans++;
        if (await recordBaseline(this.#deps)) return;
      } catch (e) {
        this.#log.error({ err: coerceError(e), attempt }, 'cannot record the baseline of storage; will retry');
      }
      await this.#sleep(Math.min(30_000, 250 * 2 ** Math.min(attempt, 7)));
    }
  }

  #wakeSleep: (() => void) | null = null;

  /** A pause that ends early when the producer stops. */
  async #sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.#wakeSleep = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.#wakeSleep = null;
  }

  /** Idempotent: stops listening, lets the current item finish. */
  async close(): Promise<void> {
    if (this.#stopping) return this.#loop ?? undefined;
    this.#stopping = true;
    this.#deps.redis.off('close', this.#onRedisClose);
    this.#deps.redis.off('ready', this.#onRedisReady);
    if (this.#catchUpTimer) clearInterval(this.#catchUpTimer);
    this.#wakeSleep?.();
    await this.#sub.close();
    this.#wake?.();
    await this.#loop;
  }
}
