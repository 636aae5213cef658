import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DatabaseSync } from 'node:sqlite';
import { pino } from 'pino';
import type { Page } from 'playwright-core';
import { openDb } from '../../src/db/open-db.ts';
import { applyUpdate } from '../../src/db/apply-update.ts';
import { AgreementReader } from '../../src/reporter/commit-agreement.ts';
import { writeReportChanges, writeReports } from '../../src/reporter/pages/report-writer.ts';
import { verifyEnvelope } from '../../src/signing/dsse.ts';
import { launchBrowser, type TestBrowser } from '../helpers/browser.ts';
import { TrustStorage } from '../fixtures/trust-storage.ts';
import { subject, update } from './fixtures.ts';

const LOG_A = 'compiling\n\u001b[32mok\u001b[0m — 3 tests passed ✓\n';
/** A peer-chosen alias: shown as text, never as markup. */
const B_ALIAS = '<img src=x onerror=alert(7)>ci-b';
const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

let t: TrustStorage;
let dir: string;
let reportDir: string;
let db: DatabaseSync;
let reader: AgreementReader;
let browser: TestBrowser;
let commit: string;
let runA: { uuid: string; envelope: string };
let runC: { uuid: string };
const dialogs: string[] = [];

async function open(path: string): Promise<Page> {
  const page = await browser.open(pathToFileURL(join(reportDir, path)).href);
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  return page;
}

before(async () => {
  t = await TrustStorage.create();
  const { a, b, c } = t.nodes;
  commit = await t.newCommit();
  // This node (ci-a) passes; ci-b (untrusted here) fails; ci-c's envelope was tampered with.
  runA = await t.run(a, commit, { result: 'success', logText: LOG_A });
  await t.run(b, commit, { result: 'failure' });
  runC = await t.run(c, commit, {
    result: 'failure',
    tamper: (line) => {
      const env = JSON.parse(line) as { payload: string };
      env.payload = Buffer.from(Buffer.from(env.payload, 'base64').toString().replace('"FAILED"', '"PASSED"')).toString('base64');
      return JSON.stringify(env);
    },
  });
  dir = await mkdtemp(join(tmpdir(), 'cibq-agree-'));
  reportDir = join(dir, 'report');
  db = openDb(join(dir, 'runs.sqlite'));
  const s = subject({ id: runA.uuid, repo: t.rid, repo_name: 'demo', ref: 'refs/heads/main', commit, queued_at: '2027-01-15T08:00:00Z' });
  applyUpdate(db, update(s, 'running', '2027-01-15T08:00:01Z', { attempts: 1, log: 'compiling\n' }));
  applyUpdate(db, update(s, 'finished', '2027-01-15T08:00:09Z', { attempts: 1, result: 'success', log: LOG_A }));
  const running = subject({ id: 'still-running', repo: t.rid, repo_name: 'demo', ref: 'refs/heads/main', commit, queued_at: '2027-01-15T09:00:00Z' });
  applyUpdate(db, update(running, 'running', '2027-01-15T09:00:01Z', { attempts: 1, log: 'half a log' }));
  const names = new Map([[b.did, B_ALIAS], [c.did, 'ci-c'], [a.did, 'not this node']]);
  reader = new AgreementReader({ radHome: t.home, trustNodes: [a.did, c.did], threshold: 1, names, log: pino({ level: 'silent' }) });
  await writeReports(db, reportDir, { version: '0.1.0', queueLength: 0, now: new Date(), agreementFor: (r, o) => reader.forCommit(r, o) });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await reader?.close();
  db?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  if (t !== undefined) {
    await t.close();
    await rm(t.home, { recursive: true, force: true });
  }
});

describe('the files beside a finished run page', () => {
  test('log.txt is the final log whose sha256 the signed attestation records', async () => {
    const text = await readFile(join(reportDir, `runs/${runA.uuid}.log.txt`));
    assert.equal(text.toString('utf8'), LOG_A);
    const envelope = JSON.parse((await readFile(join(reportDir, `runs/${runA.uuid}.intoto.jsonl`), 'utf8')).trim()) as unknown;
    const v = verifyEnvelope(envelope, [t.nodes.a.did]);
    assert.ok(v.ok, 'the published envelope verifies with this node\'s did:key');
    const statement = JSON.parse(v.payload.toString('utf8')) as { predicate: { radicle: { log: { digest: { sha256: string } } } } };
    assert.equal(statement.predicate.radicle.log.digest.sha256, sha256(text));
  });

  test('intoto.jsonl is the envelope this node signed into the job COB', async () => {
    assert.equal(await readFile(join(reportDir, `runs/${runA.uuid}.intoto.jsonl`), 'utf8'), `${runA.envelope}\n`);
  });

  test('an unfinished run has no log.txt or attestation yet', () => {
    assert.ok(existsSync(join(reportDir, 'runs/still-running.html')));
    assert.ok(!existsSync(join(reportDir, 'runs/still-running.log.txt')));
    assert.ok(!existsSync(join(reportDir, 'runs/still-running.intoto.jsonl')));
  });

  test('an incremental write of a deleted run removes its page and both files', async () => {
    const again = join(dir, 'again');
    await writeReports(db, again, { version: '0.1.0', queueLength: 0, now: new Date(), agreementFor: (r, o) => reader.forCommit(r, o) });
    assert.ok(existsSync(join(again, `runs/${runA.uuid}.intoto.jsonl`)));
    const stats = await writeReportChanges(db, again, { version: '0.1.0', queueLength: 0, now: new Date() }, {
      removed: [{ id: runA.uuid, repo: t.rid, branch: 'main', patch: null, repo_seq: 1, branch_seq: 1, patch_seq: null }],
    });
    for (const f of ['html', 'log.txt', 'intoto.jsonl']) assert.ok(stats.removed.includes(`runs/${runA.uuid}.${f}`), f);
  });
});

