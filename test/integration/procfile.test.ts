/**
 * `npm run procfile`: foreman's nf starts the real `bin/cibq` processes of the Procfile with the
 * environment of a `.env` file (the publisher idles: job_cobs is off); one node event goes through all four (producer, worker, reporter,
 * dashboard), and SIGTERM stops them all, leaving no process behind.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { openDbReadOnly } from '../../src/db/open-db.ts';
import { listRuns } from '../../src/db/runs.ts';
import { redisKeys } from '../../src/queue/redis.ts';
import type { RunRecord } from '../../src/model/run.ts';
import { FakeNode } from '../fixtures/fake-node.ts';
import { FakeStorage, makeNodeKey } from '../fixtures/radicle-storage.ts';
import { launchBrowser, type TestBrowser } from '../helpers/browser.ts';
import { ADAPTERS_DIR, refsFetched, waitFor } from '../helpers/pipeline.ts';
import { freePort, RedisServer } from '../helpers/redis-server.ts';

const ROOT = path.join(import.meta.dirname, '..', '..');
const PREFIX = 'cibqpf';

/** Every process below `pid`, from /proc (children first found, then theirs). */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const ppid = parentPid(Number(name));
    if (ppid !== 0) parentOf.set(Number(name), ppid); // 0: gone meanwhile
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift() as number;
    for (const [child, parent] of parentOf) {
      if (parent === p) {
        out.push(child);
        queue.push(child);
      }
    }
  }
  return out;
}

