/**
 * Fault suite: peer-controlled names and text — branch and tag names, patch titles and
 * descriptions — full of HTML, quotes, shell metacharacters, `../` and very long strings go through
 * the whole pipeline. Every run is recorded once; in a real browser every report page shows the
 * text as text (no script runs, no markup is injected); no file appears outside report_dir.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { makeNodeKey } from '../fixtures/radicle-storage.ts';
import { launchBrowser, type TestBrowser } from '../helpers/browser.ts';
import { startFaultEnv, waitFor, type FaultEnv } from './fault-env.ts';
import { checkInvariant } from './invariant.ts';

const ROOT = path.join(import.meta.dirname, '..', '..');
const PWNED = 'CIBQ-PWNED';
/** Valid git ref names (no spaces, `..`, `~^:?*[\`) that are hostile anywhere else. */
const BRANCHES = [
  '<script>alert("branch")<',
  'x"onmouseover="alert(1)"x',
  `$(touch${'${IFS}'}${PWNED})`,
  `;touch${'${IFS}'}${PWNED};'&|<>\`${PWNED}\``,
  "it's-a-'quote'",
  '"><svg/onload=alert(1)>',
  'a%2F.%2F%2E%2E%2Fescape/x-.-y',
  Array.from({ length: 5 }, (_, i) => `${i}${'L'.repeat(198)}`).join('/'),
];
const TAG = '<img/src=x/onerror=alert(1)>';
const TITLE = `<script>alert('title')</script> "double" 'single' $(touch ${PWNED}) \`touch ${PWNED}\` ../../../etc/passwd & <b>bold</b>`;
const DESCRIPTION = `<img src=x onerror=alert('desc')> ../../x ${'<i>long</i> '.repeat(10_000)}`;

/** Every file under `dir`, relative, skipping the directories named. */
function files(dir: string, skip: string[]): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name)))
    .filter((f) => !skip.some((s) => f === s || f.startsWith(`${s}/`)))
    .sort();
}

describe('faults: hostile names and text', () => {
  let e: FaultEnv;
  let browser: TestBrowser;

  before(async () => {
    e = await startFaultEnv({ runSeconds: 0.1 });
    e.startStack(1);
    await e.producerReady();
    await e.workersReady(1);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await e?.close();
  });

  test('escaped in every report page, run once each, nothing written outside report_dir', async (t) => {
    const outside = () => files(e.dir, ['h', 'reports']).filter((f) => !/^(cibq\.db(-wal|-shm)?|.*\.log|record\.txt|cibq\.yaml)$/.test(f));
    const before = outside();
    const ns = (rest: string) => `refs/namespaces/${e.alice.nid}/${rest}`;
    for (const [i, name] of BRANCHES.entries()) {
      const commit = await e.storage.commit(e.rid, { files: { 'h.txt': `${i}\n` }, parent: e.c1, message: name });
      await e.storage.pushBranch(e.rid, e.alice.nid, name, commit);
      e.node.emit({ type: 'refsFetched', remote: e.alice.nid, rid: e.rid, updated: [{ created: { name: ns(`refs/heads/${name}`), oid: commit } }] });
      e.pushes.push({ ref: ns(`refs/heads/${name}`), commit });
    }
    // `..` cannot be in a ref git stores; a peer can still announce one: it starts nothing, writes nothing.
    e.node.emit({ type: 'refsFetched', remote: e.alice.nid, rid: e.rid, updated: [{ created: { name: ns('refs/heads/../../../../../tmp/escape'), oid: e.c1 } }] });
    const tagged = await e.storage.commit(e.rid, { files: { 't.txt': 'tag\n' }, parent: e.c1, message: TAG });
    const tagOid = await e.storage.tag(e.rid, e.alice.nid, TAG, tagged, { annotated: true, message: TITLE });
    e.node.emit({ type: 'refsFetched', remote: e.alice.nid, rid: e.rid, updated: [{ created: { name: ns(`refs/tags/${TAG}`), oid: tagOid } }] });
    e.pushes.push({ ref: ns(`refs/tags/${TAG}`), commit: tagged });
    const bob = makeNodeKey(72);
    const head = await e.storage.commit(e.rid, { files: { 'p.txt': 'patch\n' }, parent: e.c1, message: TITLE });
    const patch = await e.storage.createPatch(e.rid, bob.nid, { title: TITLE, description: DESCRIPTION, base: e.c1, head });
    const cob = `refs/namespaces/${bob.nid}/refs/cobs/xyz.radicle.patch/${patch}`;
    e.node.emit({ type: 'refsFetched', remote: bob.nid, rid: e.rid, updated: [{ created: { name: cob, oid: patch } }] });
    e.pushes.push({ ref: cob, commit: head });
    await checkInvariant(t, e, 'hostile branch, tag and patch names');

    // The reporter writes pages shortly after a change: wait until every run has its page.
    const reports = path.join(e.dir, 'reports');
    const runs = e.runs();
    await waitFor('every run page', () => runs.every((r) => existsSync(path.join(reports, 'runs', `${r.id}.html`))), 30_000);
    // Every page but the numbered list pages (page-N.html), which show the same rows as index.html.
    const pages = files(reports, []).filter((f) => f.endsWith('.html') && !/\/page-\d+\.html$/.test(f));
    const dialogs: string[] = [];
    // One tab for every page: a script from a peer would open a dialog (alert) on load.
    const page = await browser.context.newPage();
    let current = '';
    page.on('dialog', (d) => {
      dialogs.push(`${current}: ${d.message()}`);
      void d.dismiss();
    });
    try {
      for (const f of pages) {
        current = f;
        await page.goto(pathToFileURL(path.join(reports, f)).href);
        const injected = await page.locator('script, svg[onload], img[onerror], [onmouseover], b, i').count();
        assert.equal(injected, 0, `${f}: markup from a peer became elements`);
      }
      const patchRun = runs.find((r) => r.patch === patch);
      assert.ok(patchRun);
      await page.goto(pathToFileURL(path.join(reports, 'runs', `${patchRun.id}.html`)).href);
      assert.ok((await page.locator('body').innerText()).includes("<script>alert('title')</script>"), 'the title is shown as text');
    } finally {
      await page.close();
    }
    assert.deepEqual(dialogs, [], 'a script from a peer ran');
    for (const f of files(reports, []).filter((x) => x.endsWith('.json'))) JSON.parse(readFileSync(path.join(reports, f), 'utf8'));
    assert.deepEqual(outside(), before, 'files appeared outside report_dir');
    for (const dir of [e.dir, ROOT, '/tmp', e.radHome]) assert.ok(!readdirSync(dir).some((f) => f.includes(PWNED)), `a shell ran a peer's text in ${dir}`);
    t.diagnostic(`hostile names: ${runs.length} runs (one for a branch name with ../ that only an event named), ${pages.length} report pages checked in Chromium, 0 scripts ran, 0 files outside report_dir`);
  });
});
