/**
 * `cibq runs list` filters and `cibq report`, on a real SQLite database written by the reporter's
 * own update code.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunRecord } from '../../src/model/run.ts';
import { Redis } from 'ioredis';
import { redisKeys } from '../../src/queue/redis.ts';
import { RunQueues } from '../../src/queue/run-queues.ts';
import { announceWorker } from '../../src/queue/worker-registry.ts';
import { cibq } from '../helpers/cli.ts';
import { RedisServer } from '../helpers/redis-server.ts';
import { R06_LOG, seedRuns } from './run-fixtures.ts';

describe('cibq runs list and cibq report', () => {
  let dir: string;
  let config: string;
  const env = () => ({ CIBQ_CONFIG: config, REDIS_URL: 'redis://127.0.0.1:1' });
  const list = async (...args: string[]) => {
    const r = await cibq(['runs', 'list', '--json', ...args], env());
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as RunRecord[]).map((x) => x.id);
  };

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cq-runs-'));
    config = path.join(dir, 'cibq.yaml');
    writeFileSync(config, 'db: ci.db\nreport_dir: reports\nadapters:\n  native: { command: /bin/true }\n');
    seedRuns(path.join(dir, 'ci.db'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('runs list filters through the real executable (the SQL is covered in run-query.test.ts)', async () => {
    assert.deepEqual(await list(), ['r08', 'r07', 'r06', 'r05', 'r04', 'r03', 'r02', 'r01']);
    assert.deepEqual(await list('--limit', '2'), ['r08', 'r07']);
    // main in any namespace and the canonical one; not feature/main, not the tag named main.
    assert.deepEqual(await list('--branch', 'main'), ['r07', 'r03', 'r02', 'r01']);
    assert.deepEqual(await list('--repo', 'acme', '--branch', 'main', '--result', 'success'), ['r03', 'r01']);
    assert.deepEqual(await list('--patch', 'abab', '--adapter', 'native', '--state', 'finished'), ['r06']);
  });

  test('the human listing shows a header row, then one line per run, in columns', async () => {
    const r = await cibq(['runs', 'list', '--result', 'failure'], env());
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0] ?? '', /^RUN +QUEUED +ADAPTER +REPOSITORY +BRANCH OR PATCH +COMMIT +STATUS$/);
    assert.match(lines[1] ?? '', /^r06 .* native +acme +patch abababab.* failure$/);
    assert.match(lines[2] ?? '', /^r02 .* refs\/heads\/main .* failure$/);
    const statusColumn = (lines[0] ?? '').indexOf('STATUS');
    assert.equal((lines[1] ?? '').indexOf('failure'), statusColumn);
    assert.equal((lines[2] ?? '').indexOf('failure'), statusColumn);
  });

  test('runs show --log prints the log, colours kept and other terminal controls escaped', async () => {
    const r = await cibq(['runs', 'show', 'r06', '--log'], env());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^id: r06$/m);
    assert.ok(r.stdout.includes('\n\nbuilding\n\u001b[31merror: test failed\u001b[0m\n'), r.stdout);
    assert.ok(r.stdout.includes('\\u001b]0;pwned\\u0007done'), 'the title change is shown, not done');
    const json = await cibq(['runs', 'show', 'r06', '--log', '--json'], env());
    assert.equal((JSON.parse(json.stdout) as { log: string }).log, R06_LOG);
    const none = await cibq(['runs', 'show', 'r01', '--log'], env());
    assert.match(none.stdout, /\(no log recorded\)/);
    const plain = await cibq(['runs', 'show', 'r06'], env());
    assert.doesNotMatch(plain.stdout, /building/);
  });

  test('impossible filter values are usage errors (exit 2)', async () => {
    for (const args of [['--result', 'green'], ['--patch', 'xyz'], ['--branch', 'refs/heads/main']]) {
      const r = await cibq(['runs', 'list', ...args], env());
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, new RegExp(`--${(args[0] ?? '').slice(2)}`));
    }
  });

  test('cibq report writes the pages once, to report_dir or --output-dir', async () => {
    const r = await cibq(['report'], env());
    assert.equal(r.code, 0, r.stderr);
    // Redis is not running: the report is still written, with a warning.
    assert.match(r.stderr, /queue length and workers unknown/);
    const index = path.join(dir, 'reports', 'index.html');
    assert.ok(existsSync(index));
    const html = readFileSync(index, 'utf8');
    assert.match(html, /acme/);
    assert.match(html, /tools/);
    const other = path.join(dir, 'elsewhere', 'nested');
    const j = await cibq(['report', '--output-dir', other, '--json'], env());
    assert.equal(j.code, 0, j.stderr);
    assert.deepEqual(JSON.parse(j.stdout), { dir: other, db: path.join(dir, 'ci.db'), queue_length: 0 });
    assert.ok(existsSync(path.join(other, 'index.html')));
    assert.ok(existsSync(path.join(other, 'status.json')));
  });

  test('cibq report shows the queue counts and live workers from Redis, as the reporter does', async () => {
    const server = await RedisServer.start();
    const redis = new Redis(server.url, { maxRetriesPerRequest: null });
    try {
      const keys = redisKeys('cibq');
      await announceWorker(redis, keys, {
        name: 'builder-7',
        host: 'ci-host',
        pid: 42,
        adapters: ['native'],
        concurrency: 3,
        version: '0.1.0',
        running: [],
        started_at: new Date().toISOString(),
        seen_at: new Date().toISOString(),
        state: 'running',
      });
      const queues = new RunQueues(redis, keys);
      await queues.queue('native').add('run', {}, { jobId: 'waiting-1' });
      await queues.close();
      const out = path.join(dir, 'live');
      const r = await cibq(['report', '--output-dir', out, '--json'], { CIBQ_CONFIG: config, REDIS_URL: server.url });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.equal((JSON.parse(r.stdout) as { queue_length: number }).queue_length, 1);
      const html = readFileSync(path.join(out, 'index.html'), 'utf8');
      assert.match(html, /class="worker">builder-7</);
      assert.match(html, /class="queue-length">1</);
    } finally {
      redis.disconnect();
      await server.close();
    }
  });

  test('cibq report without a report directory is a usage error; without a database it exits 1', async () => {
    const noDir = path.join(dir, 'nodir.yaml');
    writeFileSync(noDir, 'db: ci.db\nadapters:\n  native: { command: /bin/true }\n');
    const a = await cibq(['report', '--config', noDir]);
    assert.equal(a.code, 2);
    assert.match(a.stderr, /--output-dir/);
    const noDb = path.join(dir, 'nodb.yaml');
    writeFileSync(noDb, 'db: none.db\nreport_dir: r2\nadapters:\n  native: { command: /bin/true }\n');
    const b = await cibq(['report', '--config', noDb]);
    assert.equal(b.code, 1);
    assert.match(b.stderr, /none\.db does not exist/);
  });
});
