/**
 * Patch COB tips are read from the ref files, loose and packed: a burst of patch events without
 * cache.db rows forks no git process per event, and packed refs are found (a loose ref wins).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { CobRefReader } from '../../src/storage/cob-refs.ts';
import { Storage } from '../../src/storage/storage.ts';
import { FakeStorage, makeNodeKey } from '../fixtures/radicle-storage.ts';

const alice = makeNodeKey(31);
const bob = makeNodeKey(32);
const log = pino({ level: 'silent' });
const TYPE = 'xyz.radicle.patch';
let home: string;
let fake: FakeStorage;
let rid: string;
let gitDir: string;
let base: string;
let head1: string;
let head2: string;
const patches: string[] = [];

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'cr-'));
  fake = await FakeStorage.create(home);
  ({ rid, gitDir } = await fake.createRepo({ name: 'cobs', delegates: [alice.nid] }));
  base = await fake.commit(rid, { files: { README: 'base\n' } });
  head1 = await fake.commit(rid, { files: { README: 'one\n' }, parent: base });
  head2 = await fake.commit(rid, { files: { README: 'two\n' }, parent: head1 });
  for (let i = 0; i < 20; i++) {
    patches.push(await fake.createPatch(rid, i % 2 === 0 ? bob.nid : alice.nid, { title: `P${i}`, description: 'x', base, head: head1 }));
  }
});
after(async () => rm(home, { recursive: true, force: true }));

test('a burst of patch events without cache rows starts one git process, not one per event', async () => {
  const storage = new Storage({ radHome: home, log });
  try {
    const burst = [...patches, ...patches, ...patches];
    const got = await Promise.all(burst.map((id) => storage.patch(rid, id)));
    assert.deepEqual(got.map((p) => p?.title), burst.map((id) => `P${patches.indexOf(id)}`));
    assert.equal(storage.gitSpawns, 1); // the one `git cat-file --batch` of the repository
  } finally {
    await storage.close();
  }
});

test('packed refs are found; a later loose ref wins over its packed copy', async () => {
  const id = patches[0] as string;
  execFileSync('git', ['--git-dir', gitDir, 'pack-refs', '--all']);
  const reader = new CobRefReader();
  assert.deepEqual(await reader.tips(gitDir, TYPE, id), new Map([[bob.nid, id]]));
  const rev = await fake.addRevision(rid, bob.nid, id, { description: 'v2', base, head: head2 }); // loose again
  const tip = await fake.comment(rid, alice.nid, id, 'hi'); // a new namespace, loose only
  assert.deepEqual(await reader.tips(gitDir, TYPE, id), new Map([[bob.nid, rev], [alice.nid, tip]]));
  execFileSync('git', ['--git-dir', gitDir, 'pack-refs', '--all']);
  assert.deepEqual(await reader.tips(gitDir, TYPE, id), new Map([[bob.nid, rev], [alice.nid, tip]]));
  const storage = new Storage({ radHome: home, log });
  try {
    const p = await storage.patch(rid, id);
    assert.equal(p?.latest.oid, head2);
    assert.equal(await storage.patch(rid, '0'.repeat(40)), null);
  } finally {
    await storage.close();
  }
  await assert.rejects(reader.tips(gitDir, TYPE, '../../x'), /invalid COB/);
});
