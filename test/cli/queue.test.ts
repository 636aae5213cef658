/**
 * `cibq queue` against a real redis-server with runs enqueued the way the producer enqueues them:
 * counts per adapter queue, the oldest waiting run, the reporter's backlog; Redis down exits 1.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Worker } from 'bullmq';
import { pino } from 'pino';
import { connectRedis, redisKeys } from '../../src/queue/redis.ts';
import { enqueueRun, RunQueues } from '../../src/queue/run-queues.ts';
import type { TriggerMessage } from '../../src/model/trigger-message.ts';
import { cibq } from '../helpers/cli.ts';
import { freePort, RedisServer } from '../helpers/redis-server.ts';

const RID = 'rad:z3gqcJUoA1n9HaHKufZs5FCSGazv5';
const OID = (c: string) => c.repeat(40);

describe('cibq queue', () => {
  let dir: string;
  let config: string;
  let redis: RedisServer;
  let firstRun: string;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cq-q-'));
    redis = await RedisServer.start();
    config = path.join(dir, 'cibq.yaml');
    writeFileSync(config, 'db: ci.db\nadapters:\n  native: { command: /bin/true }\n  heavy: { command: /bin/true }\n  idle: { command: /bin/true }\n');
    const log = pino({ level: 'silent' });
    const conn = connectRedis({ url: redis.url, prefix: 'cibq' }, log, 'test');
    const keys = redisKeys('cibq');
    const queues = new RunQueues(conn, keys);
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const enqueue = (adapter: string, branch: string, commit: string) =>
      enqueueRun(
        { queues, redis: conn, keys, log, now: () => new Date((clock += 1000)) },
        {
          adapter,
          trigger: { request: 'trigger', version: 1, event_type: 'push' } as unknown as TriggerMessage,
          subject: {
            repo: RID,
            repo_name: 'acme',
            event_type: 'push',
            ref: `refs/heads/${branch}`,
            patch: null,
            title: null,
            author: null,
            commit,
            private: false,
          },
          dedupe: { repo: RID, ref: `refs/heads/${branch}`, commit },
        },
      );
    const first = await enqueue('native', 'main', OID('a'));
    await new Promise((r) => setTimeout(r, 20)); // distinct job timestamps
    await enqueue('native', 'dev', OID('b'));
    await enqueue('heavy', 'main', OID('a'));
    assert.equal(first.status, 'enqueued');
    firstRun = first.runId;
    // A run whose adapter failed in a worker: counted as failed, not waiting.
    await queues.queue('idle').add('run', { x: 1 }, { jobId: 'broken' });
    const worker = new Worker('runs-idle', async () => { throw new Error('boom'); }, { connection: conn, prefix: 'cibq' });
    await new Promise<void>((resolve) => worker.once('failed', () => resolve()));
    await worker.close();
    await queues.close();
    conn.disconnect();
  });
  after(async () => {
    await redis.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('--json gives counts per adapter queue, the oldest waiting run and the reporter backlog', async () => {
    const r = await cibq(['queue', '--json', '--config', config], { REDIS_URL: redis.url });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      queues: { adapter: string; queue: string; counts: Record<string, number>; oldest_waiting: Record<string, unknown> | null }[];
      reporter_backlog: number;
      workers: unknown[];
    };
    assert.deepEqual(out.queues.map((q) => q.adapter), ['heavy', 'idle', 'native']);
    const [heavy, idle, native] = out.queues;
    assert.equal(native?.queue, 'runs-native');
    assert.equal(native?.counts.waiting, 2);
    assert.equal(native?.counts.active, 0);
    assert.equal(heavy?.counts.waiting, 1);
    assert.equal(idle?.counts.waiting, 0);
    assert.equal(idle?.counts.failed, 1);
    assert.equal(idle?.oldest_waiting, null);
    assert.equal(native?.oldest_waiting?.run_id, firstRun);
    assert.equal(native?.oldest_waiting?.ref, 'refs/heads/main');
    assert.equal(native?.oldest_waiting?.repo, RID);
    assert.equal(typeof native?.oldest_waiting?.age_ms, 'number');
    // Three `queued` updates were published and no reporter has written them yet.
    assert.equal(out.reporter_backlog, 3);
    assert.deepEqual(out.workers, []);
  });

  test('the human view shows a table, the oldest waiting run and the backlog', async () => {
    const r = await cibq(['queue'], { REDIS_URL: redis.url, CIBQ_CONFIG: config });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^queue\s+waiting\s+active\s+delayed\s+prioritized\s+failed\s+completed$/m);
    assert.match(r.stdout, /^runs-native\s+2\s+0\s+0\s+0\s+0\s+0$/m);
    assert.match(r.stdout, /^runs-idle\s+0\s+0\s+0\s+0\s+1\s+0$/m);
    assert.match(r.stdout, new RegExp(`oldest waiting: ${firstRun}, \\S+ old, acme \\(${RID}\\) refs/heads/main`));
    assert.match(r.stdout, /reporter backlog: 3 run updates not yet written/);
    assert.match(r.stdout, /workers: none live/);
  });

  test('with Redis unreachable it says so and exits 1; bad flags exit 2', async () => {
    const port = await freePort();
    const r = await cibq(['queue', '--config', config], { REDIS_URL: `redis://127.0.0.1:${port}` });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`cannot reach Redis at redis://127.0.0.1:${port}`));
    const bad = await cibq(['queue', '--config', config, '--verbose']);
    assert.equal(bad.code, 2);
    for (const cmd of ['queue', 'event', 'report']) {
      const help = await cibq([cmd, '--help']);
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, new RegExp(`Usage: cibq ${cmd}`));
    }
  });
});
