import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import type { FinishedUpdate, RunSubject, RunUpdate } from '../../src/model/run.ts';
import { Announcer } from '../../src/node/announcer.ts';
import { runPublisher } from '../../src/publisher/run-publisher.ts';
import { connectRedis, redisKeys } from '../../src/queue/redis.ts';
import { publishRunUpdate, RunUpdateReader } from '../../src/queue/run-updates.ts';
import { loadNodeSigner, seedSigner, type Signer } from '../../src/signing/node-signer.ts';
import { jobStateJson } from '../../src/storage/job-cob.ts';
import { JobStore } from '../../src/storage/job-store.ts';
import { FakeNode } from '../fixtures/fake-node.ts';
import { makeRadKey, type RadKey } from '../fixtures/node-keys.ts';
import { FakeStorage, makeNodeKey } from '../fixtures/radicle-storage.ts';
import { RedisServer } from '../helpers/redis-server.ts';
import { didFromPublicKey, readJobCobs, verifyDsse } from '../helpers/radicle-reader/index.ts';
import { createHash } from 'node:crypto';
import { checkSigrefs, fsckStrict, git, radicleState, readChange } from '../storage/job-checks.ts';

const log = pino({ level: 'silent' });
const alice = makeNodeKey(3);
const keys = redisKeys('cibq-pub');
const REPORT = 'https://ci.example.org/cibq';

let home: string;
let server: RedisServer;
let redis: Redis;
let fake: FakeStorage;
let node: FakeNode;
let rid: string;
let gitDir: string;
let commits: string[];
let key: RadKey;
let signer: Signer;
let store: JobStore;
let announcer: Announcer;
let abort: AbortController;
let loop: Promise<void>;
let acked = 0;
let n = 0;

