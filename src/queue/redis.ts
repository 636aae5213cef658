/**
 * Redis connections and the names cibq uses in Redis. Every key starts with the configured prefix,
 * so several cibq installations can share one Redis. A connection is direct (`redis://`, or
 * `rediss://` with TLS and optional client certificates) or finds the primary through Redis
 * Sentinel and follows a failover by itself. Neither the password nor a key ever reaches a log.
 */
import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { backoffDelay } from '../util/backoff.ts';
import { maskUrl } from '../util/mask-url.ts';

/** ioredis's options, less the one its constructor types disagree with under exactOptionalPropertyTypes. */
export type ConnectionOptions = Omit<RedisOptions, 'replyMapping'>;

export type RedisTls = Readonly<{ ca: string; cert: string | null; key: string | null }>;
export type RedisConfig = Readonly<{
  url: string;
  prefix: string;
  /** Files for rediss://: the CA that signed the server's certificate, and a client certificate. */
  tls?: RedisTls | null | undefined;
  /** With `name`: find the primary through these Sentinels (the URL gives credentials and db). */
  sentinels?: readonly Readonly<{ host: string; port: number }>[] | null | undefined;
  name?: string | null | undefined;
}>;

/**
 * How to reach Redis, as ioredis options (without retry policy). TLS applies to the Sentinels and
 * to the Redis nodes alike. A Redis that answers READONLY was demoted by a failover: reconnect, and
 * Sentinel names the new primary.
 */
export function redisOptions(cfg: RedisConfig): ConnectionOptions {
  const u = new URL(cfg.url);
  const tls = u.protocol === 'rediss:' ? tlsOptions(cfg.tls) : undefined;
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  const auth = {
    ...(u.username !== '' ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password !== '' ? { password: decodeURIComponent(u.password) } : {}),
  };
  const common: ConnectionOptions = { ...auth, db: Number.isInteger(db) ? db : 0, ...(tls ? { tls } : {}) };
  if (cfg.sentinels && cfg.sentinels.length > 0) {
    return {
      ...common,
      sentinels: cfg.sentinels.map((s) => ({ host: s.host, port: s.port })),
      name: cfg.name ?? 'mymaster',
      ...(tls ? { enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
      failoverDetector: true,
      sentinelRetryStrategy: (times) => Math.min(200 * 2 ** Math.min(times, 5), 3000),
      reconnectOnError: (err) => err.message.startsWith('READONLY'),
    };
  }
  return { ...common, host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port === '' ? 6379 : Number(u.port) };
}

function tlsOptions(files: RedisTls | null | undefined) {
  if (!files) return {};
  return {
    ca: readFileSync(files.ca),
    ...(files.cert !== null ? { cert: readFileSync(files.cert) } : {}),
    ...(files.key !== null ? { key: readFileSync(files.key) } : {}),
  };
}

/** Where a connection goes, for logs and /healthz: no credentials. */
export function describeRedis(cfg: RedisConfig): string {
  if (cfg.sentinels && cfg.sentinels.length > 0) {
    const scheme = cfg.url.startsWith('rediss:') ? 'rediss' : 'redis';
    return `sentinel ${scheme}://${cfg.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}/${cfg.name ?? ''}`;
  }
  return maskUrl(cfg.url);
}

/**
 * A connection that retries forever with capped backoff: producer and workers must ride out a Redis
 * restart (or a Sentinel failover) by themselves. `maxRetriesPerRequest: null` is what BullMQ
 * requires for its blocking calls.
 */
export function connectRedis(cfg: RedisConfig, log: Logger, name: string): Redis {
  const redis = new Redis({
    ...redisOptions(cfg),
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectionName: `cibq-${name}`,
    retryStrategy: (times) => backoffDelay(times, { minMs: 200, maxMs: 5000 }),
    lazyConnect: false,
  });
  const where = describeRedis(cfg);
  let down = false;
  redis.on('error', (err: Error) => {
    if (!down) log.warn({ redis: where, err: { message: err.message } }, 'redis connection problem');
    down = true;
  });
  redis.on('ready', () => {
    if (down) log.info({ redis: where, primary: remoteAddress(redis) }, 'redis connection restored');
    down = false;
  });
  return redis;
}

/** host:port of the Redis the connection is talking to (the current primary), or null. */
export function remoteAddress(redis: Redis): string | null {
  const s = redis.stream as { remoteAddress?: string; remotePort?: number } | undefined;
  return s?.remoteAddress !== undefined && s.remotePort !== undefined ? `${s.remoteAddress}:${s.remotePort}` : null;
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
