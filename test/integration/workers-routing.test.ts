/**
 * Scale-out: two `cibq worker` processes, each serving some adapters, share one Redis. Runs go only
 * to workers that serve their adapter, an adapter's concurrency cap holds across both workers, and
 * `cibq workers` lists who is live.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { listWorkers, type WorkerInfo } from '../../src/queue/worker-registry.ts';
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

const BUSY_CONFIG = ({ dir, record, fixtures, adapters }: { dir: string; record: string; fixtures: string; adapters: string }) => `
db: cibq.db
kill_grace: 300ms
log_limit: 8KiB
redis: { prefix: b }
adapters:
  x:
    command: ${fixtures}/slow.sh
    env: { RECORD_FILE: ${record} }
  y:
    command: ${fixtures}/slow.sh
    env: { RECORD_FILE: ${record}, SLEEP_SECONDS: "0.2" }
  capped:
    command: ${fixtures}/slow.sh
    env: { RECORD_FILE: ${record}, SLEEP_SECONDS: "0.3", LOCK_DIR: ${dir} }
    concurrency: 1
  env:
    command: ${adapters}/env-dump.mjs
    env: { RECORD_FILE: ${dir}/env.json }
  flood:
    command: ${adapters}/stderr-flood.mjs
    env: { FLOOD_BYTES: "200000" }
`;

describe('workers: a busy worker holds no run it cannot start', () => {
  let h: Harness;

  before(async () => {
    h = await startHarness(BUSY_CONFIG);
  });
  after(async () => h.close());

  test('a worker with all slots busy leaves a new run to an idle worker, and lists only what it runs', async () => {
    const a = h.startWorker({ name: 'A', adapters: ['x', 'y'], concurrency: 1 });
    await a.started;
    const x = await h.enqueue('x', oid(1));
    await h.waitForState(x.runId, 'running');
    const y = await h.enqueue('y', oid(2));
    // A is busy: the y run stays in its queue instead of waiting inside A.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await h.queues.queue('y').getJobState(y.runId), 'waiting');
    const listed = (await listWorkers(h.redis, h.keys)).find((w) => w.name === 'A');
    assert.deepEqual(listed?.running.map((r) => r.run_id), [x.runId], '`cibq workers` shows 1/1, not 2/1');
    const b = h.startWorker({ name: 'B', adapters: ['y'], concurrency: 1 });
    const final = await h.finalOf(y.runId);
    assert.equal(final.worker, 'B');
    assert.equal(final.result, 'success');
    assert.deepEqual(await h.finals(x.runId), [], 'the x run is still running on A');
    // Once A's slot frees up, it takes runs again.
    await b.stop(false);
    await h.cibq(['cancel', x.runId]);
    assert.equal((await h.finalOf(x.runId)).result, 'cancelled');
    const y2 = await h.enqueue('y', oid(3));
    assert.equal((await h.finalOf(y2.runId)).worker, 'A');
    await a.stop(false);
  });

  test('workers start taking runs only once the adapter concurrency cap is set in Redis', async () => {
    const runs = await Promise.all([1, 2, 3, 4].map((i) => h.enqueue('capped', oid(10 + i))));
    assert.equal(await h.queues.queue('capped').getGlobalConcurrency(), null, 'no cap before a worker starts');
    const ws = ['c1', 'c2', 'c3'].map((name) => h.startWorker({ name, adapters: ['capped'], concurrency: 2 }));
    await Promise.all(ws.map((w) => w.started));
    assert.equal(await h.queues.queue('capped').getGlobalConcurrency(), 1);
    for (const r of runs) assert.equal((await h.finalOf(r.runId)).result, 'success');
    assert.deepEqual(h.recorded().filter((l) => l[0] === 'overlap'), [], 'runs of the capped adapter overlapped');
    await Promise.all(ws.map((w) => w.stop(false)));
  });

  test('end to end: the adapter gets CIBQ_RUN_ID, CIBQ_ADAPTER and RAD_HOME but not REDIS_URL; log_limit bounds the stored log', async () => {
    const w = h.startWorker({ name: 'E', adapters: ['env', 'flood'] });
    const { runId } = await h.enqueue('env', oid(20));
    assert.equal((await h.finalOf(runId)).result, 'success');
    const dump = JSON.parse(readFileSync(path.join(h.dir, 'env.json'), 'utf8')) as { env: Record<string, string> };
    assert.equal(dump.env['CIBQ_RUN_ID'], runId);
    assert.equal(dump.env['CIBQ_ADAPTER'], 'env');
    assert.equal(dump.env['RAD_HOME'], h.config.node.radHome);
    assert.ok(h.env.REDIS_URL, 'the worker itself has REDIS_URL');
    assert.equal(dump.env['REDIS_URL'], undefined);
    assert.ok(!JSON.stringify(dump.env).includes(h.redisServer.url), 'the Redis URL reaches the adapter under no name');

    const flood = await h.enqueue('flood', oid(21));
    const final = await h.finalOf(flood.runId);
    assert.equal(final.result, 'success');
    const log = final.log ?? '';
    assert.ok(Buffer.byteLength(log) <= 8 * 1024 + 200, `stored log is ${Buffer.byteLength(log)} bytes`);
    assert.ok(log.startsWith('FLOOD-START\n') && log.endsWith('FLOOD-END\n'), 'head and tail are kept');
    assert.match(log, /bytes omitted/);
    await w.stop(false);
  });
});
