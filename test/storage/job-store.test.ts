import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { GitPlumbing } from '../../src/storage/git-plumbing.ts';
import { jobStateJson } from '../../src/storage/job-cob.ts';
import { JobStore, JobTargetMissing } from '../../src/storage/job-store.ts';
import { signRefs } from '../../src/storage/sigrefs-writer.ts';
import { loadNodeSigner, seedSigner, type Signer } from '../../src/signing/node-signer.ts';
import { FakeStorage, makeNodeKey } from '../fixtures/radicle-storage.ts';
import { makeRadKey, type RadKey } from '../fixtures/node-keys.ts';
import { checkSigrefs, fsckStrict, git, radicleState, readChange } from './job-checks.ts';

const log = pino({ level: 'silent' });
const alice = makeNodeKey(1);
const JOB = 'xyz.radworks.job';
const MANIFEST = '{"typeName":"xyz.radworks.job","version":1}';
const U1 = '11111111-2222-4333-8444-555555555555';
const U2 = '66666666-7777-4888-9999-aaaaaaaaaaaa';
const U3 = 'bbbbbbbb-cccc-4ddd-8eee-ffffffffffff';

let home: string;
let fake: FakeStorage;
let rid: string;
let gitDir: string;
let identity: string;
let c1: string;
let c2: string;
let key: RadKey;
let signer: Signer;
let store: JobStore;
let clock = 1_800_000_000;

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'jobs-'));
  fake = await FakeStorage.create(home);
  ({ rid, gitDir, identityCommit: identity } = await fake.createRepo({ name: 'demo', delegates: [alice.nid] }));
  c1 = await fake.commit(rid, { files: { 'README.md': 'one\n' } });
  c2 = await fake.commit(rid, { files: { 'README.md': 'two\n' }, parent: c1 });
  await fake.pushBranch(rid, alice.nid, 'main', c2);
  await fake.setCanonicalHead(rid, 'main', c2);
  key = await makeRadKey(home);
  signer = await loadNodeSigner({ radHome: home, passphrase: null, agentSocket: null });
  store = new JobStore({ radHome: home, signer, log, now: () => ++clock });
});
after(async () => {
  await store.close();
  await rm(home, { recursive: true, force: true });
});

const jobRef = (nid: string, id: string) => `refs/namespaces/${nid}/refs/cobs/${JOB}/${id}`;
const tip = (ref: string) => git(gitDir, ['rev-parse', ref]).toString().trim();

