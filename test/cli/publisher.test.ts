/**
 * `cibq publisher` and `cibq jobs` as an operator runs them: the node key is checked with
 * RAD_PASSPHRASE (a wrong one exits 2 naming it, never printing it), and `cibq jobs` shows every
 * node's runs for a commit in radicle-httpd's shape.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { seedSigner } from '../../src/signing/node-signer.ts';
import { JobStore } from '../../src/storage/job-store.ts';
import { makeRadKey } from '../fixtures/node-keys.ts';
import { FakeStorage, makeNodeKey } from '../fixtures/radicle-storage.ts';
import { cibq } from '../helpers/cli.ts';
import { assertClean, auditStorage, httpdJobs, readJobCobs } from '../helpers/radicle-reader/index.ts';

let dir: string;
let config: string;
before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cq-pub-cli-'));
  config = path.join(dir, 'cibq.yaml');
  writeFileSync(config, ['db: ci.db', 'default_adapter: native', 'adapters:', '  native:', '    command: /usr/bin/true', ''].join('\n'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('cibq publisher --check-key', () => {
  test('an encrypted key opens with RAD_PASSPHRASE; a wrong or missing passphrase exits 2 naming it', async () => {
    const home = path.join(dir, 'rad-enc');
    const key = await makeRadKey(home, { passphrase: 's3cret-pass', rounds: 8 });
    const ok = await cibq(['publisher', '--check-key', '--config', config], { RAD_HOME: home, RAD_PASSPHRASE: 's3cret-pass' });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(key.nid));
    const wrong = await cibq(['publisher', '--check-key', '--config', config], { RAD_HOME: home, RAD_PASSPHRASE: 'not-the-pass' });
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /RAD_PASSPHRASE is wrong/);
    assert.match(wrong.stderr, /keys\/radicle/);
    assert.doesNotMatch(wrong.stdout + wrong.stderr, /not-the-pass|s3cret-pass/);
    const none = await cibq(['publisher', '--check-key', '--config', config], { RAD_HOME: home });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /encrypted: set RAD_PASSPHRASE/);
  });

  test('a missing key exits 2 naming the file', async () => {
    const r = await cibq(['publisher', '--check-key', '--config', config], { RAD_HOME: path.join(dir, 'nowhere') });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nowhere\/keys\/radicle/);
  });
});

describe('cibq jobs', () => {
  test("lists every node's runs for a commit, as radicle-httpd's /repos/{rid}/jobs/{sha}", async () => {
    const home = path.join(dir, 'rad-jobs');
    const fake = await FakeStorage.create(home);
    const alice = makeNodeKey(4);
    const { rid } = await fake.createRepo({ name: 'demo', delegates: [alice.nid] });
    const commit = await fake.commit(rid, { files: { a: '1\n' } });
    const ci = seedSigner(Buffer.alloc(32, 21));
    const other = seedSigner(Buffer.alloc(32, 22));
    const log = pino({ level: 'silent' });
    for (const [signer, uuid, finished] of [[ci, '10000000-0000-4000-8000-000000000001', 'Succeeded'], [other, '20000000-0000-4000-8000-000000000002', null]] as const) {
      const s = new JobStore({ radHome: home, signer, log });
      await s.publish(rid, commit, { uuid, log: `https://ci.example/${uuid}`, finished });
      await s.close();
    }
    const r = await cibq(['jobs', rid, commit, '--json'], { RAD_HOME: home });
    assert.equal(r.code, 0, r.stderr);
    const jobs = JSON.parse(r.stdout) as unknown[];
    assert.equal(jobs.length, 1);
    const storage = path.join(home, 'storage');
    assertClean(auditStorage(storage, rid));
    assert.deepEqual(jobs, httpdJobs(readJobCobs(storage, rid), commit), "radicle-httpd's answer, as the independent reader computes it");
    const job = jobs[0] as { jobId: string; commit: string; runs: Array<{ runId: string; node: { id: string }; status: string; log: string }> };
    assert.match(job.jobId, /^[0-9a-f]{40}$/);
    assert.equal(job.commit, commit);
    const byRun = new Map(job.runs.map((x) => [x.runId, x]));
    assert.deepEqual(byRun.get('10000000-0000-4000-8000-000000000001'), {
      runId: '10000000-0000-4000-8000-000000000001', node: { id: `did:key:${ci.nid}` }, status: 'succeeded', log: 'https://ci.example/10000000-0000-4000-8000-000000000001',
    });
    assert.equal(byRun.get('20000000-0000-4000-8000-000000000002')?.status, 'started');
    const text = await cibq(['jobs', rid, commit], { RAD_HOME: home });
    assert.match(text.stdout, /succeeded +10000000-0000-4000-8000-000000000001/);
    const none = await cibq(['jobs', rid, 'a'.repeat(40)], { RAD_HOME: home });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /not in repository/);
    const bad = await cibq(['jobs', 'nope', commit], { RAD_HOME: home });
    assert.equal(bad.code, 2);
  });
});