/** Alive means present and not a zombie (PID 1 here does not reap orphans). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function parentPid(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '';
  }
}

describe('npm run procfile', () => {
  let dir = '';
  let redis: RedisServer;
  let node: FakeNode;
  let storage: FakeStorage;
  let browser: TestBrowser;
  let npm: ChildProcess | null = null;
  let output = '';
  let dashboardUrl = '';
  let dbPath = '';
  let reportDir = '';
  let recordFile = '';
  const alice = makeNodeKey(1);
  const bob = makeNodeKey(2);

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cq-pf-'));
    const radHome = path.join(dir, 'h');
    storage = await FakeStorage.create(radHome);
    node = await FakeNode.start(radHome, alice.nid);
    redis = await RedisServer.start();
    recordFile = path.join(dir, 'record.jsonl');
    dbPath = path.join(dir, 'cibq.db');
    reportDir = path.join(dir, 'reports');
    writeFileSync(path.join(dir, 'cibq.yaml'), `
db: ${dbPath}
report_dir: ${reportDir}
default_adapter: rec
adapters:
  rec:
    command: ${ADAPTERS_DIR}/recorder.mjs
    env: { RECORD_FILE: ${recordFile}, ADAPTER_NAME: rec }
filters:
  - !Or [ !BranchCreated, !BranchUpdated ]
max_run_time: 30s
redis: { prefix: ${PREFIX} }
`);
    const port = await freePort();
    dashboardUrl = `http://127.0.0.1:${port}`;
    writeFileSync(path.join(dir, '.env'), [
      `CIBQ_CONFIG=${path.join(dir, 'cibq.yaml')}`,
      `REDIS_URL=${redis.url}`,
      `RAD_HOME=${radHome}`,
      `CIBQ_DASHBOARD_PORT=${port}`,
      'CIBQ_LOG_LEVEL=info',
      '',
    ].join('\n'));
    browser = await launchBrowser();
  });

  after(async () => {
    if (npm?.exitCode === null && npm.pid !== undefined) {
      // The test failed before stopping it: do not leave the processes running.
      for (const pid of descendants(npm.pid).reverse()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      npm.kill('SIGKILL');
    }
    await browser?.close();
    await node?.stop();
    await redis?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a node event goes through producer, worker, reporter and dashboard; SIGTERM stops them all', async () => {
    const { rid } = await storage.createRepo({ name: 'acme', description: 'Acme', defaultBranch: 'main', delegates: [alice.nid] });
    const c1 = await storage.commit(rid, { files: { 'README.md': 'one\n' }, message: 'first' });
    await storage.pushBranch(rid, alice.nid, 'main', c1);
    await storage.setCanonicalHead(rid, 'main', c1);
    await storage.signRefs(rid, alice.nid);

    npm = spawn('npm', ['run', '--silent', 'procfile', '--', '--env', path.join(dir, '.env')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, npm_config_update_notifier: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    npm.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    npm.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => npm?.once('exit', (code) => resolve(code)));

    // All four are up: the dashboard answers, the producer subscribed and recorded its baseline.
    await waitFor('the dashboard', async () => (await fetch(`${dashboardUrl}/healthz`).catch(() => null))?.ok, 30_000);
    await node.waitForSubscribers(1, 30_000);
    const client = new Redis(redis.url, { maxRetriesPerRequest: null });
    try {
      await waitFor('the producer baseline', async () => (await client.exists(redisKeys(PREFIX).snapshotInitialized)) === 1, 30_000);
    } finally {
      client.disconnect();
    }
    const processes = descendants(npm.pid as number);
    // A child a cibq process has forked but not yet exec'd (git, an adapter) still shows its
    // parent's command line for a moment: only processes whose parent is not cibq are cibq's own.
    const isCibq = (p: number): boolean => cmdline(p).includes('src/cli/main.ts');
    const cibqs = processes.filter((p) => isCibq(p) && !isCibq(parentPid(p)));
    assert.deepEqual(cibqs.map((p) => cmdline(p).split(' ').find((w) => ['producer', 'worker', 'reporter', 'publisher', 'dashboard'].includes(w))).sort(),
      ['dashboard', 'producer', 'publisher', 'reporter', 'worker'], output);

    // One push: the producer queues a run, a worker runs the adapter, the reporter records it.
    const c2 = await storage.commit(rid, { files: { 'README.md': 'two\n' }, parent: c1, message: 'second' });
    await storage.pushBranch(rid, alice.nid, 'main', c2);
    const sig = await storage.signRefs(rid, alice.nid);
    node.emit(refsFetched(bob.nid, rid, [
      { updated: { name: `refs/namespaces/${alice.nid}/refs/heads/main`, old: c1, new: c2 } },
      { updated: { name: `refs/namespaces/${alice.nid}/refs/rad/sigrefs`, old: `${'0'.repeat(39)}1`, new: sig } },
    ]));
    await waitFor('the adapter to run', () => existsSync(recordFile) && readFileSync(recordFile, 'utf8').includes(c2), 30_000);
    const run = await waitFor('the run in SQLite', () => {
      if (!existsSync(dbPath)) return null;
      const db = openDbReadOnly(dbPath);
      try {
        return listRuns(db).find((r: RunRecord) => r.commit === c2 && r.state === 'finished') ?? null;
      } finally {
        db.close();
      }
    }, 30_000);
    assert.equal(run.result, 'success');
    assert.equal(run.adapter, 'rec');
    await waitFor('the report page', () => existsSync(path.join(reportDir, 'index.html')) && readFileSync(path.join(reportDir, 'index.html'), 'utf8').includes('acme'), 30_000);

    // The dashboard shows the job in the queue's completed list, and the report under /reports/.
    const page = await browser.open(`${dashboardUrl}/queues/queue/runs-rec?status=completed`);
    try {
      await page.getByText(run.id).first().waitFor();
      await page.goto(`${dashboardUrl}/reports/`);
      await page.getByText('acme').first().waitFor();
    } finally {
      await page.close();
    }

    // SIGTERM to `npm run procfile`: every process stops, none is left behind.
    const all = descendants(npm.pid as number);
    npm.kill('SIGTERM');
    const code = await exited;
    await waitFor('every process to exit', () => all.every((p) => !isAlive(p)), 30_000)
      .catch(() => assert.fail(`left behind: ${all.filter(isAlive).map((p) => `${p} ${cmdline(p)}`).join('; ')}\n${output}`));
    assert.equal(code, 0, output);
    for (const name of ['producer', 'worker', 'reporter', 'publisher', 'dashboard']) {
      assert.match(output, new RegExp(`${name}\\.1 .*stopped`), `${name} did not stop gracefully:\n${output}`);
    }
  });
});
