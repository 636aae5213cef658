import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { base58Encode } from '../../src/model/base58.ts';
import { Storage } from '../../src/storage/storage.ts';
import { FakeStorage, makeNodeKey } from '../fixtures/radicle-storage.ts';

const log = pino({ level: 'silent' });
const alice = makeNodeKey(1);
const bob = makeNodeKey(2);

let home: string;
let fake: FakeStorage;
let storage: Storage;
let rid: string;
let gitDir: string;
let c: string[]; // linear history c[0] <- c[1] <- … <- c[4], one second apart

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'st-'));
  fake = await FakeStorage.create(home);
  ({ rid, gitDir } = await fake.createRepo({ name: 'demo', description: 'demo repo', delegates: [alice.nid] }));
  c = [];
  let parent: string | null = null;
  for (let i = 0; i < 5; i++) {
    parent = await fake.commit(rid, { files: { 'README.md': `v${i}\n`, 'src/lib.ts': 'x' }, parent, time: 1_800_000_000 + i });
    c.push(parent);
  }
  await fake.pushBranch(rid, alice.nid, 'main', c[4] as string);
  await fake.setCanonicalHead(rid, 'main', c[4] as string);
  storage = new Storage({ radHome: home, log });
});
after(async () => {
  await storage.close();
  await rm(home, { recursive: true, force: true });
});

const at = (i: number): string => c[i] as string;

describe('repositories and identity', () => {
  test('the fixture lays storage out like a node (§7 checks)', () => {
    const doc = execFileSync('git', ['--git-dir', gitDir, 'show', 'refs/rad/id:embeds/radicle.json']).toString();
    assert.equal(
      doc,
      `{"delegates":["${alice.did}"],"payload":{"xyz.radicle.project":{"defaultBranch":"main","description":"demo repo","name":"demo"}},"threshold":1}`,
    );
    const docOid = execFileSync('git', ['hash-object', '--stdin'], { input: doc }).toString().trim();
    assert.equal(rid, `rad:z${base58Encode(Buffer.from(docOid, 'hex'))}`);
    assert.equal(gitDir, join(home, 'storage', rid.slice(4)));
  });

  test('reads name, description, default branch, delegates, threshold and visibility', async () => {
    assert.deepEqual(await storage.identity(rid), {
      rid,
      name: 'demo',
      description: 'demo repo',
      defaultBranch: 'main',
      delegates: [alice.nid],
      threshold: 1,
      private: false,
    });
    const priv = await fake.createRepo({
      name: 'secret',
      defaultBranch: 'trunk',
      delegates: [alice.nid, bob.nid],
      threshold: 2,
      private: true,
    });
    assert.deepEqual(await storage.identity(priv.rid), {
      rid: priv.rid,
      name: 'secret',
      description: '',
      defaultBranch: 'trunk',
      delegates: [alice.nid, bob.nid],
      threshold: 2,
      private: true,
    });
  });

  test('listRepositories skips dot-entries, *.lock clone dirs and plain files', async () => {
    await mkdir(join(home, 'storage', '.tmp'), { recursive: true });
    await mkdir(join(home, 'storage', `${rid.slice(4)}XYZ.lock`), { recursive: true });
    await writeFile(join(home, 'storage', 'zNotADir'), '');
    const rids = await storage.listRepositories();
    assert.ok(rids.includes(rid));
    assert.equal(rids.length, 2); // demo + secret
    assert.ok(rids.every((r) => /^rad:z[1-9A-HJ-NP-Za-km-z]+$/.test(r) && !r.endsWith('.lock')));
  });

  test('an unknown repository is an error, and non-RIDs are refused', async () => {
    await assert.rejects(storage.listRefs('rad:z1111111111111111111111'), /not found in storage/);
    await assert.rejects(storage.identity('rad:z1111111111111111111111'), /not found in storage/);
    await assert.rejects(storage.identity('rad:../../etc'), /not a repository id/);
  });
});

