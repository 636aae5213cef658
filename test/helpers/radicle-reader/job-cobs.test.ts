/**
 * The reader on job COBs written as heartwood/radicle-job write them: no violations, `git fsck --strict`
 * clean, sigrefs valid, and the evaluated state equal to radicle-job's, including runs of several nodes
 * in one job and radicle-job's rules for duplicates, unknown runs and concurrent changes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { git, writeChange } from '../../fixtures/heartwood-like/cob-writer.ts';
import { appendToJob, createJob, finished, JOB, run } from '../../fixtures/heartwood-like/job-writer.ts';
import { generateNodeKey, type NodeKey } from '../../fixtures/heartwood-like/node-key.ts';
import { signRefs } from '../../fixtures/heartwood-like/sigrefs-writer.ts';
import { codeCommit, createStorage, T0, type FixtureStorage } from '../../fixtures/heartwood-like/storage.ts';
import { fsckStrict } from './git.ts';
import { httpdJobs } from './httpd-view.ts';
import { jobsForCommit, readJobCobs } from './job-cobs.ts';
import { verifySigrefs } from './sigrefs.ts';
import { formatViolations } from './violations.ts';

const dir = mkdtempSync(join(tmpdir(), 'reader-jobs-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let delegate: NodeKey;
let ci: NodeKey;
let n = 0;
before(() => {
  delegate = generateNodeKey(join(dir, 'delegate'));
  ci = generateNodeKey(join(dir, 'ci'));
});
const fresh = (): FixtureStorage => createStorage(join(dir, `home-${n++}`), delegate);
const U1 = '0b0c5c8e-8f7a-4a8e-9d7e-3c1f2a9b4d11';
const U2 = '6f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b';
const log = (u: string) => `https://ci.example.org/runs/${u}/log.txt`;

function clean(s: FixtureStorage) {
  const reading = readJobCobs(s.storagePath, s.rid);
  assert.deepEqual(reading.violations, [], formatViolations(reading.violations));
  return reading;
}

test('a CI node creates a job, starts and finishes a run: no violations, fsck clean, radicle-job state', () => {
  const s = fresh();
  const id = createJob(s, ci, s.commit, { time: T0 + 10 });
  appendToJob(s, ci, id, [run(U1, log(U1))], { time: T0 + 11 });
  appendToJob(s, ci, id, [finished(U1, 'Succeeded')], { time: T0 + 20 });

  const reading = clean(s);
  const fsck = fsckStrict(s.gitDir);
  assert.ok(fsck.ok, fsck.output);
  assert.equal(reading.jobs.length, 1);
  const job = reading.jobs[0];
  assert.equal(job?.id, id);
  assert.deepEqual(job?.state, {
    oid: s.commit,
    runs: { [ci.nid]: { [U1]: { status: { Finished: 'Succeeded' }, log: log(U1), timestamp: (T0 + 20) * 1000 } } },
  });
  assert.equal(job?.applied.length, 3);
  for (const key of [ci, delegate]) {
    const sig = verifySigrefs(s.storagePath, s.rid, key.nid);
    assert.ok(sig.ok, formatViolations(sig.violations));
  }
  assert.deepEqual(httpdJobs(reading, s.commit), [
    { jobId: id, commit: s.commit, runs: [{ runId: U1, node: { id: ci.did }, status: 'succeeded', log: log(U1) }] },
  ]);
});

test('a job another node created first: each node appends its own runs, keyed by the signer', () => {
  const s = fresh();
  const id = createJob(s, delegate, s.commit, { time: T0 + 10, extra: [run(U1, log(U1))] });
  appendToJob(s, ci, id, [run(U2, log(U2)), finished(U2, 'Failed')], { time: T0 + 30 });
  appendToJob(s, delegate, id, [finished(U1, 'Succeeded')], { time: T0 + 40 });

  const reading = clean(s);
  assert.deepEqual(reading.jobs[0]?.state?.runs, {
    [delegate.nid]: { [U1]: { status: { Finished: 'Succeeded' }, log: log(U1), timestamp: (T0 + 40) * 1000 } },
    [ci.nid]: { [U2]: { status: { Finished: 'Failed' }, log: log(U2), timestamp: (T0 + 30) * 1000 } },
  });
  assert.equal(reading.jobs[0]?.tips.length, 2);
  assert.deepEqual(
    httpdJobs(reading, s.commit)[0]?.runs.map((r) => [r.runId, r.status]).sort(),
    [[U1, 'succeeded'], [U2, 'failed']].sort(),
  );
});

test("radicle-job's rules: a duplicate Run is ignored, a Finished for an unknown or foreign run is ignored", () => {
  const s = fresh();
  const id = createJob(s, ci, s.commit, { time: T0 });
  appendToJob(s, ci, id, [run(U1, log(U1)), run(U1, 'https://elsewhere.example/x')], { time: T0 + 1 });
  appendToJob(s, ci, id, [finished(U2, 'Failed')], { time: T0 + 2 });
  appendToJob(s, delegate, id, [finished(U1, 'Failed')], { time: T0 + 3 });
  const reading = clean(s);
  assert.deepEqual(reading.jobs[0]?.state?.runs, {
    [ci.nid]: { [U1]: { status: 'Started', log: log(U1), timestamp: (T0 + 1) * 1000 } },
  });
});

test('two runs of one commit in two jobs are both found by commit; jobs of other commits are not', () => {
  const s = fresh();
  const other = codeCommit(s.gitDir, 'Second commit', [s.commit], T0 + 5);
  git(s.gitDir, ['update-ref', `refs/namespaces/${delegate.nid}/refs/heads/main`, other]);
  signRefs(s.gitDir, delegate, { time: T0 + 5 });
  const a = createJob(s, ci, s.commit, { time: T0 + 10, extra: [run(U1, log(U1))] });
  const b = createJob(s, delegate, s.commit, { time: T0 + 11, extra: [run(U2, log(U2))] });
  createJob(s, ci, other, { time: T0 + 12 });
  const reading = clean(s);
  assert.deepEqual(jobsForCommit(reading, s.commit).map((j) => j.id).sort(), [a, b].sort());
  assert.deepEqual(httpdJobs(reading, other), [], 'jobs without runs are dropped');
});

test("heartwood's order: the root's children by descending OID, deeper siblings by (timestamp, oid)", () => {
  // radicle-dag `prune_by` visits the root's children in ascending OID order but builds the result
  // front-first, so the subtree of the larger OID is applied first; below, dependents go chronologically.
  const s = fresh();
  const id = createJob(s, ci, s.commit, { time: T0 });
  const resource = git(s.gitDir, ['rev-parse', 'refs/rad/id']);
  const change = (actions: string[], tips: string[], time: number) =>
    writeChange(s.gitDir, { key: ci, typeName: JOB, actions, tips, resource, message: 'Run', time });
  const x = change([run(U1, 'https://x.example/')], [id], T0 + 10);
  const y = change([run(U1, 'https://y.example/')], [id], T0 + 5);
  const late = change([run(U2, 'https://late.example/')], [x], T0 + 30);
  const early = change([run(U2, 'https://early.example/')], [x], T0 + 20);
  const merge = change([finished(U2, 'Succeeded')], [early, late, y].sort(), T0 + 40);
  git(s.gitDir, ['update-ref', `refs/namespaces/${ci.nid}/refs/cobs/${JOB}/${id}`, merge]);
  signRefs(s.gitDir, ci, { time: T0 + 40 });

  const job = clean(s).jobs[0];
  const expected = x > y ? [id, x, early, late, y, merge] : [id, y, x, early, late, merge];
  assert.deepEqual(job?.applied, expected);
  const runs = job?.state?.runs[ci.nid];
  assert.equal(runs?.[U1]?.log, x > y ? 'https://x.example/' : 'https://y.example/', 'first applied Run of a uuid wins');
  assert.deepEqual(runs?.[U2], { status: { Finished: 'Succeeded' }, log: 'https://early.example/', timestamp: (T0 + 40) * 1000 });
  assert.deepEqual(Object.keys(runs ?? {}), [U1, U2]);
});
