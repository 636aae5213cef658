/**
 * Trigger messages built from real storage: every message passes the worker's zod check, the
 * pusher is never an invalid DID, and a patch message carries labels, state and the target fallback.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { buildPatchTrigger, buildPushTrigger, isBuildError } from '../../src/producer/build-trigger.ts';
import type { CiEvent } from '../../src/model/ci-event.ts';
import { TriggerMessage } from '../../src/model/trigger-message.ts';
import { Storage, type Identity } from '../../src/storage/storage.ts';
import { FakeStorage, makeNodeKey } from '../fixtures/radicle-storage.ts';

const alice = makeNodeKey(41);
const bob = makeNodeKey(42);
let home: string;
let fake: FakeStorage;
let storage: Storage;
let rid: string;
let identity: Identity;
let c1: string;
let c2: string;

function push(over: Partial<CiEvent>): CiEvent {
  return {
    kind: 'BranchUpdated', repo: rid, author: alice.nid, fromNode: alice.nid, ref: `refs/namespaces/${alice.nid}/refs/heads/dev`,
    name: 'dev', tip: c2, oldTip: c1, patch: null, canonical: false, ...over,
  };
}

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'bt-'));
  fake = await FakeStorage.create(home);
  ({ rid } = await fake.createRepo({ name: 'bt', description: 'd', defaultBranch: 'main', delegates: [alice.nid] }));
  c1 = await fake.commit(rid, { files: { a: '1' } });
  c2 = await fake.commit(rid, { files: { a: '2' }, parent: c1 });
  storage = new Storage({ radHome: home, log: pino({ level: 'silent' }) });
  identity = await storage.identity(rid);
});
after(async () => {
  await storage.close();
  await rm(home, { recursive: true, force: true });
});

describe('push triggers', () => {
  test('an update lists the new commits newest first; a new ref has before = after', async () => {
    const t = await buildPushTrigger(storage, identity, push({}));
    assert.ok(!isBuildError(t));
    TriggerMessage.parse(t);
    assert.deepEqual([t.before, t.after, t.commits], [c1, c2, [c2]]);
    assert.equal(t.pusher.id, alice.did);
    const created = await buildPushTrigger(storage, identity, push({ kind: 'BranchCreated', oldTip: null }));
    assert.ok(!isBuildError(created));
    assert.deepEqual([created.before, created.after, created.commits], [c2, c2, [c2]]);
  });

  test('the pusher falls back to the source node, then the first delegate; never an invalid DID', async () => {
    const canonical = push({ author: null, fromNode: bob.nid, ref: 'refs/heads/main', canonical: true });
    assert.equal((await buildPushTrigger(storage, identity, canonical) as { pusher: { id: string } }).pusher.id, bob.did);
    // a canonicalRefUpdated or a catch-up scan knows no node; a garbage `remote` is no DID either
    for (const fromNode of [null, 'not-a-nid']) {
      const t = await buildPushTrigger(storage, identity, { ...canonical, fromNode });
      assert.ok(!isBuildError(t));
      assert.equal(t.pusher.id, alice.did);
      TriggerMessage.parse(t);
    }
    const none = await buildPushTrigger(storage, { ...identity, delegates: [] }, { ...canonical, fromNode: null });
    assert.ok(isBuildError(none));
    assert.match(none.error, /no valid pusher/);
  });

  test('a commit missing from storage is an error marked as possibly transient', async () => {
    const t = await buildPushTrigger(storage, identity, push({ tip: 'e'.repeat(40) }));
    assert.ok(isBuildError(t));
    assert.equal(t.missing, true);
  });
});

describe('patch triggers', () => {
  test('labels, draft state, and target = the revision base when there is no canonical default branch', async () => {
    const id = await fake.createPatch(rid, alice.nid, { title: 'Draft', description: 'wip', base: c1, head: c2, labels: ['ci', 'bug'], draft: true });
    const info = await storage.patch(rid, id);
    assert.ok(info);
    const e: CiEvent = { ...push({}), kind: 'PatchCreated', ref: `refs/namespaces/${alice.nid}/refs/cobs/xyz.radicle.patch/${id}`, name: id, tip: c2, oldTip: null, patch: id };
    const t = await buildPatchTrigger(storage, identity, e, info);
    assert.ok(!isBuildError(t));
    TriggerMessage.parse(t);
    assert.equal(t.action, 'Created');
    assert.deepEqual(t.patch.labels, ['bug', 'ci']);
    assert.deepEqual(t.patch.state, { status: 'draft' });
    assert.equal(t.patch.target, c1); // no refs/heads/main: falls back to the base
    assert.deepEqual(t.patch.commits, [c2]);
    await fake.setCanonicalHead(rid, 'main', c2);
    const withHead = await buildPatchTrigger(storage, identity, e, info);
    assert.ok(!isBuildError(withHead));
    assert.equal(withHead.patch.target, c2);
    // assignees that are not DIDs are dropped rather than sent to be rejected by the worker
    const odd = await buildPatchTrigger(storage, identity, e, { ...info, assignees: [bob.nid, 'junk'] });
    assert.ok(!isBuildError(odd));
    assert.deepEqual(odd.patch.assignees, [bob.did]);
  });
});