async function until(what: string, pred: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function uuid(): string {
  n++;
  return `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

function subject(commit: string, over: Partial<RunSubject> = {}): RunSubject {
  return {
    id: uuid(), adapter: 'native', repo: rid, repo_name: 'demo', event_type: 'patch', ref: 'refs/heads/main', patch: null,
    title: 'T', author: alice.did, commit, private: false, queued_at: '2026-01-01T00:00:00.000Z', ...over,
  };
}

/** Sends the updates of one run and waits until the publisher acknowledged them. */
async function send(...updates: RunUpdate[]): Promise<void> {
  const target = acked + updates.length;
  for (const u of updates) await publishRunUpdate(redis, keys.runUpdates, u);
  await until('the publisher to acknowledge', () => acked >= target);
}

const at = '2026-01-01T00:00:01.000Z';
const queued = (s: RunSubject): RunUpdate => ({ subject: s, state: 'queued', at, attempts: 0 });
const triggered = (s: RunSubject): RunUpdate => ({ subject: s, state: 'triggered', at, trigger: '{}' });
const running = (s: RunSubject, info: string | null): RunUpdate => ({ subject: s, state: 'running', at, adapter_run_id: 'x', info_url: info });
const live = (s: RunSubject): RunUpdate => ({ subject: s, state: 'running', at, log: 'some output' });
const finished = (s: RunSubject, result: FinishedUpdate['result']): RunUpdate => ({ subject: s, state: 'finished', at, result, reason: null });

/** Radicle's state of the commit's job, by the independent reader (which also audits storage), checked against cibq's own. */
async function state(commit: string) {
  const jobs = await store.jobsFor(rid, commit);
  assert.equal(jobs.length, 1);
  const mine = jobStateJson((jobs[0] as { state: Parameters<typeof jobStateJson>[0] }).state);
  const radicle = radicleState(home, rid, commit);
  assert.deepEqual(radicle.state, mine);
  return radicle.state;
}

function startLoop(): void {
  abort = new AbortController();
  loop = runPublisher(
    { redis, keys, log, store, announcer, signer, blockMs: 100, options: { jobCobs: (a) => a !== 'off', reportUrl: REPORT, runsNativeConfig: (a) => a === 'native' }, onBatch: (k) => (acked += k) },
    abort.signal,
  );
}

before(async () => {
  home = await mkdtemp(join(tmpdir(), 'pub-'));
  server = await RedisServer.start();
  redis = connectRedis({ url: server.url, prefix: 'cibq-pub' }, log, 'test');
  fake = await FakeStorage.create(home);
  ({ rid, gitDir } = await fake.createRepo({ name: 'demo', delegates: [alice.nid] }));
  commits = [];
  let parent: string | null = null;
  for (let i = 0; i < 8; i++) commits.push((parent = await fake.commit(rid, { files: { f: `v${i}\n` }, parent })));
  key = await makeRadKey(home);
  signer = await loadNodeSigner({ radHome: home, passphrase: null, agentSocket: null });
  node = await FakeNode.start(home, signer.nid);
  store = new JobStore({ radHome: home, signer, log });
  announcer = new Announcer({ socketPath: node.socketPath, nid: signer.nid, log, minBackoffMs: 20 });
  // The reporter's group exists too: the publisher must not take entries away from it.
  await new RunUpdateReader(redis, keys.runUpdates, 'r', log).ensureGroup();
  startLoop();
});
after(async () => {
  abort.abort();
  await loop;
  announcer.close();
  await store.close();
  redis.disconnect();
  await node.stop();
  await server.close();
  await rm(home, { recursive: true, force: true });
});

const c = (i: number): string => commits[i] as string;

describe('publisher', () => {
  test('success: Run with the adapter info_url when it starts, Finished Succeeded when it ends; announced; signed', async () => {
    const s = subject(c(0));
    await send(queued(s), triggered(s), running(s, 'https://adapter.example/runs/1'));
    let st = await state(c(0));
    assert.deepEqual(Object.keys(st.runs), [signer.nid]);
    assert.equal(st.runs[signer.nid]?.[s.id]?.status, 'Started');
    assert.equal(st.runs[signer.nid]?.[s.id]?.log, 'https://adapter.example/runs/1');
    await send(live(s), finished(s, 'success'));
    st = await state(c(0));
    assert.deepEqual(st.runs[signer.nid]?.[s.id]?.status, { Finished: 'Succeeded' });
    await until('the announce', () => node.announced.some((a) => a.rid === rid));
    assert.deepEqual(node.announced[0], { command: 'announceRefsFor', rid, namespaces: [signer.nid] });
    checkSigrefs(gitDir, signer.nid, key.publicKey);
    fsckStrict(gitDir);
  });

  test('the evaluated job equals radicle-job\'s state, as the independent reader computes it', async () => {
    const st = await state(c(0));
    const run = Object.values(st.runs[signer.nid] ?? {})[0];
    assert.deepEqual(Object.keys(run ?? {}).sort(), ['log', 'status', 'timestamp']);
    assert.equal(st.oid, c(0));
  });

  test('the reporter group still gets every entry the publisher acknowledged', async () => {
    const reader = new RunUpdateReader(redis, keys.runUpdates, 'r', log);
    await reader.read(100, 1000); // this consumer's pending entries first: none
    const batch = await reader.read(100, 1000);
    assert.equal(batch.updates.length, 5);
    await reader.ack(batch.ids);
    assert.equal(await redis.xlen(keys.runUpdates), 0, 'deleted once both groups acknowledged');
  });

  test('failure without an info_url links the run page under report_url; timeout and error are Failed', async () => {
    for (const result of ['failure', 'timeout', 'error'] as const) {
      const s = subject(c(1));
      await send(queued(s), running(s, null), finished(s, result));
      const run = (await state(c(1))).runs[signer.nid]?.[s.id];
      assert.deepEqual(run?.status, { Finished: 'Failed' });
      assert.equal(run?.log, `${REPORT}/runs/${s.id}.html`);
    }
  });

  test('a run cancelled before it started gets Run and Finished Failed in one change', async () => {
    const s = subject(c(2));
    await send(queued(s), finished(s, 'cancelled'));
    const st = await state(c(2));
    assert.deepEqual(st.runs[signer.nid]?.[s.id]?.status, { Finished: 'Failed' });
    const [job] = await store.jobsFor(rid, c(2));
    const root = readChange(gitDir, job?.id ?? '');
    assert.equal(root.actions.length, 3);
  });

  test('two runs of one commit are two runs of one job', async () => {
    const a = subject(c(3));
    const b = subject(c(3), { adapter: 'other' });
    await send(running(a, null), running(b, null), finished(a, 'success'), finished(b, 'failure'));
    const st = await state(c(3));
    assert.deepEqual(Object.keys(st.runs[signer.nid] ?? {}), [a.id, b.id]);
    assert.deepEqual(st.runs[signer.nid]?.[b.id]?.status, { Finished: 'Failed' });
  });

  test('a job another node created first for the commit is appended to', async () => {
    const bob = seedSigner(Buffer.alloc(32, 9));
    const bobStore = new JobStore({ radHome: home, signer: bob, log });
    const theirs = await bobStore.publish(rid, c(4), { uuid: 'aaaaaaaa-0000-4000-8000-000000000001', log: 'https://bob.example/1', finished: 'Succeeded' });
    await bobStore.close();
    const s = subject(c(4));
    await send(running(s, null), finished(s, 'success'));
    const st = await state(c(4));
    assert.equal(radicleState(home, rid, c(4)).id, theirs.jobId);
    assert.deepEqual(Object.keys(st.runs).sort(), [bob.nid, signer.nid].sort());
  });

  test('adapters with job_cobs off, a missing repository and a missing commit are acknowledged without writing', async () => {
    const before = git(gitDir, ['for-each-ref']).toString();
    const off = subject(c(5), { adapter: 'off' });
    const noRepo = subject(c(5), { repo: 'rad:z2u2CP3ZJzB7ZqE8jHrau19yjcfCQ' });
    const noCommit = subject('e'.repeat(40));
    await send(running(off, null), finished(off, 'success'), running(noRepo, null), running(noCommit, null));
    assert.equal(git(gitDir, ['for-each-ref']).toString(), before);
  });

  test('a finished run carries its signed in-toto Test Result attestation as the embed of its Finished change', async () => {
    const commit = await fake.commit(rid, { files: { '.radicle/native.yaml': 'shell: make test\n' }, parent: c(7) });
    const blob = git(gitDir, ['rev-parse', `${commit}:.radicle/native.yaml`]).toString().trim();
    const s = subject(commit);
    const sha = 'ab'.repeat(32);
    await send(running(s, null), {
      subject: s, state: 'finished', at: '2026-01-01T00:04:12.000Z', started_at: '2026-01-01T00:00:02.000Z', result: 'success', reason: null,
      log: 'all tests pass\n', report: { artifacts: [{ name: 'mytool', sha256: sha, size: 12 }], adapter_version: '0.13.0', tests: { passed: 4, failed: 0, warned: 0 } },
    });
    const reading = readJobCobs(join(home, 'storage'), rid);
    const job = reading.jobs.find((j) => j.state?.oid === commit);
    assert.ok(job, 'the job is readable');
    assert.equal(job.attestations.length, 1);
    const att = job.attestations[0]!;
    assert.deepEqual(att.violations, []);
    assert.equal(att.valid, true);
    assert.equal(att.applied, true);
    assert.equal(att.run, s.id);
    const did = didFromPublicKey(signer.publicKey);
    const env = att.envelopes[0]!;
    assert.deepEqual(env.signers, [did]);
    assert.equal(env.signatures[0]?.keyid, did);
    const p = env.statement!.predicate;
    assert.equal(p.result, 'PASSED');
    assert.deepEqual(p.configuration, [
      { name: '.radicle/native.yaml', digest: { gitBlob: blob } },
      { name: 'adapter', uri: 'https://radicle.xyz/cibq/adapter/native', annotations: { version: '0.13.0' } },
    ]);
    assert.equal(p.url, `${REPORT}/runs/${s.id}.html`);
    assert.equal(p.radicle.node, did);
    assert.equal(p.radicle.job, job.id);
    assert.equal(p.radicle.startedOn, '2026-01-01T00:00:02.000Z');
    assert.equal(p.radicle.finishedOn, '2026-01-01T00:04:12.000Z');
    assert.deepEqual(p.radicle.log, {
      name: 'log.txt', uri: `${REPORT}/runs/${s.id}.log.txt`, digest: { sha256: createHash('sha256').update('all tests pass\n').digest('hex') },
    });
    assert.deepEqual(p.radicle.artifacts, [{ name: 'mytool', digest: { sha256: sha }, annotations: { size: 12 } }]);
    // Signed by this node only: another key does not verify it.
    const line = git(gitDir, ['cat-file', 'blob', `${att.change}:embeds/attestation.intoto.jsonl`]).toString();
    assert.ok(line.endsWith('}\n') && line.split('\n').length === 2, 'one envelope, one line');
    assert.equal(verifyDsse(line.trim(), alice.did).valid, false);
    assert.equal(verifyDsse(line.trim(), did, { commit, rid }).valid, true);
    // The action JSON stays exactly radicle-job's.
    assert.deepEqual(readChange(gitDir, att.change).actions, [`{"Finished":{"reason":"Succeeded","uuid":"${s.id}"}}`]);
  });

  test('an announce that fails is retried until the node takes it', async () => {
    node.failAnnounces = 2;
    const count = node.announced.length;
    const s = subject(c(6));
    await send(running(s, null));
    await until('the retried announce', () => node.announced.length > count);
    assert.equal(node.failAnnounces, 0);
  });
});

describe('crash safety', () => {
  test('SIGKILL between the job write and the acknowledgement, then a restart: nothing duplicated, nothing missing, sigrefs valid', async () => {
    abort.abort();
    await loop;
    const s = subject(c(7));
    for (const u of [running(s, null), finished(s, 'success')]) await publishRunUpdate(redis, keys.runUpdates, u);
    const opts = { redisUrl: server.url, prefix: 'cibq-pub', radHome: home, socket: node.socketPath, reportUrl: REPORT };
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', join(import.meta.dirname, 'publisher-child.ts'), JSON.stringify({ ...opts, hangAfterCobWrite: true })], { stdio: 'inherit' });
    await until('the child to write and hang', () => existsSync(join(home, 'hung')), 30_000);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // The COB moved but the sigrefs did not: the namespace is inconsistent until the restart.
    const restarted = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', join(import.meta.dirname, 'publisher-child.ts'), JSON.stringify({ ...opts, hangAfterCobWrite: false })], { stdio: 'inherit' });
    try {
      // Polled with cibq's own reader: the audit would catch the restarted child between a COB write and its sigrefs.
      await until('the restarted publisher to finish the run', async () => {
        const [job] = await store.jobsFor(rid, c(7));
        return JSON.stringify(job?.state.runs.get(signer.nid)?.get(s.id)?.status) === '{"Finished":"Succeeded"}';
      }, 30_000);
      await until('the backlog to drain', async () => (await new RunUpdateReader(redis, keys.runUpdates, 'x', log, 'publisher').backlog()) === 0, 30_000);
    } finally {
      restarted.kill('SIGTERM');
      await new Promise((r) => restarted.once('exit', r));
    }
    const [job] = await store.jobsFor(rid, c(7));
    const tip = git(gitDir, ['rev-parse', `refs/namespaces/${signer.nid}/refs/cobs/xyz.radworks.job/${job?.id}`]).toString().trim();
    const all = git(gitDir, ['rev-list', tip, `^${c(7)}`, '^refs/rad/id']).toString().trim().split('\n');
    const actions = all.flatMap((oid) => readChange(gitDir, oid).actions);
    assert.equal(actions.filter((a) => a.includes(`"uuid":"${s.id}"`) && a.startsWith('{"Run"')).length, 1);
    assert.equal(actions.filter((a) => a.includes(`"uuid":"${s.id}"`) && a.startsWith('{"Finished"')).length, 1);
    checkSigrefs(gitDir, signer.nid, key.publicKey);
    fsckStrict(gitDir);
    assert.deepEqual((await state(c(7))).runs[signer.nid]?.[s.id]?.status, { Finished: 'Succeeded' });
    startLoop();
  });
});
