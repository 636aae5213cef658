/**
 * In the Bull dashboard every job is named for what it runs (repository, branch, tag or patch, short
 * commit), not `run`: checked on the jobs a real Redis holds.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { Redis } from 'ioredis';
import { connectRedis, redisKeys } from '../../src/queue/redis.ts';
import { enqueueRun, RunQueues } from '../../src/queue/run-queues.ts';
import type { TriggerMessage } from '../../src/model/trigger-message.ts';
import { RedisServer } from '../helpers/redis-server.ts';

const RID = 'rad:z3gqcJUoA1n9HaHKufZs5FCSGazv5';
const NID = 'z6MkiB8T5cBEQHnrs2MgjMVqvpSVj42X81HjKfFi2XBoMbtr';
let server: RedisServer;
let conn: Redis;
let queues: RunQueues;

before(async () => {
  server = await RedisServer.start();
  conn = connectRedis({ url: server.url, prefix: 'cibq' }, pino({ level: 'silent' }), 'test');
  queues = new RunQueues(conn, redisKeys('cibq'));
});
after(async () => {
  await queues.close();
  conn.disconnect();
  await server.close();
});

async function nameOf(ref: string, patch: string | null, commit: string): Promise<string> {
  const r = await enqueueRun(
    { queues, redis: conn, keys: redisKeys('cibq'), log: pino({ level: 'silent' }), now: () => new Date() },
    {
      adapter: 'native',
      trigger: { request: 'trigger', version: 1, event_type: 'push' } as unknown as TriggerMessage,
      subject: { repo: RID, repo_name: 'acme', event_type: patch ? 'patch' : 'push', ref, patch, title: null, author: null, commit, private: false },
      dedupe: null,
    },
  );
  const job = await queues.queue('native').getJob(r.runId);
  assert.ok(job);
  return job.name;
}

test('jobs are named repository, branch (or tag, or patch) and short commit', async () => {
  assert.equal(await nameOf(`refs/namespaces/${NID}/refs/heads/feature/x`, null, '1a2b3c4d'.repeat(5)), 'acme feature/x 1a2b3c4d');
  assert.equal(await nameOf('refs/heads/main', null, 'abcdef01'.repeat(5)), 'acme main abcdef01');
  assert.equal(await nameOf(`refs/namespaces/${NID}/refs/tags/v1.0`, null, '0'.repeat(40)), 'acme tag v1.0 00000000');
  const patch = '9f8e7d6c'.repeat(5);
  assert.equal(await nameOf(`refs/namespaces/${NID}/refs/cobs/xyz.radicle.patch/${patch}`, patch, 'c'.repeat(40)), 'acme patch 9f8e7d6c cccccccc');
  assert.equal(await nameOf(`refs/heads/evil\u001b]0;x\u0007`, null, 'd'.repeat(40)), 'acme evil?]0;x? dddddddd');
});
