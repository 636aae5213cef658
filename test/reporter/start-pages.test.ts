/**
 * The reporter's start (issue 11): with nothing changed it writes no page, only the clock-dependent
 * index.html and status.json; other templates, version or settings, or a report dir that lost its
 * pages, regenerate every page; runs whose pages a crash left unwritten, and runs deleted by a lower
 * keep_runs, are brought up to date without a full regeneration; a recorded run rewrites only the
 * pages it affects.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { applyUpdate } from '../../src/db/apply-update.ts';
import { openDb } from '../../src/db/open-db.ts';
import { connectRedis, redisKeys } from '../../src/queue/redis.ts';
import { publishRunUpdate } from '../../src/queue/run-updates.ts';
import { Reporter, type ReporterDeps } from '../../src/reporter/run-reporter.ts';
import { RedisServer } from '../helpers/redis-server.ts';
import { RID_A, RID_B, subject, update } from './fixtures.ts';

const A = RID_A.slice(4);
const B = RID_B.slice(4);
const OLD = new Date('2000-01-01T00:00:00Z');
const keys = redisKeys('cibq-sp');

let dir: string;
let reportDir: string;
let db: DatabaseSync;
let server: RedisServer;
let redis: Redis;
let pub: Redis;

function at(minute: number): string {
  return new Date(Date.parse('2024-05-01T00:00:00Z') + minute * 60_000).toISOString();
}

function finish(id: string, minute: number, over: Parameters<typeof subject>[0] = {}): void {
  const s = subject({ id, queued_at: at(minute), ref: 'refs/heads/main', ...over });
  applyUpdate(db, update(s, 'finished', new Date(Date.parse(s.queued_at) + 30_000).toISOString(), { result: 'success' }));
}

async function files(): Promise<string[]> {
  return (await readdir(reportDir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile() && !e.name.startsWith('.'))
    .map((e) => join(e.parentPath, e.name).slice(reportDir.length + 1))
    .sort();
}

/** Marks every file as old, so a rewrite shows in its mtime. */
async function age(): Promise<void> {
  for (const f of await files()) await utimes(join(reportDir, f), OLD, OLD);
}

async function touched(): Promise<string[]> {
  const out: string[] = [];
  for (const f of await files()) if ((await stat(join(reportDir, f))).mtimeMs !== OLD.getTime()) out.push(f);
  return out;
}

/** A reporter on the shared database and report dir, as `cibq reporter` starts it. */
async function withReporter<T>(over: Partial<ReporterDeps>, fn: (r: Reporter, logs: string[]) => Promise<T>): Promise<T> {
  const logs: string[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void logs.push(s) });
  const reporter = new Reporter({
    db,
    redis,
    keys,
    log,
    reportDir,
    version: '0.1.0',
    liveStatus: async () => ({ queueLength: 0, queues: [], workers: [] }),
    debounceMs: 20,
    indexIntervalMs: 0,
    pageSettings: { jobCobs: false },
    ...over,
  });
  try {
    return await fn(reporter, logs);
  } finally {
    await reporter.close();
  }
}

const said = (logs: string[], msg: string): boolean => logs.some((l) => l.includes(`"msg":"${msg}"`));

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cibq-sp-'));
  reportDir = join(dir, 'report');
  db = openDb(join(dir, 'runs.sqlite'));
  for (let i = 0; i < 60; i++) finish(`main-${String(i).padStart(2, '0')}`, i);
  for (let i = 0; i < 5; i++) finish(`b-${i}`, i, { repo: RID_B, repo_name: 'other' });
  server = await RedisServer.start();
  redis = connectRedis({ url: server.url, prefix: 'cibq-sp' }, pino({ level: 'silent' }), 'reporter');
  pub = connectRedis({ url: server.url, prefix: 'cibq-sp' }, pino({ level: 'silent' }), 'publisher');
  // The first start finds an empty report dir: every page.
  await withReporter({}, async (r, logs) => {
    await r.startPages();
    assert.ok(said(logs, 'report regenerated'));
  });
});

