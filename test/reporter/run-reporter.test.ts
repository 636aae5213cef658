/**
 * The reporter against a real redis-server: it keeps pages and runs up to date when retention,
 * page writing, SQLite or Redis fail for a while, without a restart.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { nextReadCount, Reporter, type ReporterDeps } from '../../src/reporter/run-reporter.ts';
import { openDb } from '../../src/db/open-db.ts';
import { getRun } from '../../src/db/runs.ts';
import { connectRedis, redisKeys } from '../../src/queue/redis.ts';
import { publishRunUpdate } from '../../src/queue/run-updates.ts';
import { RedisServer } from '../helpers/redis-server.ts';
import { spawn } from 'node:child_process';
import { CIBQ, cibq } from '../helpers/cli.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import { subject, update } from './fixtures.ts';
import type { RunUpdate } from '../../src/model/run.ts';
import { AgreementReader } from '../../src/reporter/commit-agreement.ts';
import { TrustStorage } from '../fixtures/trust-storage.ts';

const keys = redisKeys('cibq-rr');
let dir: string;
let n = 0;
const cleanups: (() => Promise<void> | void)[] = [];

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cq-rr-'));
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function until(what: string, pred: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

type Setup = {
  server: RedisServer;
  redis: Redis;
  db: DatabaseSync;
  dbPath: string;
  reporter: Reporter;
  logs: string[];
  publish: (id: string) => Promise<void>;
  send: (u: RunUpdate) => Promise<void>;
};

/** A redis-server, a reporter reading from it into a fresh database, and a publisher. */
async function setup(over: Partial<ReporterDeps> = {}, appendOnly = true): Promise<Setup> {
  const server = await RedisServer.start({ appendOnly });
  cleanups.push(() => server.close());
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  const log = pino({ level: 'warn' }, sink);
  const cfg = { url: server.url, prefix: 'cibq-rr' };
  const redis = connectRedis(cfg, log, 'reporter');
  const pub = connectRedis(cfg, log, 'publisher');
  const dbPath = path.join(dir, `runs-${++n}.sqlite`);
  const db = openDb(dbPath);
  const reporter = new Reporter({
    db,
    redis,
    keys,
    log,
    reportDir: null,
    version: 'test',
    liveStatus: async () => ({ queueLength: 0, queues: [], workers: [] }),
    debounceMs: 20,
    retryMs: 100,
    indexIntervalMs: 0,
    ...over,
  });
  cleanups.push(async () => {
    await reporter.close();
    redis.disconnect();
    pub.disconnect();
    db.close();
  });
  reporter.start();
  const publish = async (id: string) => {
    const s = subject({ id, queued_at: new Date().toISOString() });
    await publishRunUpdate(pub, keys.runUpdates, update(s, 'queued', s.queued_at));
  };
  return { server, redis, db, dbPath, reporter, logs, publish, send: (u) => publishRunUpdate(pub, keys.runUpdates, u).then(() => undefined) };
}

describe('reporter', () => {
  test("a finished run's page written before the publisher wrote the job COB gets its attestation later", async () => {
    const t = await TrustStorage.create();
    cleanups.push(async () => {
      await t.close();
      rmSync(t.home, { recursive: true, force: true });
    });
    const commit = await t.newCommit();
    const reader = new AgreementReader({ radHome: t.home, trustNodes: null, threshold: 1, ttlMs: 0, log: pino({ level: 'silent' }) });
    cleanups.push(() => reader.close());
    const reportDir = path.join(dir, `report-${++n}`);
    const { send } = await setup({ reportDir, jobCobs: () => true, agreementFor: (r, c) => reader.forCommit(r, c), attestationRetryMs: 500 });
    const id = randomUUID();
    const s = subject({ id, repo: t.rid, repo_name: 'demo', commit, ref: 'refs/heads/main', queued_at: new Date().toISOString() });
    await send(update(s, 'finished', new Date().toISOString(), { result: 'success', log: 'all good\n' }));
    const file = (ext: string) => path.join(reportDir, 'runs', `${id}.${ext}`);
    await until('the log beside the page', () => existsSync(file('log.txt')));
    assert.equal(existsSync(file('intoto.jsonl')), false);
    // The publisher writes the job COB only now.
    const published = await t.run(t.nodes.a, commit, { result: 'success', logText: 'all good\n', id });
    // The page is written after the files beside it: once it links the attestation, both are there.
    await until('the page linking the attestation', () => readFileSync(file('html'), 'utf8').includes('class="attestation"'));
    assert.equal(readFileSync(file('intoto.jsonl'), 'utf8'), `${published.envelope}\n`);
  });

  test('pages are written even when retention fails', async () => {
    const reportDir = path.join(dir, 'report-retention');
    const { publish } = await setup({ reportDir, keepRuns: -1 });
    await publish('kept-1');
    await until('the run page', () => existsSync(path.join(reportDir, 'runs/kept-1.html')));
  });

  test('runs whose pages could not be written are written when writing works again', async () => {
    // The report directory cannot be created while a file stands where its parent should be.
    const blocker = path.join(dir, 'blocker');
    writeFileSync(blocker, 'not a directory');
    const reportDir = path.join(blocker, 'report');
    const { publish, logs } = await setup({ reportDir });
    await publish('late-1');
    await until('a failed write', () => logs.some((l) => l.includes('writing report pages failed')));
    rmSync(blocker);
    await until('the run page', () => existsSync(path.join(reportDir, 'runs/late-1.html')));
  });

  test('a batch that could not be written to SQLite is read again, without a restart', async () => {
    const { publish, logs, db, dbPath, reporter } = await setup();
    db.exec('PRAGMA busy_timeout = 0');
    const locker = new DatabaseSync(dbPath);
    locker.exec('BEGIN IMMEDIATE');
    await publish('busy-1');
    await until('a failed apply', () => logs.some((l) => l.includes('cannot read or apply run updates')));
    assert.equal(getRun(db, 'busy-1'), null);
    locker.exec('ROLLBACK');
    locker.close();
    await until('the run in SQLite', () => getRun(db, 'busy-1') !== null);
    await reporter.waitForApplied(1);
  });

  test('after Redis restarts without its data (no stream, no group), new updates are read again', async () => {
    const { publish, db, server, reporter } = await setup({}, false);
    await publish('before-1');
    await reporter.waitForApplied(1);
    await server.stop();
    await server.restart();
    await publish('after-1');
    await until('the run published after the restart', () => getRun(db, 'after-1') !== null);
  });
});

