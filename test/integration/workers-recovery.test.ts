/**
 * Workers stop and fail: a drain lets a running run finish, a second signal cancels it; a worker
 * killed with SIGKILL mid-run leaves no adapter behind and its run is finished exactly once by
 * another worker (or ends "error" after max_attempts); Redis going away for longer than the job
 * lock loses no run and reports none twice. Real `cibq worker` processes, short job locks.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { connectRedis } from '../../src/queue/redis.ts';
import { RunSubject } from '../../src/model/run.ts';
import { listWorkers } from '../../src/queue/worker-registry.ts';
import { RunWorker } from '../../src/worker/run-worker.ts';
import { isAlive, oid, startHarness, waitFor, type Harness, type WorkerProcess } from '../worker/fixtures/harness.ts';

const CONFIG = ({ record, fixtures }: { record: string; fixtures: string }) => `
db: cibq.db
kill_grace: 300ms
drain_timeout: 30s
max_attempts: 2
redis: { prefix: k }
adapters:
  short:
    command: ${fixtures}/slow.sh
    env: { RECORD_FILE: ${record}, SLEEP_SECONDS: "1.5" }
  hang:
    command: ${fixtures}/slow.sh
    env: { RECORD_FILE: ${record} }
`;

const LOCK = ['--lock-duration', '1s'];

/** The worker that published the run's `running` update for its latest attempt. */
async function holder(h: Harness, runId: string, attempts: number): Promise<string> {
  const u = await waitFor(`attempt ${attempts} of ${runId} to run`, async () =>
    (await h.updates(runId)).find((x) => x.state === 'running' && x.attempts === attempts), 20_000);
  return u.worker as string;
}

