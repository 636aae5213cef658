/**
 * The producer's share of idle latency: one new branch announced at a time, with the producer idle,
 * from the event written to the node's socket to its `queued` run update in Redis (the job is added
 * one round trip before that). Prints p50, p90, min and max over 40 events.
 *
 *   node_modules/.bin/node --disable-warning=ExperimentalWarning --optimize-for-size bench/producer-latency.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Producer } from '../src/producer/run-producer.ts';
import { parseConfig } from '../src/config/config-load.ts';
import { connectRedis, redisKeys } from '../src/queue/redis.ts';
import { RunQueues } from '../src/queue/run-queues.ts';
import { Storage } from '../src/storage/storage.ts';
import { FakeNode } from '../test/fixtures/fake-node.ts';
import { FakeStorage, makeNodeKey } from '../test/fixtures/radicle-storage.ts';
import { RedisServer } from '../test/helpers/redis-server.ts';
import { addBranches, benchRepo, refsFetched } from './lib/branch-fixture.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cq-lat-'));
const radHome = path.join(dir, 'h');
const redis = await RedisServer.start({ appendOnly: false });
const fake = await FakeStorage.create(radHome);
const alice = makeNodeKey(1);
const node = await FakeNode.start(radHome, alice.nid);
const repo = await benchRepo(fake, alice.nid, 'lat');
const config = parseConfig(`db: ${dir}/db\ndefault_adapter: a\nadapters: { a: { command: /bin/true } }\nfilters: [ !Allow ]\n`, { path: null, env: { REDIS_URL: redis.url, RAD_HOME: radHome }, homeDir: dir });
const log = pino({ level: 'info' }, pino.destination({ dest: path.join(dir, 'log'), sync: true }));
const conn = connectRedis(config.redis, log, 'bench');
const keys = redisKeys(config.redis.prefix);
const storage = new Storage({ radHome, log });
const queues = new RunQueues(conn, keys);
const producer = new Producer({ config, storage, queues, redis: conn, keys, log });
producer.start();
await node.waitForSubscribers(1);
await new Promise((r) => setTimeout(r, 300));
await producer.idle();
const n = 40;
const branches = await addBranches(repo, alice.nid, Array.from({ length: n }, (_, i) => `l${i}`));
const reader = new Redis(redis.url);
let last = '$';
const xs: number[] = [];
for (const b of branches) {
  await new Promise((r) => setTimeout(r, 30));
  const wait = reader.xread('BLOCK', 5000, 'STREAMS', 'cibq:run-updates', last);
  await new Promise((r) => setTimeout(r, 5)); // XREAD is sent
  const t0 = performance.now();
  node.emit(refsFetched(alice.nid, repo.rid, [b]));
  const res = await wait;
  xs.push(performance.now() - t0);
  last = res?.[0]?.[1]?.at(-1)?.[0] ?? last;
}
xs.sort((a, b) => a - b);
console.log(`event → queued update in Redis: p50 ${xs[Math.floor(n / 2)]?.toFixed(2)} ms, p90 ${xs[Math.floor(n * 0.9)]?.toFixed(2)} ms, min ${xs[0]?.toFixed(2)}, max ${xs.at(-1)?.toFixed(2)}`);
reader.disconnect();
await producer.close(); await queues.close(); await storage.close(); conn.disconnect(); await node.stop(); await redis.close();
rmSync(dir, { recursive: true, force: true });
