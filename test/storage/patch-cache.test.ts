import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { pino } from 'pino';
import { patchFromCacheJson } from '../../src/storage/patch-cache.ts';
import { Storage } from '../../src/storage/storage.ts';
import { FakeStorage, makeNodeKey } from '../fixtures/radicle-storage.ts';

const alice = makeNodeKey(31);
const bob = makeNodeKey(32);
let home: string;
let fake: FakeStorage;
let storage: Storage;
let rid: string;
let base: string;
let head: string;

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'pk-'));
  fake = await FakeStorage.create(home);
  ({ rid } = await fake.createRepo({ name: 'cache', delegates: [alice.nid] }));
  base = await fake.commit(rid, { files: { README: 'base\n' } });
  head = await fake.commit(rid, { files: { README: 'head\n' }, parent: base });
  storage = new Storage({ radHome: home, log: pino({ level: 'silent' }) });
});
after(async () => {
  await storage.close();
  await rm(home, { recursive: true, force: true });
});

test('without cache.db at all, the patch is evaluated from git', async () => {
  const id = await fake.createPatch(rid, bob.nid, { title: 'No cache', description: 'd', base, head });
  assert.equal((await storage.patch(rid, id))?.title, 'No cache');
});

test('the cache.db row is used when present (the node writes it before emitting events)', async () => {
  const id = await fake.createPatch(rid, bob.nid, { title: 'Cached', description: 'd', base, head });
  await fake.writeCache(rid, id);
  // git moves on, the row is not refreshed: the row is what we read
  const r2 = await fake.addRevision(rid, bob.nid, id, { description: 'v2', base, head: base });
  assert.equal((await storage.patch(rid, id))?.latest.id, id);
  await fake.writeCache(rid, id);
  assert.equal((await storage.patch(rid, id))?.latest.id, r2);
  await fake.deleteCache(rid, id);
  assert.equal((await storage.patch(rid, id))?.latest.id, r2);
});

test('a malformed row, or a row for another repository, falls back to git', async () => {
  const id = await fake.createPatch(rid, bob.nid, { title: 'Fallback', description: 'd', base, head });
  await fake.writeCache(rid, id);
  const db = new DatabaseSync(join(home, 'cobs', 'cache.db'));
  db.prepare('UPDATE patches SET patch = ? WHERE id = ?').run('{"title": 42}', id);
  assert.equal((await storage.patch(rid, id))?.title, 'Fallback');
  db.prepare('UPDATE patches SET patch = ?, repo = ? WHERE id = ?').run('not json', 'rad:zOther', id);
  assert.equal((await storage.patch(rid, id))?.title, 'Fallback');
  db.close();
});

test('rad cob show JSON: timeline order, redacted revisions dropped, last edit wins, ms -> s, DIDs -> NIDs', () => {
  const r1 = '1'.repeat(40);
  const r2 = '2'.repeat(40);
  const r3 = '3'.repeat(40);
  const rev = (id: string, who: string, bodies: string[], ts: number): unknown => ({
    id,
    author: { id: `did:key:${who}` },
    description: bodies.map((body, i) => ({ author: who, timestamp: ts + i, body, embeds: [] })),
    base: 'b'.repeat(40),
    oid: id.replace(/./g, 'c'),
    discussion: { comments: {}, timeline: [] },
    reviews: {},
    timestamp: ts,
    resolves: [],
    reactions: [],
    somethingNew: true,
  });
  const p = patchFromCacheJson(r1, {
    title: 'T',
    author: { id: `did:key:${alice.nid}` },
    state: { status: 'open' },
    target: 'delegates',
    labels: ['a'],
    merges: {},
    revisions: { [r3]: rev(r3, bob.nid, ['by bob'], 1_700_000_300_999), [r1]: rev(r1, alice.nid, ['old', 'new'], 1_700_000_100_500), [r2]: null },
    assignees: [`did:key:${bob.nid}`],
    timeline: [r1, r2, r3],
    reviews: {},
  });
  assert.deepEqual(p.state, { status: 'open', conflicts: [] });
  assert.deepEqual(p.revisions.map((r) => r.id), [r1, r3]);
  assert.equal(p.revisions[0]?.description, 'new');
  assert.equal(p.revisions[0]?.timestamp, 1_700_000_100);
  assert.equal(p.revisions[1]?.author, bob.nid);
  assert.equal(p.author, alice.nid);
  assert.equal(p.latest.id, r1); // bob's later revision is not the author's
  assert.deepEqual(p.assignees, [`did:key:${bob.nid}`]);
  assert.throws(() => patchFromCacheJson(r1, { title: 'T' }));
  assert.throws(() =>
    patchFromCacheJson(r1, { title: 'T', author: { id: `did:key:${alice.nid}` }, state: { status: 'merged' }, revisions: {}, timeline: [] }),
  );
});