describe('workers: drain and crash recovery', () => {
  let h: Harness;

  before(async () => {
    h = await startHarness(CONFIG);
  });
  after(async () => h.close());

  test('SIGTERM drains: the running run finishes, the worker exits 0 and leaves the registry', async () => {
    const w = await h.spawnWorker('drainer', LOCK);
    const { runId } = await h.enqueue('short', oid(1));
    await h.waitForState(runId, 'running');
    w.proc.kill('SIGTERM');
    await waitFor('the worker to say it is draining', async () =>
      (await listWorkers(h.redis, h.keys)).find((x) => x.name === 'drainer' && x.state === 'draining'));
    const queued = await h.enqueue('short', oid(2)); // a draining worker takes no new run
    assert.equal(await w.exited, 0, w.stderr());
    const final = await h.finalOf(runId);
    assert.equal(final.result, 'success');
    assert.equal(final.worker, 'drainer');
    assert.equal(await h.queues.queue('short').getJobState(queued.runId), 'waiting');
    assert.deepEqual((await listWorkers(h.redis, h.keys)).map((x) => x.name), []);
    await h.queues.queue('short').remove(queued.runId);
  });

  test('a second SIGTERM cancels the running run at once and kills its adapter', async () => {
    const w = await h.spawnWorker('impatient', LOCK);
    const { runId } = await h.enqueue('hang', oid(3));
    await h.waitForState(runId, 'running');
    const [start] = await waitFor('the adapter to start', () => h.starts(runId));
    w.proc.kill('SIGTERM');
    await waitFor('the worker to be draining', async () =>
      (await listWorkers(h.redis, h.keys)).find((x) => x.name === 'impatient' && x.state === 'draining'));
    w.proc.kill('SIGTERM');
    assert.equal(await w.exited, 130, 'a forced stop exits 130, not 0');
    const final = await h.finalOf(runId);
    assert.equal(final.result, 'cancelled');
    assert.equal(final.reason, 'worker impatient was stopped before the run finished');
    assert.ok(start && !isAlive(start.pid) && !isAlive(start.child));
  });

  test('after drain_timeout a draining worker cancels what is still running; a run it has no slot for stays queued', async () => {
    const log = pino({ level: 'silent' });
    const worker = new RunWorker({
      config: h.config, log, redis: h.redis, keys: h.keys, processEnv: h.env, name: 'timed', adapters: ['hang', 'short'],
      connect: (name) => connectRedis(h.config.redis, log, name), drainTimeoutMs: 500, concurrency: 1,
    });
    await worker.start();
    const { runId } = await h.enqueue('hang', oid(4));
    await h.waitForState(runId, 'running');
    // The worker's only slot is busy: the run is not taken (or given back at once).
    const waiting = await h.enqueue('short', oid(9));
    await sleep(500);
    assert.equal(await h.queues.queue('short').getJobState(waiting.runId), 'waiting');
    await worker.close();
    const final = await h.finalOf(runId);
    assert.equal(final.result, 'cancelled');
    assert.equal(final.reason, 'worker timed shut down: the run did not finish within drain_timeout (500ms)');
    assert.equal(await h.queues.queue('short').getJobState(waiting.runId), 'waiting');
    assert.deepEqual(await h.updates(waiting.runId).then((us) => us.map((u) => u.state)), ['queued']);
    await h.queues.queue('short').remove(waiting.runId);
  });

  test('a worker killed mid-run: its adapter dies, another worker finishes the run once, attempts 2', async () => {
    const ws = await Promise.all(['k1', 'k2', 'k3'].map((n) => h.spawnWorker(n, LOCK)));
    const byName = new Map<string, WorkerProcess>(ws.map((w) => [w.name, w]));
    const { runId } = await h.enqueue('short', oid(5));
    const first = await holder(h, runId, 1);
    const [start] = await waitFor('the adapter to start', () => h.starts(runId));
    byName.get(first)?.proc.kill('SIGKILL');
    await waitFor('the orphaned adapter to be killed', () => start && !isAlive(start.pid) && !isAlive(start.child), 5000);
    const final = await h.finalOf(runId);
    assert.equal(final.result, 'success');
    assert.equal(final.attempts, 2);
    assert.notEqual(final.worker, first);
    byName.delete(first);
    await sleep(1500);
    assert.equal((await h.finals(runId)).length, 1);

    // Lost on every attempt: after max_attempts (2) the run ends "error", saying why.
    const lost = await h.enqueue('hang', oid(6));
    const a1 = await holder(h, lost.runId, 1);
    byName.get(a1)?.proc.kill('SIGKILL');
    byName.delete(a1);
    const a2 = await holder(h, lost.runId, 2);
    assert.notEqual(a2, a1);
    byName.get(a2)?.proc.kill('SIGKILL');
    byName.delete(a2);
    await h.spawnWorker('k4', LOCK); // the next worker to come finds the run's attempts used up
    const end = await h.finalOf(lost.runId);
    assert.equal(end.result, 'error');
    assert.equal(end.attempts, 2);
    assert.match(end.reason ?? '', /^worker lost: the run was started 2 times and each time its worker stopped/);
    await sleep(500);
    assert.equal((await h.finals(lost.runId)).length, 1);
    for (const s of h.starts(lost.runId)) await waitFor('adapters of lost attempts to be gone', () => !isAlive(s.pid) && !isAlive(s.child), 5000);
  });

  test('Redis down for longer than the job lock: the worker reconnects, no run is lost or reported twice', async () => {
    const w = await h.spawnWorker('steady', LOCK);
    const { runId } = await h.enqueue('short', oid(7));
    await h.waitForState(runId, 'running');
    await h.redisServer.stop();
    await sleep(2500);
    await h.redisServer.restart();
    const final = await h.finalOf(runId, 30_000);
    assert.equal(final.result, 'success');
    const after = await h.enqueue('short', oid(8));
    assert.equal((await h.finalOf(after.runId, 30_000)).result, 'success');
    await sleep(1500);
    assert.equal((await h.finals(runId)).length, 1);
    assert.equal((await h.finals(after.runId)).length, 1);
    assert.equal(w.proc.exitCode, null);
  });
});

