/**
 * Patch state evaluated from the COB in git, and the same patch read from cache.db: both paths
 * must give the same PatchInfo for every scenario.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Storage, type PatchInfo } from '../../src/storage/storage.ts';
import { changeSignature, FakeStorage, makeNodeKey } from '../fixtures/radicle-storage.ts';

const alice = makeNodeKey(21); // delegate
const bob = makeNodeKey(22); // contributor
let home: string;
let fake: FakeStorage;
let storage: Storage;
let rid: string;
let base: string;
let head1: string;
let head2: string;

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'pc-'));
  fake = await FakeStorage.create(home);
  ({ rid } = await fake.createRepo({ name: 'patches', delegates: [alice.nid] }));
  base = await fake.commit(rid, { files: { README: 'base\n' } });
  head1 = await fake.commit(rid, { files: { README: 'one\n' }, parent: base });
  head2 = await fake.commit(rid, { files: { README: 'two\n' }, parent: head1 });
  await fake.pushBranch(rid, alice.nid, 'main', base);
  await fake.setCanonicalHead(rid, 'main', base);
  storage = new Storage({ radHome: home, log: pino({ level: 'silent' }) });
});
after(async () => {
  await storage.close();
  await rm(home, { recursive: true, force: true });
});

/** Evaluates from git (no cache row), then from cache.db; asserts both agree and returns the result. */
async function bothWays(patchId: string): Promise<PatchInfo> {
  await fake.deleteCache(rid, patchId);
  const fromGit = await storage.patch(rid, patchId);
  await fake.writeCache(rid, patchId);
  const fromCache = await storage.patch(rid, patchId);
  assert.ok(fromGit !== null);
  assert.deepEqual(fromCache, fromGit);
  return fromGit;
}

test('a new patch: title, author, open state, first revision is latest', async () => {
  const id = await fake.createPatch(rid, bob.nid, { title: 'Add one', description: 'Does one thing.', base, head: head1, time: 1_750_000_000 });
  const p = await bothWays(id);
  const rev = { id, author: bob.nid, description: 'Does one thing.', base, oid: head1, timestamp: 1_750_000_000 };
  assert.deepEqual(p, {
    id,
    title: 'Add one',
    author: bob.nid,
    state: { status: 'open', conflicts: [] },
    labels: [],
    assignees: [],
    revisions: [rev],
    latest: rev,
  });
});

test('a second revision by the author becomes latest; a comment changes nothing we build', async () => {
  const id = await fake.createPatch(rid, bob.nid, { title: 'Evolving', description: 'v1', base, head: head1 });
  const r2 = await fake.addRevision(rid, bob.nid, id, { description: 'v2', base, head: head2 });
  const afterRevision = await bothWays(id);
  assert.deepEqual(afterRevision.revisions.map((r) => r.id), [id, r2]);
  assert.equal(afterRevision.latest.id, r2);
  assert.equal(afterRevision.latest.oid, head2);
  assert.equal(afterRevision.latest.description, 'v2');

  const tip = await fake.comment(rid, alice.nid, id, 'Looks good');
  assert.equal(await storage.resolveRef(rid, `refs/namespaces/${alice.nid}/refs/cobs/xyz.radicle.patch/${id}`), tip);
  const afterComment = await bothWays(id);
  assert.deepEqual(afterComment, afterRevision);
});

test("someone else's revision is listed but is not latest", async () => {
  const id = await fake.createPatch(rid, bob.nid, { title: 'Theirs', description: 'by bob', base, head: head1 });
  const other = await fake.addRevision(rid, alice.nid, id, { description: 'alice tweak', base, head: head2 });
  const p = await bothWays(id);
  assert.deepEqual(p.revisions.map((r) => [r.id, r.author]), [[id, bob.nid], [other, alice.nid]]);
  assert.equal(p.latest.id, id);
  assert.equal(p.latest.oid, head1);
});

test('draft, archived and re-opened states', async () => {
  const id = await fake.createPatch(rid, bob.nid, { title: 'WIP', description: '', base, head: head1, draft: true });
  assert.deepEqual((await bothWays(id)).state, { status: 'draft' });
  await fake.lifecycle(rid, bob.nid, id, 'archived');
  assert.deepEqual((await bothWays(id)).state, { status: 'archived' });
  await fake.lifecycle(rid, alice.nid, id, 'open');
  assert.deepEqual((await bothWays(id)).state, { status: 'open', conflicts: [] });
});

test('labels from the root change and from a later label action (delegate)', async () => {
  const id = await fake.createPatch(rid, alice.nid, { title: 'Labelled', description: 'x', base, head: head1, labels: ['ci', 'bug'] });
  assert.deepEqual((await bothWays(id)).labels, ['bug', 'ci']);
  await fake.label(rid, alice.nid, id, ['needs-review']);
  assert.deepEqual((await bothWays(id)).labels, ['needs-review']);
});

test('a delegate merge makes the patch merged (threshold 1)', async () => {
  const id = await fake.createPatch(rid, bob.nid, { title: 'To merge', description: 'x', base, head: head1 });
  await fake.merge(rid, alice.nid, id, id, head1);
  assert.deepEqual((await bothWays(id)).state, { status: 'merged', revision: id, commit: head1 });
});