describe('job COB writer', () => {
  let jobId: string;

  test('the first run of a commit creates the job: Request + Run in a signed root change', async () => {
    const r = await store.publish(rid, c1, { uuid: U1, log: 'https://ci.example/runs/1', finished: null });
    assert.equal(r.created, true);
    jobId = r.jobId;
    assert.equal(tip(jobRef(key.nid, jobId)), jobId);
    const ch = readChange(gitDir, jobId);
    assert.equal(ch.manifest, MANIFEST);
    assert.deepEqual(ch.actions, [`{"Request":{"oid":"${c1}"}}`, `{"Run":{"log":"https://ci.example/runs/1","uuid":"${U1}"}}`]);
    assert.deepEqual(ch.parents, [c1, identity]);
    assert.deepEqual(ch.trailers, [`Rad-Related: ${c1}`, `Rad-Resource: ${identity}`]);
    assert.ok(ch.signer.equals(key.publicKey));
    assert.equal(tip(`refs/namespaces/${key.nid}/refs/rad/root`), identity);
    const s = checkSigrefs(gitDir, key.nid, key.publicKey);
    assert.equal(s.parent, null);
    fsckStrict(gitDir);
  });

  test('the end of the run appends Finished on top of the tip; the sigrefs chain grows by one', async () => {
    const before = checkSigrefs(gitDir, key.nid, key.publicKey).head;
    const r = await store.publish(rid, c1, { uuid: U1, log: 'https://ci.example/runs/1', finished: 'Succeeded' });
    assert.equal(r.jobId, jobId);
    assert.deepEqual(r.written, [{ Finished: { uuid: U1, reason: 'Succeeded' } }]);
    const head = tip(jobRef(key.nid, jobId));
    const ch = readChange(gitDir, head);
    assert.deepEqual(ch.actions, [`{"Finished":{"reason":"Succeeded","uuid":"${U1}"}}`]);
    assert.deepEqual(ch.parents, [jobId, identity]);
    assert.deepEqual(ch.trailers, [`Rad-Resource: ${identity}`]);
    const after = checkSigrefs(gitDir, key.nid, key.publicKey);
    assert.equal(after.parent, before);
    fsckStrict(gitDir);
  });

  test('publishing a step again writes nothing and leaves the sigrefs alone', async () => {
    const sig = tip(`refs/namespaces/${key.nid}/refs/rad/sigrefs`);
    const r = await store.publish(rid, c1, { uuid: U1, log: 'https://ci.example/runs/1', finished: 'Succeeded' });
    assert.deepEqual(r.written, []);
    assert.equal(r.sigrefs, sig);
    assert.equal(tip(`refs/namespaces/${key.nid}/refs/rad/sigrefs`), sig);
  });

  test('a second run of the commit joins the same job; a run that ends without a start gets Run and Finished together', async () => {
    const r = await store.publish(rid, c1, { uuid: U2, log: 'https://ci.example/runs/2', finished: 'Failed' });
    assert.equal(r.jobId, jobId);
    const ch = readChange(gitDir, tip(jobRef(key.nid, jobId)));
    assert.deepEqual(ch.actions, [`{"Run":{"log":"https://ci.example/runs/2","uuid":"${U2}"}}`, `{"Finished":{"reason":"Failed","uuid":"${U2}"}}`]);
    const [job] = await store.jobsFor(rid, c1);
    assert.ok(job);
    const state = jobStateJson(job.state);
    const radicle = radicleState(home, rid, c1);
    assert.equal(radicle.id, job.id);
    assert.deepEqual(radicle.state, state, 'the independent reader evaluates the same state');
    assert.equal(state.oid, c1);
    assert.deepEqual(Object.keys(state.runs), [key.nid]);
    const runs = state.runs[key.nid] ?? {};
    assert.deepEqual(Object.keys(runs), [U1, U2]);
    assert.deepEqual(runs[U1]?.status, { Finished: 'Succeeded' });
    assert.deepEqual(runs[U2]?.status, { Finished: 'Failed' });
    assert.equal(runs[U2]?.log, 'https://ci.example/runs/2');
    assert.equal((runs[U2]?.timestamp ?? 0) % 1000, 0);
    assert.ok((runs[U2]?.timestamp ?? 0) > 1_800_000_000_000, 'milliseconds');
    checkSigrefs(gitDir, key.nid, key.publicKey);
  });

  test("a job another node created first is appended to: this node's change has the other's tip as parent", async () => {
    const bob = seedSigner(Buffer.alloc(32, 7));
    const bobStore = new JobStore({ radHome: home, signer: bob, log, now: () => ++clock });
    try {
      const theirs = await bobStore.publish(rid, c2, { uuid: U3, log: 'https://bob.example/r/3', finished: 'Succeeded' });
      const bobTip = tip(jobRef(bob.nid, theirs.jobId));
      const mine = await store.publish(rid, c2, { uuid: U1.replace('1111', 'abcd'), log: 'https://ci.example/runs/9', finished: null });
      assert.equal(mine.jobId, theirs.jobId);
      assert.equal(mine.created, false);
      const ch = readChange(gitDir, tip(jobRef(key.nid, theirs.jobId)));
      assert.deepEqual(ch.parents, [bobTip, identity]);
      assert.equal(ch.actions.length, 1);
      const [job] = await store.jobsFor(rid, c2);
      assert.deepEqual(Object.keys(jobStateJson(job?.state ?? { oid: '', runs: new Map() }).runs).sort(), [bob.nid, key.nid].sort());
      assert.deepEqual(radicleState(home, rid, c2).state, jobStateJson(job?.state ?? { oid: '', runs: new Map() }));
      checkSigrefs(gitDir, key.nid, key.publicKey);
      checkSigrefs(gitDir, bob.nid, bob.publicKey);
      fsckStrict(gitDir);
    } finally {
      await bobStore.close();
    }
  });

  test('an annotated tag is peeled to its commit; a missing commit or repository is JobTargetMissing', async () => {
    const tagOid = await fake.tag(rid, alice.nid, 'v1', c2, { annotated: true });
    const r = await store.publish(rid, tagOid, { uuid: U2, log: 'https://ci.example/runs/2', finished: null });
    const [job] = await store.jobsFor(rid, c2);
    assert.equal(job?.id, r.jobId);
    await assert.rejects(store.publish(rid, 'f'.repeat(40), { uuid: U2, log: 'https://x.example/', finished: null }), (e: unknown) => e instanceof JobTargetMissing && e.what === 'commit');
    await assert.rejects(store.publish('rad:z3gqcJUoA1n9HaHKufZs5FCSGazv5', c1, { uuid: U2, log: 'https://x.example/', finished: null }), (e: unknown) => e instanceof JobTargetMissing && e.what === 'repository');
  });
});

