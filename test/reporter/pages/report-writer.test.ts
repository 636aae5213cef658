import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DatabaseSync } from 'node:sqlite';
import type { Page } from 'playwright-core';
import { openDb } from '../../../src/db/open-db.ts';
import { applyUpdate } from '../../../src/db/apply-update.ts';
import { writeReports } from '../../../src/reporter/pages/report-writer.ts';
import { launchBrowser, type TestBrowser } from '../../helpers/browser.ts';
import { RID_A, RID_B, RID_PRIVATE, subject, update } from '../fixtures.ts';

const XSS_TITLE = '<img src=x onerror=alert(1)>';
const XSS_BRANCH = '<script>alert(2)</script>';
const NOW = new Date('2024-05-02T12:00:00Z');
const A_FILE = `${RID_A.slice(4)}/index.html`;
const B_DIR = `repos/${RID_B.slice(4)}`;
const ANSI_LOG = '\x1b[1;32mCompiling\x1b[0m demo\n\x1b[31merror\x1b[0m: <b>bold</b> \x1b[31"><img src=x onerror=alert(5)>m\n';

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

  // radicle-ci: 120 finished runs on main (three pages), then b-1 still queued.
  for (let i = 0; i < 120; i++) {
    const s = subject({
      id: `b-old-${String(i).padStart(3, '0')}`,
      repo: RID_B,
      repo_name: 'radicle-ci',
      queued_at: new Date(Date.parse('2024-04-01T00:00:00Z') + i * 60_000).toISOString(),
    });
    applyUpdate(db, update(s, 'finished', new Date(Date.parse(s.queued_at) + 30_000).toISOString(), { result: 'success' }));
  }
  const other = subject({ id: 'b-1', repo: RID_B, repo_name: 'radicle-ci', queued_at: '2024-05-01T11:00:00Z' });
  applyUpdate(db, update(other, 'queued', other.queued_at));
  const feature = subject({ id: 'b-feat', repo: RID_B, repo_name: 'radicle-ci', ref: 'refs/heads/feature/x', queued_at: '2024-05-01T09:00:00Z' });
  applyUpdate(db, update(feature, 'finished', '2024-05-01T09:01:00Z', { result: 'failure', log: ANSI_LOG }));

  const secret = subject({ id: 'secret-1', repo: RID_PRIVATE, repo_name: 'topsecret', private: true, queued_at: '2024-05-02T00:00:00Z' });
  applyUpdate(db, update(secret, 'running', '2024-05-02T00:00:01Z', { log: 'private build log' }));

  await writeReports(db, reportDir, {
    version: '0.1.0',
    queueLength: 3,
    now: NOW,
    queues: [
      { adapter: 'native', waiting: 2, running: 1 },
      { adapter: 'podman', waiting: 1, running: 0 },
    ],
    workers: [
      {
        name: 'builder-1',
        host: 'ci-host',
        pid: 42,
        adapters: ['native', 'podman'],
        concurrency: 2,
        version: '0.1.0',
        running: [{ run_id: 'patch-1', adapter: 'native', since: '2024-05-02T11:59:00Z' }],
        started_at: '2024-05-02T10:00:00Z',
        seen_at: '2024-05-02T11:59:50Z',
        state: 'running',
      },
    ],
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  db?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('report pages in a browser', () => {
  test('index lists each repository with the latest run per branch and patch, queues, workers and version', async () => {
    const page = await open('index.html');
    assert.equal(await page.title(), 'CI for Radicle node');
    const repos = page.locator('article.repo');
    assert.equal(await repos.count(), 2);
    assert.match((await repos.nth(0).locator('h3').textContent()) ?? '', /heartwood[\s\S]*4 runs/);
    const rows = (await repos.nth(0).locator('tbody tr').allTextContents()).map((r) => r.replace(/\s+/g, ' ').trim());
    assert.equal(rows.length, 3);
    assert.match(rows[0]!, new RegExp(`^branch ${XSS_BRANCH.replace(/[()]/g, '\\$&')} error push-2`));
    assert.match(rows[1]!, /^branch main success push-1 ccccccc/);
    assert.match(rows[2]!, /^patch aaaaaaa: .* failure patch-1/);
    const b = (await repos.nth(1).locator('tbody tr').allTextContents()).map((r) => r.replace(/\s+/g, ' ').trim());
    assert.deepEqual(b.map((r) => r.split(' ').slice(0, 4).join(' ')), ['branch feature/x failure b-feat', 'branch main queued b-1']);
    assert.equal(await page.locator('.queue-length').textContent(), '3');
    assert.equal(await page.locator('.running-count').textContent(), '1');
    assert.deepEqual(await page.locator('table.queues tbody tr').allTextContents(), ['native21', 'podman10']);
    const worker = (await page.locator('table.workers tbody tr').textContent())?.replace(/\s+/g, ' ');
    assert.match(worker ?? '', /builder-1.*ci-host.*native, podman.*1 of 2.*running.*2024-05-02 11:59:50Z/);
    assert.match((await page.locator('.version').textContent()) ?? '', /0\.1\.0/);
    assert.match((await page.locator('.broker-status').textContent()) ?? '', /2024-05-02 12:00:00Z/);
    assert.equal(await page.evaluate('document.scripts.length'), 0);
    await page.getByRole('link', { name: 'heartwood' }).click();
    await page.waitForURL(/repos\//);
    assert.equal(page.url(), url(`repos/${A_FILE}`));
    await page.close();
  });

  test('the repository page lists its runs newest first with what, commit, adapter, status and duration', async () => {
    const page = await open(`repos/${A_FILE}`);
    const ids = await page.locator('table.run-list tbody tr td:first-child').allTextContents();
    assert.equal(await page.locator('nav.pagination').count(), 0, 'four runs fit on one page');
    assert.deepEqual(ids, ['patch-1', 'push-2', 'push-1', '../../escape']);
    const first = page.locator('table.run-list tbody tr').first();
    assert.equal(await first.locator('.status').textContent(), 'failure');
    assert.equal(await first.locator('.status').getAttribute('class'), 'status failure');
    assert.equal(await first.locator('.commit').textContent(), 'ccccccc');
    assert.equal(await first.locator('.adapter').textContent(), 'native');
    assert.equal(await first.locator('.duration').textContent(), '3m 00s');
    const push = page.locator('table.run-list tbody tr').nth(2);
    assert.equal(await push.locator('.whence').textContent(), 'branch main');
    assert.equal(await push.locator('.whence a').getAttribute('href'), 'branches/main/index.html');
    assert.equal(await push.locator('.duration').textContent(), '1m 30s');
    // A run id that is not safe in a file name is shown, but gets no page and no link.
    assert.equal(await page.locator('table.run-list tbody tr').nth(3).locator('td:first-child a').count(), 0);
    await page.locator('table.run-list').getByRole('link', { name: 'patch-1' }).click();
    await page.waitForURL(/runs\//);
    assert.equal(page.url(), url('runs/patch-1.html'));
    await page.close();
  });

  test('a long repository list is paginated in stable pages of 50, newest first, with working page links', async () => {
    // 122 runs: page-1.html holds the 50 oldest, page-2.html the next 50, index.html the newest page (22).
    const page = await open(`${B_DIR}/index.html`);
    assert.equal(await page.locator('.runs-total').textContent(), '122');
    assert.match((await page.locator('h2 .page-of').textContent()) ?? '', /page 3/);
    const first = await page.locator('table.run-list tbody tr td:first-child').allTextContents();
    assert.equal(first.length, 22);
    assert.deepEqual(first.slice(0, 3), ['b-1', 'b-feat', 'b-old-119']);
    assert.equal(await page.locator('nav.pagination .newer').count(), 0);
    assert.equal(await page.locator('nav.pagination .newest').count(), 0);
    await page.locator('nav.pagination .older').click();
    await page.waitForURL(/page-2\.html$/);
    const second = await page.locator('table.run-list tbody tr td:first-child').allTextContents();
    assert.deepEqual([second[0], second.at(-1), second.length], ['b-old-099', 'b-old-050', 50]);
    assert.equal(await page.locator('.runs-total').count(), 0, 'older pages do not change with the total');
    await page.getByRole('link', { name: '1', exact: true }).click();
    await page.waitForURL(/page-1\.html$/);
    const oldest = await page.locator('table.run-list tbody tr td:first-child').allTextContents();
    assert.deepEqual([oldest[0], oldest.at(-1), oldest.length], ['b-old-049', 'b-old-000', 50]);
    assert.equal(await page.locator('nav.pagination .older').count(), 0);
    await page.locator('nav.pagination .newer').click();
    await page.waitForURL(/page-2\.html$/);
    await page.locator('nav.pagination .newest').click();
    await page.waitForURL(/index\.html$/);
    await page.close();
  });

  test('a branch view lists only that branch and shows its badge; a patch view shows the patch title as text', async () => {
    const page = await open(`${B_DIR}/index.html`);
    await page.getByRole('link', { name: 'branch feature/x' }).first().click();
    await page.waitForURL(/branches\/feature%252Fx\/index\.html$/);
    assert.equal(await page.locator('h1').textContent(), 'Branch feature/x');
    assert.deepEqual(await page.locator('table.run-list tbody tr td:first-child').allTextContents(), ['b-feat']);
    const badge = page.locator('img.badge');
    const loaded = await badge.evaluate((img: { complete: boolean; naturalWidth: number }) => img.complete && img.naturalWidth > 0);
    assert.equal(loaded, true, 'the badge loads');
    // The path to embed below the report's address: one directory per `/` of the branch.
    assert.equal(await page.locator('.badge-path').textContent(), `badges/${RID_B.slice(4)}/feature/x.svg`);
    const embedded = await open(`badges/${RID_B.slice(4)}/feature/x.svg`);
    assert.match((await embedded.content()) ?? '', /failure/);
    await embedded.close();
    await page.close();

    const patch = await open(`repos/${RID_A.slice(4)}/patches/${'a'.repeat(40)}/index.html`);
    assert.equal(await patch.locator('h1').textContent(), `Patch ${XSS_TITLE}`);
    assert.equal(await patch.locator('img').count(), 0);
    assert.deepEqual(await patch.locator('table.run-list tbody tr td:first-child').allTextContents(), ['patch-1']);
    await patch.close();
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
        'triggered 2024-05-01 10:00:01Z +1s',
        'running 2024-05-01 10:00:02Z +1s',
        'finished 2024-05-01 10:03:02Z +3m 00s',
      ],
    );
    assert.equal(await page.locator('pre.log').textContent(), `running 3 tests\n${XSS_BRANCH}\ntest result: FAILED\n`);
    assert.equal(await page.locator('.waited').textContent(), '1s');
    assert.equal(await page.locator('dd.patch').textContent(), 'a'.repeat(40));
    await page.close();
  });

  test('ANSI colours in a log are rendered as colours, and markup in it stays text', async () => {
    const page = await open('runs/b-feat.html');
    const log = page.locator('pre.log');
    assert.equal(await log.textContent(), 'Compiling demo\nerror: <b>bold</b> [31"><img src=x onerror=alert(5)>m\n');
    assert.equal(await log.locator('b, img').count(), 0);
    const compiling = log.locator('span', { hasText: 'Compiling' });
    assert.equal(await compiling.getAttribute('class'), 'ansi-fg-2 ansi-bold');
    const colour = await page.evaluate(`getComputedStyle(document.querySelector('pre.log span.ansi-fg-1')).color`);
    assert.equal(colour, 'rgb(207, 34, 46)');
    await page.close();
  });

  test('HTML in patch titles, branch names and logs shows as literal text and creates no elements', async () => {
    for (const path of ['index.html', `repos/${A_FILE}`, 'runs/patch-1.html', 'runs/push-2.html', 'runs/b-feat.html']) {
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
      type Layout = { display: string | null; label: string | null; scrollWidth: number; viewport: number };
      const layout = await page.evaluate<Layout>(`(() => {
        const td = document.querySelector('td');
        return {
          display: td === null ? null : getComputedStyle(td).display,
          label: td === null ? null : getComputedStyle(td, '::before').content,
          scrollWidth: document.documentElement.scrollWidth,
          viewport: window.innerWidth,
        };
      })()`);
      if (path !== 'runs/patch-1.html') {
        assert.equal(layout.display, 'block', path);
        assert.equal(layout.label, path === 'index.html' ? '"Adapter"' : '"Branch"', path);
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
    assert.equal(existsSync(join(reportDir, 'repos', RID_PRIVATE.slice(4))), false);
    assert.equal(existsSync(join(reportDir, 'badges', RID_PRIVATE.slice(4))), false);
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
    assert.match((await page.locator('article.repo').last().textContent()) ?? '', /topsecret[\s\S]*running/);
    await page.close();
    assert.equal(existsSync(join(reportDir, 'runs', 'secret-1.html')), true);
    await writeReports(db, reportDir, { version: '0.1.0', queueLength: 0, now: NOW });
    assert.equal(existsSync(join(reportDir, 'runs', 'secret-1.html')), false);
    assert.equal(existsSync(join(reportDir, 'repos', RID_PRIVATE.slice(4))), false);
    assert.equal(existsSync(join(reportDir, 'badges', RID_PRIVATE.slice(4))), false);
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
    assert.equal(status['runs_total'], 126);
    assert.deepEqual(status['runs_by_result'], { success: 121, failure: 2, error: 1, timeout: 0, cancelled: 0 });
    assert.equal(status['repos_total'], 2);
    const latest = status['latest_ci_run'] as Record<string, unknown>;
    assert.equal(latest['id'], 'b-1');
    assert.equal(latest['commit'], 'c'.repeat(40));
  });

  test('the report dir holds only the published files: no temporary files, nothing outside', async () => {
    const all = await readdir(reportDir, { recursive: true });
    assert.deepEqual(all.filter((f) => f.endsWith('.tmp')), []);
    const R = RID_A.slice(4);
    const B = RID_B.slice(4);
    assert.deepEqual(
      all.filter((f) => !f.endsWith('.html') && !f.startsWith('repos/')).sort(),
      [
        'badges', `badges/${B}`, `badges/${B}/feature`, `badges/${B}/feature/x.svg`, `badges/${B}/main.svg`, `badges/${R}`,
        `badges/${R}/%3Cscript%3Ealert%282%29%3C`, `badges/${R}/%3Cscript%3Ealert%282%29%3C/script%3E.svg`, `badges/${R}/main.svg`,
        // Finished runs with a log have it beside their page as plain text.
        'repos', 'runs', 'runs/b-feat.log.txt', 'runs/patch-1.log.txt', 'status.json', 'style.css',
      ],
    );
    assert.deepEqual(all.filter((f) => f.endsWith('.json') && f.startsWith('repos/')).sort(), [`repos/${B}/runs.json`, `repos/${R}/runs.json`]);
    assert.equal(existsSync(join(dir, 'escape.html')), false);
    assert.equal(existsSync(join(reportDir, 'style.css')), true);
  });
});
