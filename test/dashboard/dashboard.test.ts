/**
 * The dashboard as an operator uses it, against a real redis-server and a real SQLite file: the
 * Bull board in headless Chromium, the reports, /healthz, /metrics, basic auth and read-only mode.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { startDashboard, type Dashboard } from '../../src/dashboard/dashboard.ts';
import { applyUpdate } from '../../src/db/apply-update.ts';
import { openDb } from '../../src/db/open-db.ts';
import type { Config } from '../../src/config/config.ts';
import { parseConfig } from '../../src/config/config-load.ts';
import { UsageError } from '../../src/util/errors.ts';
import { redisKeys } from '../../src/queue/redis.ts';
import { announceWorker } from '../../src/queue/worker-registry.ts';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../helpers/browser.ts';
import { cibq } from '../helpers/cli.ts';
import { freePort, RedisServer } from '../helpers/redis-server.ts';
import { subject, update } from '../reporter/fixtures.ts';

const log = pino({ level: 'silent' });
const CREDS = { user: 'ops', password: 'correct horse battery staple' };
const PREFIX = 'cibqdash';

function configFor(dir: string, redisUrl: string): Config {
  const text = `
db: cibq.db
report_dir: reports
default_adapter: native
adapters:
  native: { command: /bin/true }
  ambient: { command: /bin/true }
filters: [ !BranchUpdated ]
redis: { prefix: ${PREFIX} }
`;
  const file = path.join(dir, 'cibq.yaml');
  writeFileSync(file, text);
  return parseConfig(text, { path: file, env: { REDIS_URL: redisUrl }, homeDir: dir });
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** Prometheus text → { 'name{labels}': value }, labels as written. */
function metricLines(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    assert.ok(m?.[1] !== undefined && m[2] !== undefined, `not a metric line: ${line}`);
    out.set(m[1], Number(m[2]));
  }
  return out;
}

