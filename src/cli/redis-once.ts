/**
 * A Redis connection for one-shot operator commands: unlike the services' connection it does not
 * retry forever, so `cibq queue` with Redis down says so and exits instead of hanging.
 */
import { Redis } from 'ioredis';
import { describeRedis, redisOptions, type RedisConfig } from '../queue/redis.ts';
import { errorMessage } from '../util/coerce-error.ts';
import { RedisUnavailable } from '../util/errors.ts';

export async function connectRedisOnce(cfg: RedisConfig, name: string): Promise<Redis> {
  const redis = new Redis({
    ...redisOptions(cfg),
    connectionName: `cibq-${name}`,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    retryStrategy: (times) => (times > 2 ? null : 200),
    sentinelRetryStrategy: (times) => (times > 2 ? null : 200),
    lazyConnect: true,
  });
  // Reported once below, by the failed connect, with the cause (a TLS handshake failure, say)
  // rather than the "Connection is closed" that follows it.
  const first: { error: string | null } = { error: null };
  redis.on('error', (e: Error) => {
    first.error ??= e.message;
  });
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (e) {
    redis.disconnect();
    const message = errorMessage(e);
    const cause = first.error;
    const why = cause !== null && cause !== message ? `${cause} (${message})` : message;
    // A TLS server that wants a client certificate often just resets the connection.
    const hint = cfg.url.startsWith('rediss:') && (cfg.tls?.cert ?? null) === null && /ECONNRESET|certificate required/.test(why)
      ? '; if the server requires client certificates, set redis.tls.cert and redis.tls.key'
      : '';
    throw new RedisUnavailable(`cannot reach Redis at ${describeRedis(cfg)}: ${why}${hint}`);
  }
}