describe('sigrefs under concurrent writers', () => {
  test('another writer signing between reading and swapping makes cibq re-read and sign on top of it', async () => {
    const g = new GitPlumbing(gitDir);
    const start = tip(`refs/namespaces/${key.nid}/refs/rad/sigrefs`);
    await fake.setRef(rid, `refs/namespaces/${key.nid}/refs/heads/ci-notes`, c1);
    let raced = false;
    const r = await signRefs({
      git: g,
      signer,
      // The other writer (rad) signs while cibq is about to swap, then moves a ref of its own.
      beforeSwap: async () => {
        if (raced) return;
        raced = true;
        await signRefs({ git: g, signer });
        await fake.setRef(rid, `refs/namespaces/${key.nid}/refs/heads/rad-branch`, c2);
      },
    });
    assert.equal(r.attempts, 2);
    assert.equal(r.changed, true);
    const s = checkSigrefs(gitDir, key.nid, key.publicKey);
    assert.equal(s.head, r.at);
    radicleState(home, rid, c1);
    const other = s.parent ?? '';
    assert.equal(git(gitDir, ['rev-parse', `${other}^`]).toString().trim(), start, 'one unbroken chain: start <- other writer <- cibq');
    assert.match(git(gitDir, ['cat-file', 'blob', `${s.head}:refs`]).toString(), / refs\/heads\/ci-notes\n/);
  });

  test('when the other writer already signed exactly these refs, nothing more is written', async () => {
    const g = new GitPlumbing(gitDir);
    await fake.setRef(rid, `refs/namespaces/${key.nid}/refs/heads/ci-notes`, c2);
    let other = '';
    const r = await signRefs({
      git: g,
      signer,
      beforeSwap: async () => {
        if (other === '') other = (await signRefs({ git: g, signer })).at;
      },
    });
    assert.equal(r.changed, false);
    assert.equal(r.at, other);
    checkSigrefs(gitDir, key.nid, key.publicKey);
  });

  test('between two job writes another writer re-signs: the next write chains on its commit and lists its refs', async () => {
    const g = new GitPlumbing(gitDir);
    await fake.setRef(rid, `refs/namespaces/${key.nid}/refs/heads/other`, c2);
    const theirs = await signRefs({ git: g, signer });
    await store.publish(rid, c2, { uuid: U2, log: 'https://ci.example/runs/2', finished: 'Succeeded' });
    const s = checkSigrefs(gitDir, key.nid, key.publicKey);
    assert.equal(s.parent, theirs.at);
    assert.match(git(gitDir, ['cat-file', 'blob', `${s.head}:refs`]).toString(), / refs\/heads\/other\n/);
    fsckStrict(gitDir);
  });
});