describe('reporter: killed while acknowledging', () => {
  test('a kill right after the acknowledgement reached Redis leaves no backlog behind', async () => {
    const server = await RedisServer.start();
    cleanups.push(() => server.close());
    const proxy = await TcpProxy.start(server.port);
    cleanups.push(() => proxy.close());
    const log = pino({ level: 'silent' });
    const prefix = 'cibq-rk';
    const k = redisKeys(prefix);
    const redis = connectRedis({ url: server.url, prefix }, log, 'test');
    cleanups.push(() => redis.disconnect());
    const configFile = path.join(dir, 'kill.yaml');
    const dbPath = path.join(dir, 'kill.sqlite');
    writeFileSync(configFile, `db: ${dbPath}\nredis: { prefix: ${prefix} }\n`);
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, REDIS_URL: proxy.url };
    const first = subject({ id: 'acked-1', queued_at: new Date().toISOString() });
    await publishRunUpdate(redis, k.runUpdates, update(first, 'queued', first.queued_at));

    // The real `cibq reporter`, talking to Redis through the proxy. The moment Redis no longer
    // lists the update as pending for the reporter (it was acknowledged), the proxy holds the reply
    // and the reporter is killed: whatever it meant to send after that is never sent.
    const proc = spawn(CIBQ, ['reporter', '--config', configFile], { env, stdio: 'ignore' });
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    cleanups.push(() => void proc.kill('SIGKILL'));
    let delivered = false;
    proxy.onReply = async () => {
      const pending = (await redis.xpending(k.runUpdates, 'reporter').catch(() => [0])) as [number];
      if (pending[0] > 0) delivered = true;
      if (!delivered || pending[0] > 0) return 'forward';
      proc.kill('SIGKILL');
      return 'hold';
    };
    await exited;
    assert.ok(delivered, 'the reporter read the update before it was killed');
    // Acknowledging and deleting were one step: nothing is left in the stream for nobody to read.
    assert.equal(await redis.xlen(k.runUpdates), 0, 'the kill left an acknowledged entry in the stream');

    // A reporter started again reads on; once it has written a new update, nothing is left over.
    const again = spawn(CIBQ, ['reporter', '--config', configFile], { env: { ...env, REDIS_URL: server.url }, stdio: 'ignore' });
    const againExited = new Promise((resolve) => again.once('exit', resolve));
    cleanups.push(async () => {
      again.kill('SIGTERM');
      await againExited;
    });
    const second = subject({ id: 'acked-2', queued_at: new Date().toISOString() });
    await publishRunUpdate(redis, k.runUpdates, update(second, 'queued', second.queued_at));
    await until('the second update to be written', () => {
      let db: DatabaseSync | null = null;
      try {
        db = new DatabaseSync(dbPath, { readOnly: true });
        return getRun(db, 'acked-2') !== null && getRun(db, 'acked-1') !== null;
      } catch {
        return false; // the reporter is still creating the database
      } finally {
        db?.close();
      }
    });
    await until('the acknowledgement of the second update', async () => ((await redis.xpending(k.runUpdates, 'reporter')) as [number])[0] === 0);
    const q = await cibq(['queue', '--json', '--config', configFile], { ...env, REDIS_URL: server.url });
    assert.equal(q.code, 0, q.stderr);
    assert.equal((JSON.parse(q.stdout) as { reporter_backlog: number }).reporter_backlog, 0, 'cibq queue counts a backlog that nothing will ever clear');
  });
});

