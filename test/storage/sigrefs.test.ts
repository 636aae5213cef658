import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { diffRefs, parseSigrefsBlob } from '../../src/storage/sigrefs.ts';
import { Storage } from '../../src/storage/storage.ts';
import { FakeStorage, makeNodeKey } from '../fixtures/radicle-storage.ts';

const alice = makeNodeKey(11);
let home: string;
let fake: FakeStorage;
let storage: Storage;

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'sr-'));
  fake = await FakeStorage.create(home);
  storage = new Storage({ radHome: home, log: pino({ level: 'silent' }) });
});
after(async () => {
  await storage.close();
  await rm(home, { recursive: true, force: true });
});

test('parses the refs blob of a sigrefs commit and its parent chain', async () => {
  const { rid, identityCommit } = await fake.createRepo({ name: 'sig', delegates: [alice.nid] });
  const c1 = await fake.commit(rid, { files: { a: '1' } });
  await fake.pushBranch(rid, alice.nid, 'main', c1);
  const first = await fake.signRefs(rid, alice.nid);
  const s1 = await storage.sigrefs(rid, first);
  assert.equal(s1.parent, null);
  assert.deepEqual(
    [...s1.refs],
    [
      [`refs/cobs/xyz.radicle.id/${identityCommit}`, identityCommit],
      ['refs/heads/main', c1],
      ['refs/rad/id', identityCommit],
      ['refs/rad/root', identityCommit],
    ],
  );
  assert.equal(s1.refs.has('refs/rad/sigrefs'), false);

  // second publication: main moves, a feature branch and a tag appear
  const c2 = await fake.commit(rid, { files: { a: '2' }, parent: c1 });
  await fake.pushBranch(rid, alice.nid, 'main', c2);
  await fake.pushBranch(rid, alice.nid, 'feature', c1);
  await fake.tag(rid, alice.nid, 'v1', c1);
  const second = await fake.signRefs(rid, alice.nid);
  const s2 = await storage.sigrefs(rid, second);
  assert.equal(s2.parent, first);
  assert.equal(await storage.resolveRef(rid, `refs/namespaces/${alice.nid}/refs/rad/sigrefs`), second);

  // then the feature branch is deleted
  await fake.setRef(rid, `refs/namespaces/${alice.nid}/refs/heads/feature`, null);
  const s3 = await storage.sigrefs(rid, await fake.signRefs(rid, alice.nid));

  assert.deepEqual(diffRefs(s1.refs, s2.refs), {
    created: [
      { ref: 'refs/heads/feature', oid: c1 },
      { ref: 'refs/tags/v1', oid: c1 },
    ],
    updated: [{ ref: 'refs/heads/main', old: c1, new: c2 }],
    deleted: [],
  });
  assert.deepEqual(diffRefs(s2.refs, s3.refs), {
    created: [],
    updated: [],
    deleted: [{ ref: 'refs/heads/feature', oid: c1 }],
  });
});

test('a commit that is not a sigrefs commit is an error', async () => {
  const { rid } = await fake.createRepo({ name: 'sig2', delegates: [alice.nid] });
  const c1 = await fake.commit(rid, { files: { a: '1' } });
  await assert.rejects(storage.sigrefs(rid, c1), /no refs blob/);
  await assert.rejects(storage.sigrefs(rid, '0000000000000000000000000000000000000001'), /not found/);
});

test('parseSigrefsBlob skips malformed lines', () => {
  const oid = 'a'.repeat(40);
  const refs = parseSigrefsBlob(Buffer.from(`${oid} refs/heads/main\ngarbage\n${oid}refs/x\n\n`));
  assert.deepEqual([...refs], [['refs/heads/main', oid]]);
});
