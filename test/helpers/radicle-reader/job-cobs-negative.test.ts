/**
 * The reader provably rejects what Radicle would drop, and flags what heartwood's writers never write:
 * each case breaks one rule of a job COB change and checks the violation and Radicle's resulting state.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { git, writeBlob, writeTree, type Tamper } from '../../fixtures/heartwood-like/cob-writer.ts';
import { appendToJob, createJob, finished, JOB, run } from '../../fixtures/heartwood-like/job-writer.ts';
import { generateNodeKey, type NodeKey } from '../../fixtures/heartwood-like/node-key.ts';
import { signRefs } from '../../fixtures/heartwood-like/sigrefs-writer.ts';
import { createStorage, T0, type FixtureStorage } from '../../fixtures/heartwood-like/storage.ts';
import { readJobCobs, type JobReading } from './job-cobs.ts';

const dir = mkdtempSync(join(tmpdir(), 'reader-neg-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let delegate: NodeKey;
let ci: NodeKey;
let n = 0;
before(() => {
  delegate = generateNodeKey(join(dir, 'delegate'));
  ci = generateNodeKey(join(dir, 'ci'));
});
const U1 = '0b0c5c8e-8f7a-4a8e-9d7e-3c1f2a9b4d11';
const LOG = 'https://ci.example.org/runs/1/log.txt';

/** A storage with one job by `ci`, a started run, and a change with `actions` written with `tamper`. */
function withBadChange(actions: string[], tamper: Tamper = {}): { s: FixtureStorage; job: JobReading; bad: string } {
  const s = createStorage(join(dir, `home-${n++}`), delegate);
  const id = createJob(s, ci, s.commit, { time: T0 });
  appendToJob(s, ci, id, [run(U1, LOG)], { time: T0 + 1 });
  const bad = appendToJob(s, ci, id, actions, { time: T0 + 2, tamper });
  return { s, job: readJob(s), bad };
}

function readJob(s: FixtureStorage): JobReading {
  const jobs = readJobCobs(s.storagePath, s.rid).jobs;
  assert.equal(jobs.length, 1);
  return jobs[0] as JobReading;
}

const codes = (job: JobReading) => [...new Set(job.violations.map((v) => `${v.severity}:${v.code}`))].sort();
const started = () => ({ [ci.nid]: { [U1]: { status: 'Started', log: LOG, timestamp: (T0 + 1) * 1000 } } });

function assertPruned(job: JobReading, bad: string, extra: string[]) {
  assert.deepEqual(codes(job), ['rejected:change-pruned', ...extra].sort());
  assert.deepEqual(job.pruned, [bad]);
  assert.deepEqual(job.state?.runs, started());
}

test('a blob changed after signing: the signature no longer covers the tree, the change is pruned', () => {
  const tamper: Tamper = {
    commitTree: (g) =>
      writeTree(g, [
        ['100644', 'blob', writeBlob(g, JSON.stringify({ typeName: JOB, version: 1 })), 'manifest'],
        ['100644', 'blob', writeBlob(g, finished(U1, 'Succeeded')), '0'],
      ]),
  };
  const { job, bad } = withBadChange([finished(U1, 'Failed')], tamper);
  assertPruned(job, bad, ['rejected:signature-invalid']);
});

test('signed by another key than the one the SSHSIG names: pruned', () => {
  const { job, bad } = withBadChange([finished(U1, 'Failed')], { signWith: delegate });
  assertPruned(job, bad, ['rejected:signature-invalid']);
});

test('signature over the hex tree OID, or over SSHSIG signed-data (ssh-keygen style): pruned', () => {
  for (const signOver of ['hex-tree-oid', 'sshsig-signed-data'] as const) {
    const { job, bad } = withBadChange([finished(U1, 'Failed')], { signOver });
    assertPruned(job, bad, ['rejected:signature-invalid']);
  }
});

test('a descendant of a pruned change is pruned with it', () => {
  const { s, bad } = withBadChange([finished(U1, 'Failed')], { signWith: delegate });
  const id = readJob(s).id;
  const child = appendToJob(s, ci, id, [finished(U1, 'Succeeded')], { time: T0 + 3 });
  const job = readJob(s);
  assert.deepEqual(job.pruned, [bad, child]);
  assert.deepEqual(job.state?.runs, started());
});

test('non-canonical JSON is flagged, yet Radicle still reads the action', () => {
  const blob = `{"Finished": {"uuid":"${U1}","reason":"Failed"}}`;
  const { job } = withBadChange([blob]);
  assert.deepEqual(codes(job), ['nonstandard:action-not-canonical']);
  assert.deepEqual(job.state?.runs[ci.nid]?.[U1]?.status, { Finished: 'Failed' });
});