describe('cibq dashboard', () => {
  let dir = '';
  let redis: RedisServer;
  let config: Config;
  let client: Redis;
  let queue: Queue;
  let dash: Dashboard;
  let browser: TestBrowser;
  const jobIds: string[] = [];

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cq-dash-'));
    redis = await RedisServer.start();
    config = configFor(dir, redis.url);
    assert.equal(config.redis.prefix, PREFIX);
    // Reports as the reporter writes them, and a secret next to them.
    const reports = config.reportDir as string;
    mkdirSync(path.join(reports, 'heartwood'), { recursive: true });
    mkdirSync(path.join(reports, 'empty'));
    writeFileSync(path.join(reports, 'index.html'), '<!doctype html><title>CI runs</title><h1>All repositories</h1><a href="heartwood/">heartwood</a>');
    writeFileSync(path.join(reports, 'heartwood', 'index.html'), '<!doctype html><title>heartwood</title><h1>Runs of heartwood</h1>');
    writeFileSync(path.join(reports, 'status.json'), '{"latest_status":"success"}');
    writeFileSync(path.join(reports, '.index.html.tmp'), 'half written');
    writeFileSync(path.join(dir, 'secret.txt'), 'the secret');
    symlinkSync(path.join(dir, 'secret.txt'), path.join(reports, 'escape.txt'));
    // Runs in the database: two successes (30 s, 90 s), a failure (10 min), one still running.
    const db = openDb(config.db);
    const runs: [string, string, string | null, string][] = [
      ['r1', 'native', 'success', '2024-05-01T10:00:30Z'],
      ['r2', 'native', 'success', '2024-05-01T10:01:30Z'],
      ['r3', 'ambient', 'failure', '2024-05-01T10:10:00Z'],
      ['r4', 'native', null, ''],
    ];
    for (const [id, adapter, result, finished] of runs) {
      const s = subject({ id, adapter });
      applyUpdate(db, update(s, 'running', '2024-05-01T10:00:00Z', { attempts: 1 }));
      if (result !== null) applyUpdate(db, update(s, 'finished', finished, { result: result, attempts: 1 }));
    }
    db.close();
    // Jobs in Redis, as the producer queues them.
    client = new Redis(redis.url, { maxRetriesPerRequest: null });
    const keys = redisKeys(PREFIX);
    queue = new Queue(keys.runQueue('native'), { connection: client, prefix: keys.bullPrefix });
    for (const id of ['5b1c0e4a-run-one', '5b1c0e4a-run-two']) {
      await queue.add('run', { subject: subject({ id, repo_name: 'heartwood' }) }, { jobId: id });
      jobIds.push(id);
    }
    await announceWorker(client, keys, {
      name: 'box-main', host: 'box', pid: 42, adapters: ['native', 'ambient'], concurrency: 2, version: '0.1.0',
      running: [{ run_id: 'r4', adapter: 'native', since: '2024-05-01T10:00:00Z' }],
      started_at: '2024-05-01T09:00:00Z', seen_at: new Date().toISOString(), state: 'running',
    });
    dash = await startDashboard({ config, log, version: '9.9.9-test', port: 0, credentials: null });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await dash?.close();
    await queue?.close();
    client?.disconnect();
    await redis?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('listens on 127.0.0.1 by default and sends / to the queues', async () => {
    assert.match(dash.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await fetch(`${dash.url}/`, { redirect: 'manual' });
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), '/queues');
  });

  test('the board shows every adapter queue and the jobs in them', async () => {
    const page = await browser.open(`${dash.url}/queues`);
    try {
      await page.getByText('runs-native').first().waitFor();
      await page.getByText('runs-ambient').first().waitFor();
      await page.goto(`${dash.url}/queues/queue/runs-native?status=waiting`);
      for (const id of jobIds) await page.getByText(id).first().waitFor();
      // The job's data is the run subject.
      assert.ok((await page.content()).includes('heartwood'));
    } finally {
      await page.close();
    }
  });

  /** The action buttons on a job's card (icons: duplicate, edit, remove, promote, retry…). */
  const jobActions = (page: Page, id: string) =>
    page.locator('[class*="header-"]', { has: page.locator('[class*="jobLink"]', { hasText: id }) }).locator('button');

  /** The entries of every drop-down menu on the page. */
  /**
   * The items of every drop-down menu on the page. Menus and their items render asynchronously:
   * wait for `minMenus` menu buttons, and for each opened menu's items, before reading them.
   */
  async function menuItems(page: Page, minMenus = 1): Promise<string[]> {
    const items: string[] = [];
    const menus = page.locator('button[aria-haspopup="menu"]');
    await menus.nth(minMenus - 1).waitFor();
    const entries = page.getByRole('menuitem');
    for (let i = 0; i < (await menus.count()); i++) {
      await menus.nth(i).click();
      await entries.first().waitFor({ timeout: 3000 }).catch(() => {});
      items.push(...(await entries.allTextContents()));
      await page.keyboard.press('Escape');
      await entries.first().waitFor({ state: 'detached', timeout: 3000 }).catch(() => {});
    }
    return items;
  }

  test('the board offers job and queue actions (so the read-only test below means something)', async () => {
    const page = await browser.open(`${dash.url}/queues/queue/runs-native?status=waiting`);
    try {
      await page.getByText(jobIds[0] as string).first().waitFor();
      assert.ok((await jobActions(page, jobIds[0] as string).count()) > 0);
      const items = await menuItems(page, 2);
      for (const action of ['Pause', 'Empty', 'Obliterate']) assert.ok(items.includes(action), `${action} in ${JSON.stringify(items)}`);
    } finally {
      await page.close();
    }
  });

  test('--read-only hides every action and the API refuses them', async () => {
    const ro = await startDashboard({ config, log, version: '9.9.9-test', port: 0, credentials: null, readOnly: true });
    try {
      const page = await browser.open(`${ro.url}/queues/queue/runs-native?status=waiting`);
      try {
        await page.getByText(jobIds[0] as string).first().waitFor();
        assert.equal(await jobActions(page, jobIds[0] as string).count(), 0);
        const items = await menuItems(page);
        for (const action of ['Add job', 'Pause', 'Empty', 'Obliterate']) assert.ok(!items.includes(action), `${action} in ${JSON.stringify(items)}`);
        assert.equal(await page.getByRole('button', { name: /retry|promote|clean|pause|empty|obliterate|add job/i }).count(), 0);
      } finally {
        await page.close();
      }
      const api = `${ro.url}/queues/api/queues/runs-native`;
      for (const action of [`${jobIds[0]}/promote`, `${jobIds[0]}/clean`, `${jobIds[0]}/retry`, 'empty', 'pause', 'promote', 'clean/waiting']) {
        const r = await fetch(`${api}/${action}`, { method: 'PUT' });
        assert.equal(r.status, 405, `${action} answered ${r.status}`);
      }
      assert.equal(await queue.getWaitingCount(), jobIds.length);
      assert.equal(await queue.isPaused(), false);
    } finally {
      await ro.close();
    }
  });

  test('/reports/ serves the report pages, index.html for directories', async () => {
    const page = await browser.open(`${dash.url}/reports/`);
    try {
      assert.equal(await page.locator('h1').textContent(), 'All repositories');
      await page.getByRole('link', { name: 'heartwood' }).click();
      await page.waitForURL(`${dash.url}/reports/heartwood/`);
      assert.equal(await page.locator('h1').textContent(), 'Runs of heartwood');
    } finally {
      await page.close();
    }
    const json = await fetch(`${dash.url}/reports/status.json`);
    assert.equal(json.status, 200);
    assert.match(json.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await json.json(), { latest_status: 'success' });
    const bare = await fetch(`${dash.url}/reports/heartwood`, { redirect: 'manual' });
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.get('location'), '/reports/heartwood/');
  });

  test('/reports/ lists no directories and reaches nothing outside report_dir', async () => {
    const paths = ['/reports/empty/', '/reports/missing.html', '/reports/../secret.txt', '/reports/%2e%2e/secret.txt',
      '/reports/heartwood/%2e%2e/%2e%2e/secret.txt', '/reports/..%2fsecret.txt', '/reports/escape.txt',
      '/reports/.index.html.tmp', '/reports/%00'];
    for (const p of paths) {
      const r = await fetch(`${dash.url}${p}`, { redirect: 'manual' });
      const body = await r.text();
      assert.ok(r.status === 404 || r.status === 400, `${p} answered ${r.status}`);
      assert.ok(!body.includes('the secret') && !body.includes('half written'), `${p} leaked ${body}`);
    }
  });

  test('/healthz says Redis is reachable and names the version', async () => {
    const r = await fetch(`${dash.url}/healthz`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { ok: true, redis: true, version: '9.9.9-test', connection: { state: 'ready', tls: false, sentinel: false } });
  });

  test('/healthz answers 503 when Redis is down', async () => {
    const down = configFor(dir, `redis://127.0.0.1:${await freePort()}`);
    const d = await startDashboard({ config: down, log, version: '9.9.9-test', port: 0, credentials: null });
    try {
      const r = await fetch(`${d.url}/healthz`);
      assert.equal(r.status, 503);
      const body = (await r.json()) as { ok: boolean; redis: boolean; version: string; connection: { state: string } };
      assert.deepEqual({ ...body, connection: { ...body.connection, state: '' } }, { ok: false, redis: false, version: '9.9.9-test', connection: { state: '', tls: false, sentinel: false } });
      assert.notEqual(body.connection.state, 'ready');
      const m = metricLines(await (await fetch(`${d.url}/metrics`)).text());
      assert.equal(m.get('cibq_redis_up'), 0);
      assert.equal(m.get('cibq_runs{adapter="native",result="success"}'), 2, 'runs still come from SQLite');
    } finally {
      await d.close();
    }
  });

  test('/metrics has jobs per queue, runs by result, run durations and live workers', async () => {
    const r = await fetch(`${dash.url}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
    const m = metricLines(await r.text());
    assert.equal(m.get('cibq_redis_up'), 1);
    assert.equal(m.get('cibq_build_info{version="9.9.9-test"}'), 1);
    assert.equal(m.get('cibq_queue_jobs{queue="runs-native",adapter="native",state="waiting"}'), 2);
    assert.equal(m.get('cibq_queue_jobs{queue="runs-native",adapter="native",state="active"}'), 0);
    assert.equal(m.get('cibq_queue_jobs{queue="runs-ambient",adapter="ambient",state="waiting"}'), 0);
    for (const state of ['failed', 'completed', 'delayed']) {
      assert.equal(m.get(`cibq_queue_jobs{queue="runs-native",adapter="native",state="${state}"}`), 0);
    }
    assert.equal(m.get('cibq_runs{adapter="native",result="success"}'), 2);
    assert.equal(m.get('cibq_runs{adapter="ambient",result="failure"}'), 1);
    assert.equal(m.get('cibq_runs_unfinished{adapter="native",state="running"}'), 1);
    const h = 'cibq_run_duration_seconds';
    assert.equal(m.get(`${h}_bucket{adapter="native",result="success",le="15"}`), 0);
    assert.equal(m.get(`${h}_bucket{adapter="native",result="success",le="30"}`), 1);
    assert.equal(m.get(`${h}_bucket{adapter="native",result="success",le="120"}`), 2);
    assert.equal(m.get(`${h}_bucket{adapter="native",result="success",le="+Inf"}`), 2);
    assert.equal(m.get(`${h}_sum{adapter="native",result="success"}`), 120);
    assert.equal(m.get(`${h}_count{adapter="native",result="success"}`), 2);
    assert.equal(m.get(`${h}_bucket{adapter="ambient",result="failure",le="300"}`), 0);
    assert.equal(m.get(`${h}_bucket{adapter="ambient",result="failure",le="600"}`), 1);
    assert.equal(m.get('cibq_workers{state="running"}'), 1);
    assert.equal(m.get('cibq_workers{state="draining"}'), 0);
    assert.equal(m.get('cibq_worker_runs'), 1);
  });

  test('/metrics shows the job-COB announces the publisher still has to make (0 until it reports any)', async () => {
    const before = metricLines(await (await fetch(`${dash.url}/metrics`)).text());
    assert.equal(before.get('cibq_publisher_pending_announces'), 0);
    await client.set(redisKeys(PREFIX).publisherPendingAnnounces, '3');
    try {
      const m = metricLines(await (await fetch(`${dash.url}/metrics`)).text());
      assert.equal(m.get('cibq_publisher_pending_announces'), 3);
    } finally {
      await client.del(redisKeys(PREFIX).publisherPendingAnnounces);
    }
  });

  test('/metrics works before the reporter has created the database', async () => {
    const fresh = mkdtempSync(path.join(os.tmpdir(), 'cq-dash2-'));
    try {
      const d = await startDashboard({ config: configFor(fresh, redis.url), log, version: 'x', port: 0, credentials: null });
      try {
        const m = metricLines(await (await fetch(`${d.url}/metrics`)).text());
        assert.equal(m.get('cibq_redis_up'), 1);
        assert.equal([...m.keys()].filter((k) => k.startsWith('cibq_runs')).length, 0);
        const r = await fetch(`${d.url}/reports/`);
        assert.equal(r.status, 404);
        assert.match(await r.text(), /no reports yet/);
      } finally {
        await d.close();
      }
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  describe('off 127.0.0.1', () => {
    let open: Dashboard;

    before(async () => {
      open = await startDashboard({ config, log, version: '9.9.9-test', host: '127.0.0.2', port: 0, credentials: CREDS });
    });
    after(async () => open?.close());

    test('refuses to start without credentials', async () => {
      for (const host of ['127.0.0.2', '0.0.0.0', '::']) {
        await assert.rejects(startDashboard({ config, log, version: 'x', host, port: 0, credentials: null }),
          (e: unknown) => e instanceof UsageError && /CIBQ_DASHBOARD_USER/.test(e.message));
      }
    });

    test('every page but /healthz requires the credentials', async () => {
      assert.match(open.url, /^http:\/\/127\.0\.0\.2:\d+$/);
      for (const p of ['/queues', '/queues/api/queues', '/reports/', '/metrics', '/']) {
        const none = await fetch(`${open.url}${p}`, { redirect: 'manual' });
        assert.equal(none.status, 401, p);
        assert.match(none.headers.get('www-authenticate') ?? '', /^Basic realm="cibq"/);
        const wrong = await fetch(`${open.url}${p}`, { redirect: 'manual', headers: { authorization: basic(CREDS.user, 'wrong') } });
        assert.equal(wrong.status, 401, p);
        const wrongUser = await fetch(`${open.url}${p}`, { redirect: 'manual', headers: { authorization: basic('root', CREDS.password) } });
        assert.equal(wrongUser.status, 401, p);
        const ok = await fetch(`${open.url}${p}`, { redirect: 'manual', headers: { authorization: basic(CREDS.user, CREDS.password) } });
        assert.ok(ok.status === 200 || ok.status === 302, `${p} with credentials: ${ok.status}`);
      }
      const health = await fetch(`${open.url}/healthz`);
      assert.equal(health.status, 200);
    });

    test('a browser with the credentials sees the board', async () => {
      const page = await browser.context.newPage();
      try {
        await page.setExtraHTTPHeaders({ authorization: basic(CREDS.user, CREDS.password) });
        await page.goto(`${open.url}/queues`);
        await page.getByText('runs-native').first().waitFor();
      } finally {
        await page.close();
      }
    });
  });

  describe('cibq dashboard (the command)', () => {
    test('exits 2 and says what to set when bound off 127.0.0.1 without credentials', async () => {
      const r = await cibq(['dashboard', '--host', '0.0.0.0', '--config', path.join(dir, 'cibq.yaml')], { REDIS_URL: redis.url });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /refusing to serve the dashboard on 0\.0\.0\.0 without a password/);
      assert.match(r.stderr, /CIBQ_DASHBOARD_USER and CIBQ_DASHBOARD_PASSWORD/);
    });

    test('exits 2 when only one of the two credentials is set', async () => {
      const r = await cibq(['dashboard', '--config', path.join(dir, 'cibq.yaml')], { REDIS_URL: redis.url, CIBQ_DASHBOARD_USER: 'ops' });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /set both CIBQ_DASHBOARD_USER and CIBQ_DASHBOARD_PASSWORD, or neither/);
    });

    test('--help describes the flags', async () => {
      const r = await cibq(['dashboard', '--help']);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^Usage: cibq dashboard /);
      assert.match(r.stdout, /--read-only/);
    });
  });
});
