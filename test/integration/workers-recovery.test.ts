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
import { connectRedis } from '../../src/shared/redis.ts';
import { listWorkers } from '../../src/shared/worker-registry.ts';
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

  test('after drain_timeout a draining worker cancels what is still running; runs it had not started go back', async () => {
    const log = pino({ level: 'silent' });
    const worker = new RunWorker({
      config: h.config, log, redis: h.redis, keys: h.keys, processEnv: h.env, name: 'timed', adapters: ['hang', 'short'],
      connect: (name) => connectRedis(h.config.redis, log, name), drainTimeoutMs: 500, concurrency: 1,
    });
    worker.start();
    const { runId } = await h.enqueue('hang', oid(4));
    await h.waitForState(runId, 'running');
    // taken from its queue, but waiting for the worker's only slot
    const waiting = await h.enqueue('short', oid(9));
    await waitFor('the second run to be taken', async () => (await h.queues.queue('short').getJobState(waiting.runId)) === 'active');
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