describe('reporter: leftovers of an older reporter', () => {
  test('updates acknowledged but left in the stream by an older reporter go with the next acknowledgement; pending ones are read', async () => {
    const server = await RedisServer.start();
    cleanups.push(() => server.close());
    const log = pino({ level: 'silent' });
    const redis = connectRedis({ url: server.url, prefix: 'cibq-rr' }, log, 'old');
    cleanups.push(() => redis.disconnect());
    await redis.xgroup('CREATE', keys.runUpdates, 'reporter', '0', 'MKSTREAM');
    for (const id of ['old-1', 'old-2', 'old-3']) {
      const s = subject({ id, queued_at: new Date().toISOString() });
      await publishRunUpdate(redis, keys.runUpdates, update(s, 'queued', s.queued_at));
    }
    // An older reporter read all three, acknowledged two (then died before XDEL) and not the third.
    const read = (await redis.xreadgroup('GROUP', 'reporter', 'reporter', 'COUNT', 10, 'STREAMS', keys.runUpdates, '>')) as [string, [string, string[]][]][];
    const ids = (read[0]?.[1] ?? []).map(([id]) => id);
    assert.equal(ids.length, 3);
    await redis.xack(keys.runUpdates, 'reporter', ids[0] as string, ids[1] as string);
    const db = openDb(path.join(dir, 'leftovers.sqlite'));
    const reporter = new Reporter({
      db, redis, keys, log, reportDir: null, version: 'test', indexIntervalMs: 0,
      liveStatus: async () => ({ queueLength: 0, queues: [], workers: [] }),
    });
    cleanups.push(async () => {
      await reporter.close();
      db.close();
    });
    reporter.start();
    await reporter.waitForApplied(1);
    await until('the backlog to be empty', async () => (await redis.xlen(keys.runUpdates)) === 0);
    assert.notEqual(getRun(db, 'old-3'), null, 'the pending update was still written');
  });
});

describe('reporter: connection dropped during a read', () => {
  test('an update delivered while the connection dropped (its reply lost) is read again after reconnecting', async () => {
    const server = await RedisServer.start();
    cleanups.push(() => server.close());
    const proxy = await TcpProxy.start(server.port);
    cleanups.push(() => proxy.close());
    const log = pino({ level: 'silent' });
    const cfg = { url: proxy.url, prefix: 'cibq-rr' };
    const redis = connectRedis(cfg, log, 'reporter');
    const pub = connectRedis({ url: server.url, prefix: 'cibq-rr' }, log, 'publisher');
    const db = openDb(path.join(dir, 'dropped.sqlite'));
    const reporter = new Reporter({
      db, redis, keys, log, reportDir: null, version: 'test', indexIntervalMs: 0,
      liveStatus: async () => ({ queueLength: 0, queues: [], workers: [] }),
    });
    cleanups.push(async () => {
      await reporter.close();
      redis.disconnect();
      pub.disconnect();
      db.close();
    });
    reporter.start();
    const publish = async (id: string) => {
      const s = subject({ id, queued_at: new Date().toISOString() });
      await publishRunUpdate(pub, keys.runUpdates, update(s, 'queued', s.queued_at));
    };
    await publish('before-drop');
    await reporter.waitForApplied(1);
    // The reply carrying the next update never reaches the reporter: the link dies under it.
    let held = false;
    proxy.onReply = (chunk) => {
      if (!chunk.includes('lost-reply')) return 'forward';
      held = true;
      setImmediate(() => {
        proxy.cut();
        proxy.restore();
      });
      return 'hold';
    };
    await publish('lost-reply');
    await until('the reply to be held back', () => held);
    proxy.onReply = null;
    await publish('after-drop');
    await until('the update published after the drop', () => getRun(db, 'after-drop') !== null);
    await until('the update whose reply was lost', () => getRun(db, 'lost-reply') !== null, 10_000);
    await until('nothing pending', async () => ((await pub.xpending(keys.runUpdates, 'reporter')) as [number])[0] === 0);
  });
});

describe('reading run updates under large logs', () => {
  test('after batches of large logs the reporter reads fewer updates at a time, and 200 again once they are small', () => {
    const MB = 1024 * 1024;
    let count = 200;
    const seen: number[] = [];
    for (let i = 0; i < 8; i++) seen.push((count = nextReadCount(count, count * MB)));
    assert.ok(count <= 4, `reads at most 4 updates of 1 MB at a time, got ${count} (${seen.join(', ')})`);
    assert.ok(count >= 1);
    for (let i = 0; i < 10; i++) count = nextReadCount(count, count * 100);
    assert.equal(count, 200);
  });
});