describe('refs and objects', () => {
  test('resolveRef returns top-level and namespaced tips, or null', async () => {
    assert.equal(await storage.resolveRef(rid, 'refs/heads/main'), at(4));
    assert.equal(await storage.resolveRef(rid, `refs/namespaces/${alice.nid}/refs/heads/main`), at(4));
    assert.equal(await storage.resolveRef(rid, `refs/namespaces/${bob.nid}/refs/heads/main`), null);
  });

  test('listRefs lists namespaced, canonical and identity refs in one go', async () => {
    const refs = await storage.listRefs(rid);
    const identityCommit = await storage.resolveRef(rid, `refs/namespaces/${alice.nid}/refs/rad/root`);
    assert.match(identityCommit ?? '', /^[0-9a-f]{40}$/);
    assert.equal(refs.get('refs/heads/main'), at(4));
    assert.equal(refs.get(`refs/namespaces/${alice.nid}/refs/heads/main`), at(4));
    assert.equal(refs.get('refs/rad/id'), identityCommit);
    assert.equal(refs.get(`refs/namespaces/${alice.nid}/refs/rad/id`), identityCommit); // symbolic, resolved
    assert.ok([...refs.keys()].every((r) => /^refs\/(namespaces|heads|tags|rad\/id)/.test(r)));
  });

  test('tags: lightweight points at the commit, annotated peels to it', async () => {
    const light = await fake.tag(rid, alice.nid, 'v1', at(2));
    const annotated = await fake.tag(rid, alice.nid, 'v2', at(3), { annotated: true, message: 'release 2' });
    assert.equal(light, at(2));
    assert.notEqual(annotated, at(3));
    assert.equal(await storage.resolveRef(rid, `refs/namespaces/${alice.nid}/refs/tags/v2`), annotated);
    assert.equal(await storage.peelToCommit(rid, annotated), at(3));
    assert.equal(await storage.peelToCommit(rid, light), at(2));
    const blob = await storage.read(rid, `${at(0)}:README.md`);
    assert.equal(await storage.peelToCommit(rid, blob?.oid ?? ''), null);
    assert.equal(await storage.peelToCommit(rid, '0000000000000000000000000000000000000001'), null);
  });

  test('hasFile is true only for blobs', async () => {
    assert.equal(await storage.hasFile(rid, at(0), 'README.md'), true);
    assert.equal(await storage.hasFile(rid, at(0), 'src/lib.ts'), true);
    assert.equal(await storage.hasFile(rid, at(0), 'src'), false);
    assert.equal(await storage.hasFile(rid, at(0), 'missing.yaml'), false);
    assert.equal(await storage.hasFile(rid, '0000000000000000000000000000000000000001', 'README.md'), false);
    for (const bad of ['../x', '/etc/passwd', 'a b', 'a\nb', '', 'src//lib.ts']) {
      await assert.rejects(storage.hasFile(rid, at(0), bad), /invalid/);
    }
  });
});

describe('commitsBetween', () => {
  test('lists new commits newest first, like rev-list tip ^old', async () => {
    assert.deepEqual(await storage.commitsBetween(rid, at(4), at(1)), [at(4), at(3), at(2)]);
    assert.deepEqual(await storage.commitsBetween(rid, at(4), at(3)), [at(4)]);
  });

  test('honours the limit', async () => {
    assert.deepEqual(await storage.commitsBetween(rid, at(4), at(0), 2), [at(4), at(3)]);
  });

  test('old null, old equal or old ahead all give [tip]', async () => {
    assert.deepEqual(await storage.commitsBetween(rid, at(4), null), [at(4)]);
    assert.deepEqual(await storage.commitsBetween(rid, at(4), at(4)), [at(4)]);
    assert.deepEqual(await storage.commitsBetween(rid, at(2), at(4)), [at(2)]);
  });

  test('walks both sides of a merge in committer-date order and matches git rev-list', async () => {
    // side branch from c[1]: s1 (t+10), then merge of c[4] and s1 (t+20)
    const s1 = await fake.commit(rid, { files: { side: '1' }, parent: at(1), time: 1_800_000_010 });
    const m = execFileSync('git', ['--git-dir', gitDir, 'commit-tree', `${at(4)}^{tree}`, '-p', at(4), '-p', s1, '-m', 'merge'], {
      env: { ...process.env, GIT_COMMITTER_DATE: '1800000020 +0000', GIT_AUTHOR_DATE: '1800000020 +0000' },
    }).toString().trim();
    const expected = execFileSync('git', ['--git-dir', gitDir, 'rev-list', m, `^${at(2)}`]).toString().trim().split('\n');
    assert.deepEqual(await storage.commitsBetween(rid, m, at(2)), expected);
    assert.deepEqual(expected, [m, s1, at(4), at(3)]);
    // a tag as tip is peeled first
    const tagOid = await fake.tag(rid, alice.nid, 'merged', m, { annotated: true });
    assert.deepEqual(await storage.commitsBetween(rid, tagOid, at(2)), expected);
  });
});

test('a burst of 2000 reads through Storage uses ONE git process', async () => {
  const s = new Storage({ radHome: home, log });
  try {
    const ops: Array<Promise<unknown>> = [];
    for (let i = 0; i < 2000; i++) {
      const commit = at(i % 5);
      if (i % 4 === 0) ops.push(s.resolveRef(rid, 'refs/heads/main'));
      else if (i % 4 === 1) ops.push(s.hasFile(rid, commit, 'README.md'));
      else if (i % 4 === 2) ops.push(s.peelToCommit(rid, commit));
      else ops.push(s.read(rid, `${commit}:README.md`));
    }
    const results = await Promise.all(ops);
    assert.equal(results[0], at(4));
    assert.equal(results[1], true);
    assert.equal(results[2], at(2));
    assert.equal((results[3] as { content: Buffer }).content.toString(), 'v3\n');
    assert.equal(s.gitSpawns, 1);
  } finally {
    await s.close();
  }
});
