/**
 * Scale-out: two `cibq worker` processes, each serving some adapters, share one Redis. Runs go only
 * to workers that serve their adapter, an adapter's concurrency cap holds across both workers, and
 * `cibq workers` lists who is live.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { listWorkers, type WorkerInfo } from '../../src/shared/worker-registry.ts';
import { oid, startHarness, type Harness, type WorkerProcess } from '../worker/fixtures/harness.ts';

const CONFIG = ({ dir, record, fixtures }: { dir: string; record: string; fixtures: string }) => `
db: cibq.db
kill_grace: 300ms
redis: { prefix: r }
adapters:
  light:
    command: ${fixtures}/slow.sh
    env: { RECORD_FILE: ${record}, SLEEP_SECONDS: "0.1" }
  heavy:
    command: ${fixtures}/slow.sh
    env: { RECORD_FILE: ${record}, SLEEP_SECONDS: "0.1" }
  capped:
    command: ${fixtures}/slow.sh
    env: { RECORD_FILE: ${record}, SLEEP_SECONDS: "0.4", LOCK_DIR: ${dir} }
    concurrency: 1
`;

describe('workers: routing by adapter across worker processes', () => {
  let h: Harness;
  let small: WorkerProcess;
  let big: WorkerProcess;

  before(async () => {
    h = await startHarness(CONFIG);
    [small, big] = await Promise.all([
      h.spawnWorker('small', ['--adapters', 'light,capped', '--concurrency', '3']),
      h.spawnWorker('big', ['--adapters', 'heavy,capped', '--concurrency', '3']),
    ]);
  });
  after(async () => h.close());

  test('each run goes to a worker serving its adapter; a capped adapter never runs twice at once', async () => {
    const light = await Promise.all([1, 2].map((i) => h.enqueue('light', oid(100 + i))));
    const heavy = await Promise.all([1, 2].map((i) => h.enqueue('heavy', oid(200 + i))));
    const capped = await Promise.all([1, 2, 3, 4].map((i) => h.enqueue('capped', oid(300 + i))));
    for (const r of light) assert.equal((await h.finalOf(r.runId)).worker, 'small');
    for (const r of heavy) assert.equal((await h.finalOf(r.runId)).worker, 'big');
    for (const r of capped) assert.equal((await h.finalOf(r.runId)).result, 'success');
    assert.deepEqual(h.recorded().filter((l) => l[0] === 'overlap'), [], 'runs of the capped adapter overlapped');
    assert.equal(await h.queues.queue('capped').getGlobalConcurrency(), 1);
    for (const r of [...light, ...heavy, ...capped]) assert.equal((await h.finals(r.runId)).length, 1);
  });

  test('`cibq workers --json` lists both workers with their adapters; a stopped worker leaves the list', async () => {
    const r = await h.cibq(['workers', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const ws = JSON.parse(r.stdout) as WorkerInfo[];
    assert.deepEqual(ws.map((w) => [w.name, w.adapters, w.concurrency, w.state]), [
      ['big', ['heavy', 'capped'], 3, 'running'],
      ['small', ['light', 'capped'], 3, 'running'],
    ]);
    assert.ok(ws.every((w) => w.pid > 0 && w.host !== '' && /^\d+\.\d+\.\d+/.test(w.version)));
    small.proc.kill('SIGTERM');
    assert.equal(await small.exited, 0, small.stderr());
    const left = await listWorkers(h.redis, h.keys);
    assert.deepEqual(left.map((w) => w.name), ['big']);
    // runs of an adapter only the stopped worker served wait for a worker
    const { runId } = await h.enqueue('light', oid(400));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await h.queues.queue('light').getJobState(runId), 'waiting');
    assert.equal(big.proc.exitCode, null);
  });
});
