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
import { Reporter, type ReporterDeps } from '../../src/reporter/run-reporter.ts';
import { openDb } from '../../src/db/open-db.ts';
import { getRun } from '../../src/db/runs.ts';
import { connectRedis, redisKeys } from '../../src/queue/redis.ts';
import { publishRunUpdate } from '../../src/queue/run-updates.ts';
import { RedisServer } from '../helpers/redis-server.ts';
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