describe('the agreement on a run page, in a browser', () => {
  test('links log.txt and the attestation, and both open', async () => {
    const page = await open(`runs/${runA.uuid}.html`);
    const log = page.locator('.run-files a.log-txt');
    assert.equal(await log.getAttribute('href'), `${runA.uuid}.log.txt`);
    assert.equal(await page.locator('.run-files a.attestation').getAttribute('href'), `${runA.uuid}.intoto.jsonl`);
    await log.click();
    await page.waitForURL(/\.log\.txt$/);
    assert.equal(await page.locator('pre').textContent(), LOG_A);
    await page.close();
  });

  test('shows the verdict line and badge, and a row per node with trust, result, log check and signature', async () => {
    const { b } = t.nodes;
    const page = await open(`runs/${runA.uuid}.html`);
    const section = page.locator('section.agreement');
    assert.equal(await section.locator('h2 .verdict-badge').textContent(), 'verified (t=1)');
    assert.equal(await section.locator('.verdict-line').textContent(), 'PASSED by 1/2 trusted (this node) · 1 other node disagrees');
    const rows = section.locator('table.nodes tbody tr');
    assert.equal(await rows.count(), 2);
    // Rows are in did:key order (the keys are random): this node's row is marked.
    const flat = (s: string) => s.replace(/\s+/g, ' ').trim();
    const texts = (await rows.allInnerTexts()).map(flat);
    const self = section.locator('table.nodes tbody tr.self');
    assert.match(flat(await self.innerText()), /^this node trusted PASSED .* log ✓ sha256 matches ✓ valid$/);
    assert.equal(await self.locator('.node-name .did').getAttribute('title'), t.nodes.a.did);
    const other = section.locator('table.nodes tbody tr:not(.self)');
    assert.ok(flat(await other.innerText()).startsWith(`${B_ALIAS} other FAILED `));
    assert.match(flat(await other.innerText()), / sha256 not checked here .* ✓ valid$/);
    assert.equal(await other.locator('.node-name .did').getAttribute('title'), b.did);
    assert.equal(await section.locator('img').count(), 0);
    assert.equal(await other.getAttribute('class'), 'node-row');
    // ci-c's tampered claim is counted and never shown as a result.
    const cName = 'ci-c';
    assert.ok(!texts.some((r) => r.includes(cName)));
    const invalid = section.locator('table.invalid-claims tbody tr');
    assert.equal(await invalid.count(), 1);
    const bad = (await invalid.innerText()).replace(/\s+/g, ' ');
    assert.match(bad, new RegExp(`^${cName} ${runC.uuid} ✗ invalid: `));
    assert.doesNotMatch(bad, /PASSED|FAILED/);
    assert.match((await section.locator('h3').last().textContent()) ?? '', /Invalid signatures \(1, not counted as results\)/);
    assert.deepEqual(dialogs, []);
    await page.close();
  });

  test('the log link of this node points at the log.txt beside the page, other nodes at their attested URL', async () => {
    const page = await open(`runs/${runA.uuid}.html`);
    const rows = page.locator('section.agreement table.nodes tbody');
    assert.equal(await rows.locator('tr.self .node-log a').getAttribute('href'), `${runA.uuid}.log.txt`);
    assert.match((await rows.locator('tr:not(.self) .node-log a').getAttribute('href')) ?? '', /^https:\/\/ci\.example\.org\/cibq\/runs\/[0-9a-f-]+\.log\.txt$/);
    await page.close();
  });
});

describe('the agreement on branch and patch rows, in a browser', () => {
  test('the repository page shows the badge and verdict line beside the branch row', async () => {
    const page = await open(`repos/${t.rid.slice(4)}/index.html`);
    const row = page.locator('table.latest tr.latest-row.branch');
    assert.equal(await row.count(), 1);
    assert.match((await row.locator('.status').textContent()) ?? '', /running/);
    assert.equal(await row.locator('.verdict-badge').textContent(), 'verified (t=1)');
    assert.equal(
      await page.locator('table.latest tr.agreement-row .verdict-line').textContent(),
      'native: PASSED by 1/2 trusted (this node) · 1 other node disagrees | 1 invalid signature(s), not counted',
    );
    await page.close();
  });
});