test('internally tagged JSON, or an extra top-level key (the `rad cob create` defect), is undecodable: pruned', () => {
  for (const blob of [`{"reason":"Failed","type":"finished","uuid":"${U1}"}`, `{"Finished":{"reason":"Failed","uuid":"${U1}"},"parents":[]}`]) {
    const { job, bad } = withBadChange([blob]);
    assertPruned(job, bad, ['rejected:action-decode']);
  }
});

test('an unknown reason, a bad uuid or a relative log URL is undecodable: pruned', () => {
  for (const blob of [
    `{"Finished":{"reason":"Cancelled","uuid":"${U1}"}}`,
    '{"Finished":{"reason":"Failed","uuid":"not-a-uuid"}}',
    `{"Run":{"log":"/runs/2","uuid":"${U1}"}}`,
  ]) {
    const { job, bad } = withBadChange([blob]);
    assertPruned(job, bad, ['rejected:action-decode']);
  }
});

test('wrong parent order (resource before the tested commit) is flagged; the job still shows', () => {
  const s = createStorage(join(dir, `home-${n++}`), delegate);
  const resource = git(s.gitDir, ['rev-parse', 'refs/rad/id']);
  createJob(s, ci, s.commit, { time: T0, tamper: { parents: [resource, s.commit] } });
  const job = readJob(s);
  assert.deepEqual(codes(job), ['nonstandard:parent-order']);
  assert.equal(job.state?.oid, s.commit);
});

test('a root without the Rad-Related trailer has the commit as a COB parent: the job is invisible', () => {
  const s = createStorage(join(dir, `home-${n++}`), delegate);
  createJob(s, ci, s.commit, { time: T0, tamper: { omitRelatedTrailer: true } });
  const job = readJob(s);
  assert.equal(job.state, null);
  const found = codes(job);
  for (const code of ['rejected:job-invisible', 'rejected:root-has-parents', 'rejected:root-related', 'rejected:unsigned']) {
    assert.ok(found.includes(code), `${code} in ${found.join(', ')}`);
  }
  assert.ok(job.changes.get(s.commit)?.loadable === false, 'heartwood tried to load the code commit as a change');
});

test('a root armored at 76 columns cannot be loaded: the job is invisible', () => {
  const s = createStorage(join(dir, `home-${n++}`), delegate);
  createJob(s, ci, s.commit, { time: T0, tamper: { armorWidth: 76 } });
  const job = readJob(s);
  assert.equal(job.state, null);
  assert.deepEqual(codes(job), ['rejected:job-invisible', 'rejected:sshsig-armor-width']);
});

test('a job for a commit that is not in storage is invisible', () => {
  const s = createStorage(join(dir, `home-${n++}`), delegate);
  const missing = 'f2de534b5e81d7c6e2dcaf58c3dd91573c0a0354';
  const resource = git(s.gitDir, ['rev-parse', 'refs/rad/id']);
  createJob(s, ci, missing, { time: T0, tamper: { parents: [missing, resource] } });
  const job = readJob(s);
  assert.equal(job.state, null);
  assert.match(job.invisibleReason ?? '', /not in storage/);
});

test("a change in one node's namespace signed by another node's key is flagged; its runs go to the signer", () => {
  const s = createStorage(join(dir, `home-${n++}`), delegate);
  const id = createJob(s, ci, s.commit, { time: T0, extra: [run(U1, LOG)], noRef: true });
  git(s.gitDir, ['update-ref', `refs/namespaces/${delegate.nid}/refs/cobs/${JOB}/${id}`, id]);
  signRefs(s.gitDir, delegate, { time: T0 });
  const job = readJob(s);
  assert.deepEqual(codes(job), ['nonstandard:tip-signer-not-namespace']);
  assert.deepEqual(Object.keys(job.state?.runs ?? {}), [ci.nid]);
});

test('an unloadable tip (manifest not JSON) hides the whole job: the graph walk stops there; odd bytes are flagged', () => {
  const broken = withBadChange([finished(U1, 'Failed')], { manifest: 'typeName=xyz.radworks.job' });
  assert.deepEqual(codes(broken.job), ['rejected:job-invisible', 'rejected:manifest-invalid']);
  assert.equal(broken.job.state, null, 'ChangeGraph::load learns no parents from a change it cannot load');
  const odd = withBadChange([finished(U1, 'Failed')], { manifest: '{"version":1,"typeName":"xyz.radworks.job"}' });
  assert.deepEqual(codes(odd.job), ['nonstandard:manifest-bytes']);
});