describe('workers: the same worker gets its run back after losing the lock', () => {
  let h: Harness;

  before(async () => {
    h = await startHarness(({ record, adapters }) => `
db: cibq.db
max_attempts: 2
redis: { prefix: s }
adapters:
  stubborn:
    command: ${adapters}/stubborn.mjs
    env: { RECORD_FILE: ${record}, SECS: "5" }
    kill_grace: 3s
`);
  });
  after(async () => h.close());

  test('the adapter ignores SIGTERM: the next attempt starts only once the first is gone, and the run is reported once', async () => {
    // With a free slot, the worker takes the run back while its first attempt is still being killed.
    const w = await h.spawnWorker('solo', [...LOCK, '--concurrency', '2']);
    const { runId } = await h.enqueue('stubborn', oid(1));
    await h.waitForState(runId, 'running');
    await h.redisServer.stop(); // longer than the 1s lock, shorter than the 3s kill grace
    await sleep(2500);
    await h.redisServer.restart();
    const final = await h.finalOf(runId, 40_000);
    assert.equal(final.result, 'success', final.reason ?? '');
    assert.equal(final.worker, 'solo');
    await sleep(1500);
    assert.equal((await h.finals(runId)).length, 1);
    const rec = h.recorded();
    assert.equal(rec.filter((l) => l[0] === 'start').length, 2, 'the first attempt was stopped and the run started again');
    assert.deepEqual(rec.filter((l) => l[0] === 'overlap'), [], 'two adapters of the run were alive at once');
    assert.match(w.stderr(), /an earlier attempt of the run is still stopping here/);
    w.proc.kill('SIGTERM');
    assert.equal(await w.exited, 0, w.stderr());
  });
});

describe('workers: unexpected failures still end the run', () => {
  let h: Harness;
  const log = pino({ level: 'silent' });
  const SECRET = 'hunter2-s3cr3t';

  before(async () => {
    h = await startHarness(({ record, fixtures }) => `
db: cibq.db
redis: { prefix: u }
adapters:
  a:
    command: ${fixtures}/slow.sh
    env: { RECORD_FILE: ${record}, SLEEP_SECONDS: "0.1" }
    sensitive_env: { TOKEN: ${SECRET} }
`);
  });
  after(async () => h.close());

  test('an error inside the worker ends the run "error" with the redacted message, not stuck running', async () => {
    // Reading the environment for the adapter throws, after `triggered` was published.
    const processEnv = new Proxy({}, {
      ownKeys() {
        throw new Error(`environment unreadable near ${SECRET}`);
      },
    });
    const worker = new RunWorker({
      config: h.config, log, redis: h.redis, keys: h.keys, processEnv, name: 'broken', connect: (name) => connectRedis(h.config.redis, log, name),
    });
    await worker.start();
    const { runId } = await h.enqueue('a', oid(1));
    const final = await h.finalOf(runId);
    assert.equal(final.result, 'error');
    assert.equal(final.reason, 'worker broken failed while running the run: environment unreadable near ***');
    assert.equal(final.worker, 'broken');
    await waitFor('the job to fail', async () => (await h.queues.queue('a').getJobState(runId)) === 'failed');
    assert.deepEqual(h.starts(runId), [], 'the adapter never started');
    await worker.close();
  });

  test('malformed job data fails the job and, when it names its run, finishes that run "error"', async () => {
    const worker = new RunWorker({
      config: h.config, log, redis: h.redis, keys: h.keys, processEnv: h.env, name: 'strict', connect: (name) => connectRedis(h.config.redis, log, name),
    });
    await worker.start();
    const subject: RunSubject = {
      id: '11111111-2222-5333-8444-555555555555', adapter: 'a', repo: 'rad:z3uBEubocQ9kJANPvMAo6z5ZhhaFh', repo_name: 'acme', event_type: 'push',
      ref: 'refs/heads/main', patch: null, title: null, author: null, commit: oid(2), private: false, queued_at: new Date().toISOString(),
    };
    RunSubject.parse(subject);
    await h.queues.queue('a').add('run', { subject, trigger: { request: 'nonsense' } }, { jobId: subject.id });
    const final = await h.finalOf(subject.id);
    assert.equal(final.result, 'error');
    assert.match(final.reason ?? '', /^the run's job data is malformed \(trigger/);
    await waitFor('the job to fail', async () => (await h.queues.queue('a').getJobState(subject.id)) === 'failed');
    // Data that names no run just fails.
    await h.queues.queue('a').add('run', { nothing: true }, { jobId: 'junk' });
    await waitFor('the junk job to fail', async () => (await h.queues.queue('a').getJobState('junk')) === 'failed');
    assert.deepEqual(h.starts(subject.id), []);
    await worker.close();
  });
});
