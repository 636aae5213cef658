/**
 * Fault suite: cibq's own processes die at the worst moment (SIGKILL, no cleanup) — a worker
 * mid-run, the producer mid-burst, the reporter with results pending, `cibq up` as a whole — and
 * are started again. Every push ends in exactly one finished run record.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { listWorkers } from '../../src/queue/worker-registry.ts';
import { startFaultEnv, waitFor, type FaultEnv, type Proc } from './fault-env.ts';
import { checkInvariant } from './invariant.ts';

describe('faults: cibq processes killed with SIGKILL', () => {
  let e: FaultEnv;
  let producer: Proc;
  let reporter: Proc;
  const workers = new Map<string, Proc>();

  before(async () => {
    e = await startFaultEnv({ runSeconds: 1 });
    const s = e.startStack(2);
    producer = s.producer;
    reporter = s.reporter;
    for (const [i, w] of s.workers.entries()) workers.set(`w${i + 2}`, w);
    await e.producerReady();
    await e.workersReady(2);
  });
  after(async () => e?.close());

  test('a worker killed mid-run: its runs are taken over once its lock expires', async (t) => {
    const c = e.client();
    const pushes = e.pushes.length;
    const burst = e.burst(6, 100);
    const victim = await waitFor('a worker with a run in progress', async () =>
      (await listWorkers(c, e.keys)).find((w) => w.running.length > 0 && workers.has(w.name)), 30_000);
    await e.kill(workers.get(victim.name) as Proc);
    workers.delete(victim.name);
    await burst;
    await checkInvariant(t, e, 'SIGKILL a worker mid-run', { pushes: e.pushes.slice(pushes) });
    const taken = new Set(victim.running.map((r) => r.run_id));
    const over = e.runs().filter((r) => taken.has(r.id));
    assert.ok(over.length > 0 && over.every((r) => r.attempts >= 2), 'the runs of the killed worker show a second attempt');
  });

  test('the producer killed mid-burst: pushes announced while it was gone are found by its catch-up', async (t) => {
    const pushes = e.pushes.length;
    await e.burst(12, 60, {
      4: async () => void (await e.kill(producer)),
      8: async () => {
        producer = e.spawn('producer');
        await e.node.waitForSubscribers(1, 60_000);
      },
    });
    await checkInvariant(t, e, 'SIGKILL the producer mid-burst', { pushes: e.pushes.slice(pushes) });
  });

  test('the reporter killed with results pending: they are recorded once it is back', async (t) => {
    const pushes = e.pushes.length;
    await e.burst(3, 50);
    await waitFor('a run to start', () => e.executions().size > pushes);
    await e.kill(reporter);
    await e.burst(5, 50);
    // Results pile up in Redis meanwhile.
    await waitFor('runs finished while the reporter is down', async () => (await e.client().xlen(e.keys.runUpdates)) > 8, 30_000);
    reporter = e.spawn('reporter');
    await checkInvariant(t, e, 'SIGKILL the reporter with results pending', { pushes: e.pushes.slice(pushes) });
  });

  test('`cibq up` killed as a whole mid-burst and started again', async (t) => {
    await Promise.all([producer, reporter, ...workers.values()].map((p) => e.kill(p, 'SIGTERM')));
    workers.clear();
    let up = e.spawn('up', ['--name', 'up-1']);
    await e.node.waitForSubscribers(1, 60_000);
    const pushes = e.pushes.length;
    await e.burst(10, 80, {
      5: async () => {
        await waitFor('a run in progress', () => e.executions().size > pushes, 30_000);
        await e.kill(up);
        up = e.spawn('up', ['--name', 'up-2']);
        await e.node.waitForSubscribers(1, 60_000);
      },
    });
    await checkInvariant(t, e, 'SIGKILL `cibq up` mid-burst, then start it again', { pushes: e.pushes.slice(pushes) });
  });
});
