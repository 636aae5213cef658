/**
 * A failed run's page starts with why it failed: the end of its log comes before the run's facts,
 * in a real browser, with colours and without markup; a run that passed does not repeat its log.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DatabaseSync } from 'node:sqlite';
import { openDb } from '../../../src/db/open-db.ts';
import { applyUpdate } from '../../../src/db/apply-update.ts';
import { LOG_TAIL_LINES } from '../../../src/reporter/pages/page-views.ts';
import { writeReports } from '../../../src/reporter/pages/report-writer.ts';
import { launchBrowser, type TestBrowser } from '../../helpers/browser.ts';
import { subject, update } from '../fixtures.ts';

let dir: string;
let db: DatabaseSync;
let browser: TestBrowser;
const lines = Array.from({ length: 100 }, (_, i) => `step ${i + 1}`);
const LONG_LOG = `${lines.slice(0, -1).join('\n')}\n\x1b[31merror: <b>expected 4, got 5</b>\x1b[0m\n`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cibq-tail-'));
  db = openDb(join(dir, 'runs.sqlite'));
  const failed = subject({ id: 'failed-1', ref: 'refs/heads/main', queued_at: '2024-05-01T08:00:00Z' });
  applyUpdate(db, update(failed, 'finished', '2024-05-01T08:01:00Z', { result: 'failure', log: LONG_LOG }));
  const short = subject({ id: 'timeout-1', ref: 'refs/heads/main', queued_at: '2024-05-01T09:00:00Z' });
  applyUpdate(db, update(short, 'finished', '2024-05-01T09:01:00Z', { result: 'timeout', log: 'waiting for the database\n' }));
  const passed = subject({ id: 'passed-1', ref: 'refs/heads/main', queued_at: '2024-05-01T10:00:00Z' });
  applyUpdate(db, update(passed, 'finished', '2024-05-01T10:01:00Z', { result: 'success', log: LONG_LOG }));
  await writeReports(db, join(dir, 'report'), { version: '0.1.0', queueLength: 0, now: new Date('2024-05-02T00:00:00Z'), queues: [], workers: [] });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  db?.close();
  await rm(dir, { recursive: true, force: true });
});

const page = (id: string) => browser.open(pathToFileURL(join(dir, 'report', 'runs', `${id}.html`)).href);

test("a failed run's page shows the last lines of its log above the run's facts", async () => {
  const p = await page('failed-1');
  const tail = p.locator('section.log-end pre.log-tail');
  const expected = `${[...lines.slice(-LOG_TAIL_LINES, -1), 'error: <b>expected 4, got 5</b>'].join('\n')}\n`;
  assert.equal(await tail.textContent(), expected);
  assert.equal(await p.locator('section.log-end h2').textContent(), `The last ${LOG_TAIL_LINES} lines of the log`);
  assert.equal(await tail.locator('b').count(), 0);
  assert.equal(await tail.locator('span.ansi-fg-1').textContent(), 'error: <b>expected 4, got 5</b>');
  const tailTop = (await tail.boundingBox())?.y ?? Infinity;
  const factsTop = (await p.getByRole('heading', { name: 'Trigger' }).boundingBox())?.y ?? -Infinity;
  assert.ok(tailTop < factsTop, 'the end of the log comes before the trigger and the run facts');
  // eslint-disable-next-line no-control-regex -- the colour codes the page turns into classes
  assert.equal(await p.locator('pre.log').textContent(), LONG_LOG.replace(/\x1b\[[0-9;]*m/g, ''), 'the whole log is still below');
  await p.locator('section.log-end a[href="#log"]').click();
  assert.match(p.url(), /#log$/);
  await p.close();
});

test('a short log is shown whole at the top of a timed-out run; a passed run shows its log only once', async () => {
  const t = await page('timeout-1');
  assert.equal(await t.locator('section.log-end h2').textContent(), 'The log');
  assert.equal(await t.locator('pre.log-tail').textContent(), 'waiting for the database\n');
  await t.close();
  const s = await page('passed-1');
  assert.equal(await s.locator('section.log-end').count(), 0);
  assert.equal(await s.locator('pre.log').count(), 1);
  await s.close();
});
