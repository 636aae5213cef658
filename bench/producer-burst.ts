/**
 * Producer under a burst: one `refsFetched` carrying N new branches (default 2000), as after a
 * clone or a reconnect. Prints how long the producer takes to turn them into queued runs, the rate,
 * and how many git processes it started (it must stay at one per repository, not one per ref).
 *
 *   node_modules/.bin/node --disable-warning=ExperimentalWarning bench/producer-burst.ts [N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { pino } from 'pino';
import { Producer } from '../src/producer/run-producer.ts';
import { parseConfig } from '../src/config/config-load.ts';
import { connectRedis, redisKeys } from '../src/queue/redis.ts';
import { RunQueues } from '../src/queue/run-queues.ts';
import { Storage } from '../src/storage/storage.ts';
import { FakeNode } from '../test/fixtures/fake-node.ts';
import { FakeStorage, makeNodeKey } from '../test/fixtures/radicle-storage.ts';
import { RedisServer } from '../test/helpers/redis-server.ts';

const n = Number(process.argv[2] ?? 2000);
const dir = mkdtempSync(path.join(os.tmpdir(), 'cq-bench-'));
const radHome = path.join(dir, 'h');
const redis = await RedisServer.start({ appendOnly: false });
const fake = await FakeStorage.create(radHome);
const alice = makeNodeKey(1);
const { rid, gitDir } = await fake.createRepo({ name: 'bench', delegates: [alice.nid] });
const base = await fake.commit(rid, { files: { 'README.md': 'bench\n' } });
await fake.pushBranch(rid, alice.nid, 'main', base);
const node = await FakeNode.start(radHome, alice.nid);

const config = parseConfig(
  `db: ${dir}/db\ndefault_adapter: a\nadapters: { a: { command: /bin/true } }\nfilters: [ !Allow ]\n`,
  { path: null, env: { REDIS_URL: redis.url, RAD_HOME: radHome }, homeDir: dir },
);
const log = pino({ level: 'silent' });
const conn = connectRedis(config.redis, log, 'bench');
const keys = redisKeys(config.redis.prefix);
const storage = new Storage({ radHome, log });
const queues = new RunQueues(conn, keys);
const producer = new Producer({ config, storage, queues, redis: conn, keys, log });
producer.start();
await node.waitForSubscribers(1);
await producer.idle();

// N branches, each on its own commit, written in one go (the node writes storage before it emits).
const updates: unknown[] = [];
const lines: string[] = [];
let parent = base;
for (let i = 0; i < n; i++) {
  const { stdout } = await execa('git', ['--git-dir', gitDir, 'commit-tree', `${parent}^{tree}`, '-p', parent, '-m', `c${i}`], {
    env: { GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@x', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@x' },
  });
  parent = stdout.trim();
  const ref = `refs/namespaces/${alice.nid}/refs/heads/b${i}`;
  lines.push(`update ${ref} ${parent}`);
  updates.push({ created: { name: ref, oid: parent } });
}
await execa('git', ['--git-dir', gitDir, 'update-ref', '--stdin'], { input: `${lines.join('\n')}\n` });

const spawnsBefore = storage.gitSpawns;
const t0 = performance.now();
node.emit({ type: 'refsFetched', remote: alice.nid, rid, updated: updates });
await new Promise((r) => setTimeout(r, 50));
await producer.idle();
const ms = performance.now() - t0;
const waiting = await queues.queue('a').getWaitingCount();

console.log(`refs in one refsFetched:  ${n}`);
console.log(`runs queued:              ${waiting}`);
console.log(`time to queue them:       ${ms.toFixed(0)} ms`);
console.log(`rate:                     ${((n / ms) * 1000).toFixed(0)} ref updates/s`);
console.log(`git processes started:    ${storage.gitSpawns - spawnsBefore} (for ${n} ref updates)`);

await producer.close();
await queues.close();
await storage.close();
conn.disconnect();
await node.stop();
await redis.close();
rmSync(dir, { recursive: true, force: true });
