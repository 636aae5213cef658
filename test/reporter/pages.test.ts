import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DatabaseSync } from 'node:sqlite';
import type { Page } from 'playwright-core';
import { openDb } from '../../src/reporter/store/open-db.ts';
import { applyUpdate } from '../../src/reporter/apply-update.ts';
import { writeReports } from '../../src/reporter/pages.ts';
import { launchBrowser, type TestBrowser } from '../helpers/browser.ts';
import { RID_A, RID_B, RID_PRIVATE, subject, update } from './fixtures.ts';

const XSS_TITLE = '<img src=x onerror=alert(1)>';
const XSS_BRANCH = '<script>alert(2)</script>';
const NOW = new Date('2024-05-02T12:00:00Z');
const A_FILE = `${RID_A.slice(4)}.html`;

let dir: string;
let reportDir: string;
let db: DatabaseSync;
let browser: TestBrowser;
const dialogs: string[] = [];

function url(path: string): string {
  return pathToFileURL(join(reportDir, path)).href;
}

async function open(path: string, viewport?: { width: number; height: number }): Promise<Page> {
  const page = await browser.open(url(path), viewport);
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  return page;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cibq-pg-'));
  reportDir = join(dir, 'report');
  db = openDb(join(dir, 'runs.sqlite'));
  const push = subject({ id: 'push-1', ref: 'refs/heads/main', queued_at: '2024-05-01T08:00:00Z' });
  applyUpdate(db, update(push, 'running', '2024-05-01T08:00:02Z', { attempts: 1 }));
  applyUpdate(db, update(push, 'finished', '2024-05-01T08:01:32Z', { result: 'success', exit_code: 0, info_url: 'javascript:alert(3)' }));

  const evilBranch = subject({ id: 'push-2', ref: `refs/heads/${XSS_BRANCH}`, queued_at: '2024-05-01T09:00:00Z' });
  applyUpdate(db, update(evilBranch, 'finished', '2024-05-01T09:05:00Z', { result: 'error', reason: 'adapter crashed' }));

  const patch = subject({
    id: 'patch-1',
    event_type: 'patch',
    ref: `refs/heads/patches/${'a'.repeat(40)}`,
    patch: 'a'.repeat(40),
    title: XSS_TITLE,
    queued_at: '2024-05-01T10:00:00Z',
  });
  applyUpdate(db, update(patch, 'triggered', '2024-05-01T10:00:01Z', { attempts: 1, worker: 'worker-a' }));
  applyUpdate(db, update(patch, 'running', '2024-05-01T10:00:02Z', { attempts: 1, adapter_run_id: 'native-42', info_url: 'https://ci.example.org/runs/42' }));
  applyUpdate(db, update(patch, 'finished', '2024-05-01T10:03:02Z', {
    attempts: 1,
    result: 'failure',
    reason: 'cargo test failed',
    exit_code: 101,
    log: `running 3 tests\n${XSS_BRANCH}\ntest result: FAILED\n`,
  }));

  const unsafeId = subject({ id: '../../escape', queued_at: '2024-05-01T07:00:00Z' });
  applyUpdate(db, update(unsafeId, 'queued', unsafeId.queued_at));

  const other = subject({ id: 'b-1', repo: RID_B, repo_name: 'radicle-ci', queued_at: '2024-05-01T11:00:00Z' });
  applyUpdate(db, update(other, 'queued', other.queued_at));

  const secret = subject({ id: 'secret-1', repo: RID_PRIVATE, repo_name: 'topsecret', private: true, queued_at: '2024-05-02T00:00:00Z' });
  applyUpdate(db, update(secret, 'running', '2024-05-02T00:00:01Z', { log: 'private build log' }));

  await writeReports(db, reportDir, { version: '0.1.0', queueLength: 3, now: NOW });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  db?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('report pages in a browser', () => {
  test('index lists each repository with its latest run and status, the queue length and version', async () => {
    const page = await open('index.html');
    assert.equal(await page.title(), 'CI for Radicle node');
    const rows = await page.locator('table.repolist tbody tr').allTextContents();
    assert.equal(rows.length, 2);
    assert.match(rows[0]!, /heartwood[\s\S]*patch-1[\s\S]*failure/);
    assert.match(rows[1]!, /radicle-ci[\s\S]*b-1[\s\S]*queued/);
    assert.equal(await page.locator('.queue-length').textContent(), '3');
    assert.match((await page.locator('.version').textContent()) ?? '', /0\.1\.0/);
    assert.match((await page.locator('.broker-status').textContent()) ?? '', /2024-05-02 12:00:00Z/);
    assert.equal(await page.locator('table.repolist .status.failure').count(), 1);
    assert.equal(await page.evaluate('document.scripts.length'), 0);
    await page.getByRole('link', { name: 'heartwood' }).click();
    await page.waitForURL(/repos\//);
    assert.equal(page.url(), url(`repos/${A_FILE}`));
    await page.close();
  });

  test('the repository page lists its runs newest first with what, commit, adapter, status and duration', async () => {
    const page = await open(`repos/${A_FILE}`);
    const ids = await page.locator('table.run-list tbody tr td:first-child').allTextContents();
    assert.deepEqual(ids, ['patch-1', 'push-2', 'push-1', '../../escape']);
    const first = page.locator('table.run-list tbody tr').first();
    assert.equal(await first.locator('.status').textContent(), 'failure');
    assert.equal(await first.locator('.status').getAttribute('class'), 'status failure');
    assert.equal(await first.locator('.commit').textContent(), 'ccccccc');
    assert.equal(await first.locator('.adapter').textContent(), 'native');
    assert.equal(await first.locator('.duration').textContent(), '3m 00s');
    const push = page.locator('table.run-list tbody tr').nth(2);
    assert.equal(await push.locator('.whence').textContent(), 'branch main');
    assert.equal(await push.locator('.duration').textContent(), '1m 30s');
    // A run id that is not safe in a file name is shown, but gets no page and no link.
    assert.equal(await page.locator('table.run-list tbody tr').nth(3).locator('a').count(), 0);
    await page.getByRole('link', { name: 'patch-1' }).click();
    await page.waitForURL(/runs\//);
    assert.equal(page.url(), url('runs/patch-1.html'));
    await page.close();
  });

  test('the run page shows result, reason, exit code, timeline, log and the info link', async () => {
    const page = await open('runs/patch-1.html');
    assert.equal(await page.locator('.reason').textContent(), 'cargo test failed');
    assert.equal(await page.locator('.exit-code').textContent(), '101');
    assert.equal(await page.locator('.adapter-run-id').textContent(), 'native-42');
    assert.equal(await page.locator('.worker').textContent(), 'worker-a');
    assert.equal(await page.locator('.attempts').textContent(), '1');
    assert.equal(await page.locator('h1 .status').textContent(), 'failure');
    const info = page.locator('.info a');
    assert.equal(await info.getAttribute('href'), 'https://ci.example.org/runs/42');
    const steps = await page.locator('ol.timeline li').allTextContents();
    assert.deepEqual(
      steps.map((s) => s.replace(/\s+/g, ' ').trim()),
      [
        'queued 2024-05-01 10:00:00Z',
        'triggered 2024-05-01 10:00:01Z',
        'running 2024-05-01 10:00:02Z',
        'finished 2024-05-01 10:03:02Z',
      ],
    );
    assert.equal(await page.locator('pre.log').textContent(), `running 3 tests\n${XSS_BRANCH}\ntest result: FAILED\n`);
    await page.close();
  });

  test('HTML in patch titles, branch names and logs shows as literal text and creates no elements', async () => {
    for (const path of ['index.html', `repos/${A_FILE}`, 'runs/patch-1.html', 'runs/push-2.html']) {
      const page = await open(path);
      assert.equal(await page.locator('img').count(), 0, `${path}: no <img>`);
      assert.equal(await page.locator('script').count(), 0, `${path}: no <script>`);
      await page.close();
    }
    const repo = await open(`repos/${A_FILE}`);
    const whence = await repo.locator('table.run-list .whence').allTextContents();
    assert.equal(whence[0], `patch aaaaaaa: ${XSS_TITLE}`);
    assert.equal(whence[1], `branch ${XSS_BRANCH}`);
    await repo.close();
    const run = await open('runs/patch-1.html');
    assert.equal(await run.locator('.title').textContent(), XSS_TITLE);
    await run.close();
    const branchRun = await open('runs/push-2.html');
    assert.equal(await branchRun.locator('.ref').textContent(), `refs/heads/${XSS_BRANCH}`);
    await branchRun.close();
    assert.deepEqual(dialogs, [], 'no script ran');
  });

  test('a javascript: info URL is shown as text, never as a link', async () => {
    const page = await open('runs/push-1.html');
    assert.equal(await page.locator('.info a').count(), 0);
    assert.equal(await page.locator('.info').textContent(), 'javascript:alert(3)');
    assert.equal(await page.locator('a[href^="javascript:" i]').count(), 0);
    await page.close();
    const index = await open(`repos/${A_FILE}`);
    assert.equal(await index.locator('a[href^="javascript:" i]').count(), 0);
    await index.close();
  });

  test('on a phone the tables stack into labelled cards and nothing scrolls sideways', async () => {
    for (const path of ['index.html', `repos/${A_FILE}`, 'runs/patch-1.html']) {
      const page = await open(path, { width: 375, height: 740 });
      // The tests are typechecked without the DOM library, so the in-page code is a string.
      const layout = (await page.evaluate(`(() => {
        const td = document.querySelector('td');
        return {
          display: td === null ? null : getComputedStyle(td).display,
          label: td === null ? null : getComputedStyle(td, '::before').content,
          scrollWidth: document.documentElement.scrollWidth,
          viewport: window.innerWidth,
        };
      })()`)) as { display: string | null; label: string | null; scrollWidth: number; viewport: number };
      if (path !== 'runs/patch-1.html') {
        assert.equal(layout.display, 'block', path);
        assert.equal(layout.label, path === 'index.html' ? '"Repository"' : '"Run"', path);
      }
      assert.ok(layout.scrollWidth <= layout.viewport, `${path} is ${layout.scrollWidth}px wide on a ${layout.viewport}px screen`);
      await page.close();
    }
  });
});

describe('private repositories', () => {
  test('their runs appear in no page and not in status.json', async () => {
    const index = await open('index.html');
    assert.doesNotMatch((await index.locator('body').textContent()) ?? '', /topsecret|secret-1/);
    await index.close();
    assert.equal(existsSync(join(reportDir, 'repos', `${RID_PRIVATE.slice(4)}.html`)), false);
    assert.equal(existsSync(join(reportDir, 'runs', 'secret-1.html')), false);
    const status = await readFile(join(reportDir, 'status.json'), 'utf8');
    assert.doesNotMatch(status, /topsecret|secret-1|private build log/);
    for (const name of await readdir(join(reportDir, 'runs'))) {
      assert.doesNotMatch(await readFile(join(reportDir, 'runs', name), 'utf8'), /topsecret|private build log/);
    }
  });

  test('with reportPrivate they are published, and removed again when it is turned off', async () => {
    await writeReports(db, reportDir, { version: '0.1.0', queueLength: 0, now: NOW, reportPrivate: true });
    const page = await open('index.html');
    assert.match((await page.locator('table.repolist').textContent()) ?? '', /topsecret[\s\S]*running/);
    await page.close();
    assert.equal(existsSync(join(reportDir, 'runs', 'secret-1.html')), true);
    await writeReports(db, reportDir, { version: '0.1.0', queueLength: 0, now: NOW });
    assert.equal(existsSync(join(reportDir, 'runs', 'secret-1.html')), false);
    assert.equal(existsSync(join(reportDir, 'repos', `${RID_PRIVATE.slice(4)}.html`)), false);
  });
});

describe('status.json and files', () => {
  test("status.json has cib's keys plus run totals", async () => {
    await writeReports(db, reportDir, { version: '0.1.0', queueLength: 3, now: NOW, gitCommit: 'abc123' });
    const status = JSON.parse(await readFile(join(reportDir, 'status.json'), 'utf8')) as Record<string, unknown>;
    for (const key of [
      'timestamp', 'broker_event_counter', 'ci_broker_version', 'ci_broker_git_commit', 'latest_broker_event',
      'latest_ci_run', 'event_queue_length', 'runs_total', 'runs_by_result',
    ]) {
      assert.ok(key in status, key);
    }
    assert.equal(status['timestamp'], NOW.toISOString());
    assert.equal(status['ci_broker_version'], '0.1.0');
    assert.equal(status['ci_broker_git_commit'], 'abc123');
    assert.equal(status['event_queue_length'], 3);
    assert.equal(status['runs_total'], 5);
    assert.deepEqual(status['runs_by_result'], { success: 1, failure: 1, error: 1, timeout: 0, cancelled: 0 });
    const latest = status['latest_ci_run'] as Record<string, unknown>;
    assert.equal(latest['id'], 'b-1');
    assert.equal(latest['commit'], 'c'.repeat(40));
  });

  test('the report dir holds only the published files: no temporary files, nothing outside', async () => {
    const all = await readdir(reportDir, { recursive: true });
    assert.deepEqual(all.filter((f) => f.endsWith('.tmp')), []);
    assert.deepEqual(
      all.filter((f) => !f.endsWith('.html')).sort(),
      ['repos', 'runs', 'status.json', 'style.css'],
    );
    assert.equal(existsSync(join(dir, 'escape.html')), false);
    assert.equal(existsSync(join(reportDir, 'style.css')), true);
  });
});