test('an unsigned root change is no patch, whatever NID its e-mail names; signed, the same root is one', async () => {
  const action = { base, description: 'x', oid: head1, type: 'revision' };
  const edit = { target: 'delegates', title: 'Unsigned', type: 'edit' };
  const unsigned = rawChange({ nid: alice.nid, patchId: null, parent: null, actions: [action, edit] });
  assert.equal(await storage.patch(rid, unsigned), null);
  const signed = rawChange({ nid: alice.nid, patchId: null, parent: null, actions: [action, edit], signAs: alice.nid });
  assert.equal((await storage.patch(rid, signed))?.author, alice.nid);
});

test("an unsigned change carrying a delegate's e-mail is pruned with its descendants", async () => {
  const id = await fake.createPatch(rid, bob.nid, { title: 'Keep open', description: 'x', base, head: head1 });
  await fake.deleteCache(rid, id);
  const forged = rawChange({ nid: alice.nid, patchId: id, parent: id, action: { state: { status: 'archived' }, type: 'lifecycle' } });
  rawChange({ nid: bob.nid, patchId: id, parent: forged, action: { title: 'child of unsigned', type: 'edit' }, signAs: bob.nid });
  const p = await storage.patch(rid, id);
  assert.deepEqual(p?.state, { status: 'open', conflicts: [] });
  assert.equal(p?.title, 'Keep open');
});

test('a patch that does not exist is null', async () => {
  assert.equal(await storage.patch(rid, '0123456789012345678901234567890123456789'), null);
  await assert.rejects(storage.patch(rid, 'not-an-oid'), /invalid patch id/);
});

/**
 * Writes a raw change on top of `parent` (null: a root) into `nid`'s namespace (the e-mail names `nid`);
 * unsigned unless `signAs` signs it or `gpgsigFrom` copies another change's signature.
 */
function rawChange(opts: {
  nid: string;
  patchId: string | null;
  parent: string | null;
  action?: unknown;
  actions?: unknown[];
  gpgsigFrom?: string;
  signAs?: string;
}): string {
  const gitDir = join(home, 'storage', rid.slice(4));
  const git = (args: string[], input?: string): string =>
    execFileSync('git', ['--git-dir', gitDir, ...args], input === undefined ? {} : { input }).toString().trim();
  const idc = git(['rev-parse', 'refs/rad/id']);
  const man = git(['hash-object', '-w', '--stdin'], '{"typeName":"xyz.radicle.patch","version":1}');
  const actions = opts.actions ?? [opts.action];
  const entries = actions.map((a, i) => `100644 blob ${git(['hash-object', '-w', '--stdin'], JSON.stringify(a))}\t${i}\n`);
  const tree = git(['mktree'], `${entries.join('')}100644 blob ${man}\tmanifest\n`);
  let sig = opts.signAs === undefined ? '' : `gpgsig ${changeSignature(opts.signAs, tree)}\n`;
  if (opts.gpgsigFrom !== undefined) {
    const raw = git(['cat-file', 'commit', opts.gpgsigFrom]);
    const m = /\ngpgsig (-----BEGIN SSH SIGNATURE-----[\s\S]*?-----END SSH SIGNATURE-----)/.exec(raw);
    assert.ok(m?.[1]);
    sig = `gpgsig ${m[1]}\n`;
  }
  const who = `x <x@${opts.nid}> 1750000900 +0000`;
  const parents = opts.parent === null ? '' : `parent ${opts.parent}\n`;
  const body = `tree ${tree}\n${parents}parent ${idc}\nauthor ${who}\ncommitter ${who}\n${sig}\nRaw\n\nRad-Resource: ${idc}\n`;
  const oid = git(['hash-object', '-t', 'commit', '-w', '--stdin'], body);
  git(['update-ref', `refs/namespaces/${opts.nid}/refs/cobs/xyz.radicle.patch/${opts.patchId ?? oid}`, oid]);
  return oid;
}

test('a label change by a non-delegate is rejected (pruned)', async () => {
  const id = await fake.createPatch(rid, bob.nid, { title: 'No labels', description: 'x', base, head: head1 });
  await fake.deleteCache(rid, id);
  const stranger = makeNodeKey();
  rawChange({ nid: stranger.nid, patchId: id, parent: id, action: { labels: ['pwned'], type: 'label' }, signAs: stranger.nid });
  const p = await storage.patch(rid, id);
  assert.deepEqual(p?.labels, []);
  // the same action signed by the delegate is accepted
  rawChange({ nid: alice.nid, patchId: id, parent: id, action: { labels: ['ok'], type: 'label' }, signAs: alice.nid });
  assert.deepEqual((await storage.patch(rid, id))?.labels, ['ok']);
});

test('a change whose signature does not match its tree is pruned with its descendants', async () => {
  const id = await fake.createPatch(rid, bob.nid, { title: 'Forged', description: 'x', base, head: head1 });
  await fake.deleteCache(rid, id);
  const signedByAlice = await fake.comment(rid, alice.nid, id, 'hi');
  // reuse alice's signature on a different tree that would archive the patch
  const forged = rawChange({
    nid: alice.nid,
    patchId: id,
    parent: signedByAlice,
    action: { state: { status: 'archived' }, type: 'lifecycle' },
    gpgsigFrom: signedByAlice,
  });
  rawChange({ nid: bob.nid, patchId: id, parent: forged, action: { title: 'child of forged', type: 'edit' } });
  const p = await storage.patch(rid, id);
  assert.deepEqual(p?.state, { status: 'open', conflicts: [] });
  assert.equal(p?.title, 'Forged');
});