after(async () => {
  redis?.disconnect();
  pub?.disconnect();
  await server?.close();
  db?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('reporter start', () => {
  test('with nothing changed, no page is rewritten: only index.html and status.json (the clock)', async () => {
    assert.ok((await files()).includes('runs/main-00.html'));
    await age();
    await withReporter({}, async (r, logs) => {
      await r.startPages();
      assert.ok(said(logs, 'report up to date'));
      assert.ok(!said(logs, 'report regenerated'));
    });
    const t = await touched();
    assert.ok(t.every((f) => f === 'index.html' || f === 'status.json'), t.join(' '));
  });

  test('a missing page is not looked for when nothing changed, but other templates regenerate every page', async () => {
    await unlink(join(reportDir, 'runs/main-01.html'));
    await withReporter({}, async (r) => r.startPages());
    assert.equal(existsSync(join(reportDir, 'runs/main-01.html')), false, 'a start with nothing changed walks no run');
    // The fingerprint recorded by pages made with other templates (or schema, or page format).
    await writeFile(join(reportDir, '.cibq-report'), `${'0'.repeat(64)}\n`);
    await withReporter({}, async (r, logs) => {
      await r.startPages();
      assert.ok(said(logs, 'report regenerated'));
    });
    assert.equal(existsSync(join(reportDir, 'runs/main-01.html')), true);
  });

  test('another cibq version or other page settings regenerate every page', async () => {
    await age();
    await withReporter({ version: '0.2.0' }, async (r, logs) => {
      await r.startPages();
      assert.ok(said(logs, 'report regenerated'));
    });
    assert.ok((await touched()).includes('runs/main-00.html'), 'pages show the version');
    assert.match(await readFile(join(reportDir, 'runs/main-00.html'), 'utf8'), /0\.2\.0/);
    await withReporter({ version: '0.2.0', pageSettings: { jobCobs: true } }, async (r, logs) => {
      await r.startPages();
      assert.ok(said(logs, 'report regenerated'));
    });
    await withReporter({ version: '0.2.0', pageSettings: { jobCobs: true } }, async (r, logs) => {
      await r.startPages();
      assert.ok(said(logs, 'report up to date'));
    });
  });

  test('a report dir that is gone, or lost a repository page, is regenerated', async () => {
    const deps = { version: '0.2.0', pageSettings: { jobCobs: true } };
    await rm(reportDir, { recursive: true, force: true });
    await withReporter(deps, async (r, logs) => {
      await r.startPages();
      assert.ok(said(logs, 'report regenerated'));
    });
    assert.ok((await files()).includes('runs/main-00.html'));
    await unlink(join(reportDir, `repos/${B}/index.html`));
    await withReporter(deps, async (r, logs) => {
      await r.startPages();
      assert.ok(said(logs, 'report regenerated'));
    });
    assert.equal(existsSync(join(reportDir, `repos/${B}/index.html`)), true);
  });

  test('pages made from another database (one deleted and created anew) are regenerated', async () => {
    const deps = { version: '0.2.0', pageSettings: { jobCobs: true } };
    const other = openDb(join(dir, 'other.sqlite'));
    const logs: string[] = [];
    const reporter = new Reporter({
      db: other, redis, keys, log: pino({ level: 'info' }, { write: (s: string) => void logs.push(s) }), reportDir, version: '0.2.0',
      liveStatus: async () => ({ queueLength: 0, queues: [], workers: [] }), indexIntervalMs: 0, pageSettings: deps.pageSettings,
    });
    try {
      await reporter.startPages();
    } finally {
      await reporter.close();
      other.close();
    }
    assert.ok(said(logs, 'report regenerated'));
    assert.equal(existsSync(join(reportDir, 'runs/main-00.html')), false, 'no page shows a run the database does not have');
    await withReporter(deps, async (r, l) => {
      await r.startPages();
      assert.ok(said(l, 'report regenerated'));
    });
    assert.equal(existsSync(join(reportDir, 'runs/main-00.html')), true);
  });

  test('runs written to SQLite whose pages a crash left unwritten get them at the next start, and only their pages', async () => {
    const deps = { version: '0.2.0', pageSettings: { jobCobs: true } };
    await age();
    // Recorded by a reporter killed before its page write: in SQLite, not on the pages.
    finish('b-late', 50, { repo: RID_B, repo_name: 'other' });
    await withReporter(deps, async (r, logs) => {
      await r.startPages();
      assert.ok(said(logs, 'report up to date'));
    });
    // (the badge says success before and after: unchanged, not rewritten)
    assert.deepEqual(await touched(), [
      'index.html',
      `repos/${B}/branches/main/index.html`,
      `repos/${B}/branches/main/page-1.html`,
      `repos/${B}/index.html`,
      `repos/${B}/page-1.html`,
      `repos/${B}/runs.json`,
      'runs/b-late.html',
      'status.json',
    ]);
    assert.match(await readFile(join(reportDir, `repos/${B}/index.html`), 'utf8'), /b-late/);
    // Written once: the next start has nothing left to write.
    await age();
    await withReporter(deps, async (r) => r.startPages());
    assert.ok((await touched()).every((f) => f === 'index.html' || f === 'status.json'));
  });

  test('runs deleted by a lower keep_runs lose their pages at start, without a full regeneration', async () => {
    const deps = { version: '0.2.0', pageSettings: { jobCobs: true }, keepRuns: 3 };
    await withReporter(deps, async (r, logs) => {
      await r.startPages();
      assert.ok(said(logs, 'report up to date'));
      assert.ok(!said(logs, 'report regenerated'));
    });
    assert.equal(existsSync(join(reportDir, 'runs/b-0.html')), false);
    assert.equal(existsSync(join(reportDir, 'runs/b-late.html')), true);
    const json = JSON.parse(await readFile(join(reportDir, `repos/${B}/runs.json`), 'utf8')) as { runs_total: number };
    assert.equal(json.runs_total, 3);
  });

  test('a run recorded while running rewrites only the pages it affects, with the run on them', async () => {
    const deps = { version: '0.2.0', pageSettings: { jobCobs: true } };
    await withReporter(deps, async (r) => {
      await r.startPages();
      await age();
      r.start();
      const s = subject({ id: 'a-new', queued_at: at(100), ref: 'refs/heads/dev' });
      await publishRunUpdate(pub, keys.runUpdates, update(s, 'queued', s.queued_at));
      await r.waitForApplied(1);
      const deadline = Date.now() + 20_000;
      while (!existsSync(join(reportDir, 'runs/a-new.html'))) {
        assert.ok(Date.now() < deadline, 'the run page was written');
        await new Promise((res) => setTimeout(res, 20));
      }
      await r.close();
    });
    assert.deepEqual(await touched(), [
      `badges/${A}/dev.svg`,
      'index.html',
      `repos/${A}/branches/dev/index.html`,
      `repos/${A}/branches/dev/page-1.html`,
      `repos/${A}/index.html`,
      `repos/${A}/page-2.html`,
      `repos/${A}/runs.json`,
      'runs/a-new.html',
      'status.json',
    ]);
    const index = await readFile(join(reportDir, `repos/${A}/branches/dev/index.html`), 'utf8');
    assert.match(index, /a-new/);
    assert.match(await readFile(join(reportDir, `badges/${A}/dev.svg`), 'utf8'), />queued</);
  });
});
