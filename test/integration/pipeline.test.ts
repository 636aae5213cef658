/**
 * From a node event to a recorded, published run: the producer, a worker and the reporter against
 * a real redis-server, storage laid out as a node lays it out, and a fake node on a Unix socket.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SEED_PATCH, SEED_PUSH, shapeOf } from '../fixtures/seed-messages.ts';
import { refsFetched, seedRepo, startPipeline, waitFor, type Pipeline } from '../helpers/pipeline.ts';

const CONFIG = ({ recordFile, adapters }: { recordFile: string; adapters: string }) => `
db: cibq.db
report_dir: reports
default_adapter: rec
adapters:
  rec:
    command: ${adapters}/recorder.mjs
    env: { RECORD_FILE: ${recordFile}, ADAPTER_NAME: rec }
filters:
  - !Or [ !BranchCreated, !BranchUpdated, !BranchDeleted, !TagCreated, !TagUpdated, !PatchCreated, !PatchUpdated ]
max_run_time: 30s
`;

describe('pipeline: node event → adapter → SQLite and reports', () => {
  let p: Pipeline;
  let rid: string;
  let c1: string;
  const ns = (nid: string, rest: string) => `refs/namespaces/${nid}/${rest}`;
  const did = (nid: string) => `did:key:${nid}`;

  before(async () => {
    p = await startPipeline({ config: CONFIG });
    ({ rid, c1 } = await seedRepo(p));
    await p.settle(); // the first scan records the baseline: existing refs start nothing
  });
  after(async () => p.close());

  function messagesFor(ref: string) {
    return p.recorded().filter((r) => (r.message.branch ?? '') === ref);
  }

  test('a branch push reaches the adapter with exactly the seed-shaped push message', async () => {
    const c2 = await p.storage.commit(rid, { files: { 'README.md': 'two\n' }, parent: c1, message: 'second' });
    const c3 = await p.storage.commit(rid, { files: { 'README.md': 'three\n' }, parent: c2, message: 'third' });
    await p.storage.pushBranch(rid, p.alice.nid, 'main', c3);
    const sig = await p.storage.signRefs(rid, p.alice.nid);
    // relayed by another node: the author is the namespace, not `remote`
    p.node.emit(refsFetched(p.bob.nid, rid, [
      { updated: { name: ns(p.alice.nid, 'refs/heads/main'), old: c1, new: c3 } },
      { updated: { name: ns(p.alice.nid, 'refs/rad/sigrefs'), old: '0'.repeat(39) + '1', new: sig } },
    ]));
    const [rec] = await waitFor('push message', () => messagesFor(ns(p.alice.nid, 'refs/heads/main')).length > 0 && messagesFor(ns(p.alice.nid, 'refs/heads/main')));
    const expected = {
      request: 'trigger',
      version: 1,
      event_type: 'push',
      repository: { id: rid, name: 'acme', description: "Acme's repository", private: false, default_branch: 'main', delegates: [did(p.alice.nid)] },
      pusher: { id: did(p.alice.nid), alias: null },
      before: c1,
      after: c3,
      branch: ns(p.alice.nid, 'refs/heads/main'),
      commits: [c3, c2],
    };
    assert.deepEqual(rec?.message, expected);
    assert.deepEqual(shapeOf(rec?.message), shapeOf(SEED_PUSH));
    const [run] = await p.waitForRuns(1, (r) => r.ref === ns(p.alice.nid, 'refs/heads/main') && r.state === 'finished');
    assert.equal(run?.result, 'success');
    assert.equal(run?.commit, c3);
    assert.equal(run?.adapter, 'rec');
    assert.equal(run?.adapter_run_id, `rec-${run?.id}`);
    assert.equal(run?.info_url, `https://ci.example.com/${run?.id}`);
    assert.equal(run?.event_type, 'push');
    assert.equal(run?.attempts, 1);
    assert.ok(run?.started_at && run.finished_at && run.queued_at <= run.started_at && run.started_at <= run.finished_at);
  });

  test('a new branch sends before = after = its tip and commits = [tip]', async () => {
    const f = await p.storage.commit(rid, { files: { 'f.txt': 'feature\n' }, parent: c1, message: 'feature' });
    await p.storage.pushBranch(rid, p.bob.nid, 'feature/x', f);
    await p.node.emitSplit(refsFetched(p.bob.nid, rid, [{ created: { name: ns(p.bob.nid, 'refs/heads/feature/x'), oid: f } }]));
    const [rec] = await waitFor('new branch', () => messagesFor(ns(p.bob.nid, 'refs/heads/feature/x')).length > 0 && messagesFor(ns(p.bob.nid, 'refs/heads/feature/x')));
    assert.equal(rec?.message.before, f);
    assert.equal(rec?.message.after, f);
    assert.deepEqual(rec?.message.commits, [f]);
    assert.deepEqual(rec?.message.pusher, { id: did(p.bob.nid), alias: null });
  });

  test('a tag goes out as a push with the tag ref in branch and the tagged commit in after', async () => {
    const tagTarget = await p.storage.tag(rid, p.alice.nid, 'v1.0', c1, { annotated: true, message: 'release' });
    p.node.emit(refsFetched(p.alice.nid, rid, [{ created: { name: ns(p.alice.nid, 'refs/tags/v1.0'), oid: tagTarget } }]));
    const [rec] = await waitFor('tag', () => messagesFor(ns(p.alice.nid, 'refs/tags/v1.0')).length > 0 && messagesFor(ns(p.alice.nid, 'refs/tags/v1.0')));
    assert.equal(rec?.message.event_type, 'push');
    assert.equal(rec?.message.after, c1);
    assert.deepEqual(rec?.message.commits, [c1]);
  });

  test('a new patch and a new revision reach the adapter with seed-shaped patch messages; a comment starts nothing', async () => {
    const h1 = await p.storage.commit(rid, { files: { 'p.txt': 'patch v1\n' }, parent: c1, message: 'patch work' });
    const patch = await p.storage.createPatch(rid, p.bob.nid, { title: 'Add <b>feature</b>', description: 'Adds a feature.', base: c1, head: h1 });
    await p.storage.writeCache(rid, patch);
    const cobRef = ns(p.bob.nid, `refs/cobs/xyz.radicle.patch/${patch}`);
    p.node.emit(refsFetched(p.bob.nid, rid, [
      { created: { name: cobRef, oid: patch } },
      { created: { name: ns(p.bob.nid, `refs/heads/patches/${patch}`), oid: h1 } },
    ]));
    const patchMessages = () => p.recorded().filter((r) => r.message.event_type === 'patch');
    const [created] = await waitFor('patch created', () => patchMessages().length >= 1 && patchMessages());
    const revTime = (created?.message.patch as { revisions: { timestamp: number }[] }).revisions[0]?.timestamp;
    assert.deepEqual(created?.message, {
      request: 'trigger',
      version: 1,
      event_type: 'patch',
      repository: { id: rid, name: 'acme', description: "Acme's repository", private: false, default_branch: 'main', delegates: [did(p.alice.nid)] },
      action: 'Created',
      patch: {
        id: patch,
        author: { id: did(p.bob.nid), alias: null },
        title: 'Add <b>feature</b>',
        state: { status: 'open', conflicts: [] },
        before: c1,
        after: h1,
        commits: [h1],
        target: c1,
        labels: [],
        assignees: [],
        revisions: [{ id: patch, author: { id: did(p.bob.nid), alias: null }, description: 'Adds a feature.', base: c1, oid: h1, timestamp: revTime }],
      },
    });
    assert.equal(typeof revTime, 'number');
    assert.deepEqual(shapeOf(created?.message), shapeOf(SEED_PATCH));

    // a second revision: action Updated, both revisions listed, the new head built
    const h2 = await p.storage.commit(rid, { files: { 'p.txt': 'patch v2\n' }, parent: h1, message: 'patch work 2' });
    const oldTip = patch;
    const rev2 = await p.storage.addRevision(rid, p.bob.nid, patch, { description: 'Second try.', base: c1, head: h2 });
    await p.storage.writeCache(rid, patch);
    const tip2 = rev2; // the revision change is the new COB tip
    p.node.emit(refsFetched(p.bob.nid, rid, [{ updated: { name: cobRef, old: oldTip, new: tip2 } }]));
    const msgs = await waitFor('patch updated', () => patchMessages().length >= 2 && patchMessages());
    const updated = msgs[1]?.message as { action: string; patch: { after: string; before: string; commits: string[]; revisions: { id: string; oid: string }[] } };
    assert.equal(updated.action, 'Updated');
    assert.equal(updated.patch.after, h2);
    assert.equal(updated.patch.before, c1);
    assert.deepEqual(updated.patch.commits, [h2, h1]);
    assert.deepEqual(updated.patch.revisions.map((r) => [r.id, r.oid]), [[patch, h1], [rev2, h2]]);

    // a comment (same head) by alice, in her own namespace: no new run
    const before = p.runs().length;
    const ctip = await p.storage.comment(rid, p.alice.nid, patch, 'LGTM');
    await p.storage.writeCache(rid, patch);
    p.node.emit(refsFetched(p.alice.nid, rid, [{ created: { name: ns(p.alice.nid, `refs/cobs/xyz.radicle.patch/${patch}`), oid: ctip } }]));
    await p.settle();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(p.runs().length, before);
    assert.equal(patchMessages().length, 2);
  });

  test('a deleted branch is a CI event that starts no run', async () => {
    const before = p.runs().length;
    const recorded = p.recorded().length;
    p.node.emit(refsFetched(p.bob.nid, rid, [{ deleted: { name: ns(p.bob.nid, 'refs/heads/feature/x'), oid: c1 } }]));
    await p.settle();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(p.runs().length, before);
    assert.equal(p.recorded().length, recorded);
  });

  test('the same (adapter, repository, ref, commit) is never enqueued twice, whatever path it arrives by', async () => {
    const d = await p.storage.commit(rid, { files: { 'd.txt': 'dup\n' }, parent: c1, message: 'dup' });
    await p.storage.pushBranch(rid, p.alice.nid, 'dup', d);
    const sig = await p.storage.signRefs(rid, p.alice.nid);
    const ev = refsFetched(p.alice.nid, rid, [{ created: { name: ns(p.alice.nid, 'refs/heads/dup'), oid: d } }]);
    p.node.emit(ev);
    p.node.emit(ev);
    // the same change announced locally (sigrefs diff) and as a canonical ref update
    p.node.emit({ type: 'localRefsAnnounced', rid, refs: { remote: p.alice.nid, at: sig }, timestamp: 1 });
    p.node.emit({ type: 'canonicalRefUpdated', rid, refname: 'refs/heads/dup', target: d });
    await p.settle();
    await p.waitForRuns(1, (r) => r.commit === d && r.state === 'finished');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(p.runs().filter((r) => r.commit === d).length, 1);
    assert.equal(p.recorded().filter((r) => r.message.after === d).length, 1);
  });

  test('garbage and unknown lines from the node are skipped and the producer keeps serving', async () => {
    p.node.emitRaw('this is not json\n');
    p.node.emitRaw('{"type":"refsFetched","rid":42}\n');
    p.node.emitRaw('{"type":"somethingNew","x":1}\n');
    p.node.emit({ type: 'peerConnected', nid: p.bob.nid });
    p.node.emit({ type: 'uploadPack', Done: { rid, remote: p.bob.nid, status: 'exit status: 0' } });
    p.node.emit(refsFetched(p.bob.nid, rid, [{ skipped: { name: ns(p.bob.nid, 'refs/heads/main'), oid: c1 } }]));
    const g = await p.storage.commit(rid, { files: { 'g.txt': 'after garbage\n' }, parent: c1, message: 'g' });
    await p.storage.pushBranch(rid, p.alice.nid, 'after-garbage', g);
    p.node.emit(refsFetched(p.alice.nid, rid, [{ created: { name: ns(p.alice.nid, 'refs/heads/after-garbage'), oid: g } }]));
    const [run] = await p.waitForRuns(1, (r) => r.commit === g && r.state === 'finished');
    assert.equal(run?.result, 'success');
  });

  test('pushes made while the node was down lead to runs after it comes back', async () => {
    await p.node.stop();
    const down = await p.storage.commit(rid, { files: { 'down.txt': 'while down\n' }, parent: c1, message: 'down' });
    await p.storage.pushBranch(rid, p.alice.nid, 'while-down', down);
    await p.storage.signRefs(rid, p.alice.nid);
    await new Promise((r) => setTimeout(r, 300));
    await p.node.start();
    await p.node.waitForSubscribers(1, 20_000);
    const [run] = await p.waitForRuns(1, (r) => r.commit === down && r.state === 'finished');
    assert.equal(run?.ref, ns(p.alice.nid, 'refs/heads/while-down'));
    assert.equal(run?.result, 'success');
  });

  test('the run is in the HTML pages and status.json', async () => {
    await p.reporter?.reporter.writePages();
    const reports = p.config.reportDir as string;
    const status = JSON.parse(readFileSync(path.join(reports, 'status.json'), 'utf8')) as Record<string, unknown>;
    for (const k of ['timestamp', 'ci_broker_version', 'event_queue_length', 'latest_ci_run']) assert.ok(k in status, k);
    assert.equal(status.ci_broker_version, '0.1.0-test');
    const index = readFileSync(path.join(reports, 'index.html'), 'utf8');
    assert.match(index, /acme/);
    const run = p.runs().find((r) => r.event_type === 'patch');
    assert.ok(run);
    const page = readFileSync(path.join(reports, 'runs', `${run.id}.html`), 'utf8');
    assert.match(page, /Add &lt;b&gt;feature&lt;\/b&gt;/);
    assert.doesNotMatch(page, /<b>feature<\/b>/);
  });
});
