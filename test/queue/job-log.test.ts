/**
 * A run's job log is appended a batch at a time: the lines arrive in order, exactly as BullMQ's
 * `job.log()` would have written them one by one, and nothing is written for a job that is gone.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { pino } from 'pino';
import type { Redis } from 'ioredis';
import { appendJobLog, JobGoneError } from '../../src/queue/job-log.ts';
import { connectRedis, redisKeys } from '../../src/queue/redis.ts';
import { RedisServer } from '../helpers/redis-server.ts';

const keys = redisKeys('cibq');
let server: RedisServer;
let conn: Redis;
let queue: Queue;

before(async () => {
  server = await RedisServer.start();
  conn = connectRedis({ url: server.url, prefix: 'cibq' }, pino({ level: 'silent' }), 'test');
  queue = new Queue(keys.runQueue('native'), { connection: conn, prefix: keys.bullPrefix });
});
after(async () => {
  await queue.close();
  conn.disconnect();
  await server.close();
});

test('batches of lines (more than one script call holds) land in order in the job log BullMQ reads', async () => {
  const job = await queue.add('run', {}, { jobId: 'run-1' });
  await job.log('first, through BullMQ');
  const lines = Array.from({ length: 2500 }, (_, i) => `line ${i}`);
  await appendJobLog(conn, keys, 'native', 'run-1', lines.slice(0, 10));
  await appendJobLog(conn, keys, 'native', 'run-1', lines.slice(10));
  const { logs, count } = await queue.getJobLogs('run-1', 0, -1);
  assert.equal(count, 2501);
  assert.deepEqual(logs, ['first, through BullMQ', ...lines]);
});

test('a job that no longer exists gets no log (no orphan key), and the caller learns it', async () => {
  await assert.rejects(appendJobLog(conn, keys, 'native', 'gone', ['x']), JobGoneError);
  assert.equal(await conn.exists(`${keys.bullPrefix}:${keys.runQueue('native')}:gone:logs`), 0);
});
