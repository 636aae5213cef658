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
  redis.on('error', () => {}); // reported once below, by the failed connect
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (e) {
    redis.disconnect();
    throw new RedisUnavailable(`cannot reach Redis at ${describeRedis(cfg)}: ${errorMessage(e)}`);
  }
}
