/**
 * Redis connections and the names cibq uses in Redis. Every key starts with the configured prefix,
 * so several cibq installations can share one Redis.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { backoffDelay } from '../util/backoff.ts';
import { maskUrl } from '../util/mask-url.ts';

export type RedisConfig = Readonly<{ url: string; prefix: string }>;

/**
 * A connection that retries forever with capped backoff: producer and workers must ride out a Redis
 * restart by themselves. `maxRetriesPerRequest: null` is what BullMQ requires for its blocking calls.
 */
export function connectRedis(cfg: RedisConfig, log: Logger, name: string): Redis {
  const redis = new Redis(cfg.url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectionName: `cibq-${name}`,
    retryStrategy: (times) => backoffDelay(times, { minMs: 200, maxMs: 5000 }),
    lazyConnect: false,
  });
  let down = false;
  redis.on('error', (err: Error) => {
    if (!down) log.warn({ redis: maskUrl(cfg.url), err: { message: err.message } }, 'redis connection problem');
    down = true;
  });
  redis.on('ready', () => {
    if (down) log.info({ redis: maskUrl(cfg.url) }, 'redis connection restored');
    down = false;
  });
  return redis;
}

/** Names of Redis keys and BullMQ queues, all under one prefix. */
export type Keys = ReturnType<typeof redisKeys>;
export function redisKeys(prefix: string) {
  return {
    /** BullMQ's own prefix (queues live at `<prefix>:<queue>:*`). */
    bullPrefix: prefix,
    /** One queue per adapter, so workers can take jobs only for the adapters they serve. */
    runQueue: (adapter: string) => `runs-${adapter}`,
    /** Stream of run state changes, consumed by the reporter (survives the reporter being down). */
    runUpdates: `${prefix}:run-updates`,
    /** How many repositories the job-COB publisher still has to announce (for /metrics). */
    publisherPendingAnnounces: `${prefix}:publisher:pending-announces`,
    /** Set of (adapter, repository, ref, commit) already enqueued. */
    dedupe: (key: string) => `${prefix}:dedupe:${key}`,
    /** Per-repository snapshot of refs the producer has processed: ref -> oid. */
    snapshot: (rid: string) => `${prefix}:snapshot:${rid}`,
    /** Set once the producer recorded its first baseline of storage. */
    snapshotInitialized: `${prefix}:snapshot:initialized`,
    /** Names of workers that announced themselves, and each one's record (with a TTL). */
    workers: `${prefix}:workers`,
    worker: (name: string) => `${prefix}:worker:${name}`,
  };
}
