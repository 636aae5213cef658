/**
 * Attestations embedded in job COB changes (`embeds/attestation.intoto.jsonl`, issue 9): valid when
 * signed by the change's own signer about this job's commit and run; every other case is reported,
 * while Radicle's job state stays the same (radicle-job ignores embeds).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { dsseEnvelope, sortedJson, testResultStatement, type StatementInput } from '../../fixtures/heartwood-like/attestation.ts';
import { appendToJob, createJob, finished, run } from '../../fixtures/heartwood-like/job-writer.ts';
import { generateNodeKey, type NodeKey } from '../../fixtures/heartwood-like/node-key.ts';
import { createStorage, T0, type FixtureStorage } from '../../fixtures/heartwood-like/storage.ts';
import { ATTESTATION_EMBED } from './job-attestations.ts';
import { readJobCobs, type JobReading } from './job-cobs.ts';
import { formatViolations } from './violations.ts';

const dir = mkdtempSync(join(tmpdir(), 'reader-attest-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let delegate: NodeKey;
let ci: NodeKey;
let n = 0;
before(() => {
  delegate = generateNodeKey(join(dir, 'delegate'));
  ci = generateNodeKey(join(dir, 'ci'));
});
const U1 = '0b0c5c8e-8f7a-4a8e-9d7e-3c1f2a9b4d11';

interface Case {
  readonly signer?: NodeKey;
  readonly statement?: Partial<StatementInput>;
  readonly reason?: 'Succeeded' | 'Failed';
  readonly inRunChange?: boolean;
  readonly tamper?: (envelopeJson: string) => string;
}

/** A job by `ci` whose run finishes with an attestation embed built from `c`. */
function attested(c: Case = {}): { s: FixtureStorage; job: JobReading } {
  const s = createStorage(join(dir, `home-${n++}`), delegate);
  const id = createJob(s, ci, s.commit, { time: T0 });
  const input: StatementInput = {
    rid: s.rid, commit: s.commit, node: ci.did, job: id, run: U1, result: c.reason === 'Failed' ? 'FAILED' : 'PASSED', ...c.statement,
  };
  const line = sortedJson(dsseEnvelope(c.signer ?? ci, testResultStatement(input)));
  const embeds = [{ name: ATTESTATION_EMBED, content: `${c.tamper ? c.tamper(line) : line}\n` }];
  appendToJob(s, ci, id, [run(U1, 'https://ci.example.org/1')], { time: T0 + 1, ...(c.inRunChange ? { embeds } : {}) });
  appendToJob(s, ci, id, [finished(U1, c.reason ?? 'Succeeded')], { time: T0 + 2, ...(c.inRunChange ? {} : { embeds }) });
  const jobs = readJobCobs(s.storagePath, s.rid).jobs;
  return { s, job: jobs[0] as JobReading };
}

const codes = (job: JobReading) => job.violations.map((v) => `${v.severity}:${v.code}`).sort();

test("an attestation in the Finished change, signed by the change's signer, is valid and leaves the job clean", () => {
  for (const reason of ['Succeeded', 'Failed'] as const) {
    const { job } = attested({ reason });
    assert.deepEqual(job.violations, [], formatViolations(job.violations));
    assert.equal(job.attestations.length, 1);
    assert.equal(job.attestations[0]?.valid, true);
    assert.equal(job.attestations[0]?.run, U1);
    assert.deepEqual(job.state?.runs[ci.nid]?.[U1]?.status, { Finished: reason });
  }
});

test('an envelope signed by another node than the change author is invalid; the job state is unaffected', () => {
  const { job } = attested({ signer: delegate, statement: { node: delegate.did } });
  assert.deepEqual(codes(job), ['attestation:dsse-signature']);
  assert.equal(job.attestations[0]?.valid, false);
  assert.deepEqual(job.state?.runs[ci.nid]?.[U1]?.status, { Finished: 'Succeeded' });
});

test('a tampered envelope is rejected', () => {
  const { job } = attested({ tamper: (l) => l.replace(/"payload":"([^"]{10})/, '"payload":"AAAAAAAAAA') });
  assert.ok(codes(job).includes('attestation:dsse-signature'), codes(job).join(', '));
});

test('the statement must be about this commit, this run, this result and this job', () => {
  assert.deepEqual(codes(attested({ statement: { commit: '0'.repeat(40) } }).job), ['attestation:statement-subject']);
  assert.deepEqual(codes(attested({ statement: { run: '6f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b' } }).job), ['attestation:attestation-run']);
  assert.deepEqual(codes(attested({ statement: { result: 'FAILED' } }).job), ['attestation:attestation-result']);
  assert.deepEqual(codes(attested({ statement: { job: '1'.repeat(40) } }).job), ['attestation:attestation-job']);
});

test('an attestation outside a Finished change is misplaced', () => {
  const { job } = attested({ inRunChange: true });
  assert.deepEqual(codes(job), ['attestation:attestation-placement']);
});
