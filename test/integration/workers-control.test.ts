/**
 * Time limits, cancellation and superseding against a real Redis, a real worker and real adapter
 * processes; `cibq cancel` and `cibq workers` run as the operator runs them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Config } from '../../src/config/config.ts';
import { supersedeFor } from '../../src/producer/dispatch.ts';
import { cancelRun } from '../../src/queue/run-control.ts';
import type { RunQueues } from '../../src/queue/run-queues.ts';
import type { WorkerInfo } from '../../src/queue/worker-registry.ts';
import { isAlive, oid, startHarness, waitFor, type Harness } from '../worker/fixtures/harness.ts';

const CONFIG = ({ dir, record, fixtures, adapters }: { dir: string; record: string; fixtures: string; adapters: string }) => `
db: cibq.db
max_run_time: 60s
kill_grace: 300ms
redis: { prefix: t }
adapters:
  slow:
    command: ${fixtures}/slow.sh
    env: { RECORD_FILE: ${record} }
  tree:
    command: ${adapters}/spawn-grandchild.sh
    env: { PID_FILE: ${dir}/grandchild.pid }
    timeout: 1s
  idle:
    command: ${fixtures}/slow.sh
    env: { RECORD_FILE: ${record} }
`;

describe('workers: time limits, cancel, supersede', () => {
  let h: Harness;

  before(async () => {
    h = await startHarness(CONFIG);
    // No worker serves "idle": its runs stay queued.
    h.startWorker({ name: 'w1', adapters: ['slow', 'tree'], concurrency: 4 });
  });
  after(async () => h.close());

  test('a run over its time limit ends "timeout" and its whole process tree is killed', async () => {
    const { runId } = await h.enqueue('tree', oid(1));
    const final = await h.finalOf(runId);
    assert.equal(final.result, 'timeout');
    assert.match(final.reason ?? '', /exceeded time limit of 1s/);
    const grandchild = Number(readFileSync(path.join(h.dir, 'grandchild.pid'), 'utf8'));
    await waitFor('the grandchild to be gone', () => !isAlive(grandchild), 3000);
    assert.equal((await h.finals(runId)).length, 1);
  });

  test('cancelling a queued run removes it from its queue and ends it "cancelled" with who and why', async () => {
    const { runId } = await h.enqueue('idle', oid(2));
    const r = await h.cibq(['cancel', runId, '--reason', 'wrong commit']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /was queued: cancelled/);
    const final = await h.finalOf(runId);
    assert.equal(final.result, 'cancelled');
    assert.match(final.reason ?? '', /^cancelled by \S+@\S+: wrong commit$/);
    assert.equal(await h.queues.queue('idle').getJob(runId), undefined);
    const again = await h.cibq(['cancel', runId]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /has already finished \(cancelled\)/);
    assert.equal((await h.finals(runId)).length, 1);
  });

  test('cancelling an unknown run exits 1 and says so', async () => {
    const r = await h.cibq(['cancel', 'no-such-run']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no run no-such-run is queued or running/);
  });

  test('a running run is cancelled on the worker that holds it, and `cibq workers` shows it running there', async () => {
    const { runId } = await h.enqueue('slow', oid(3));
    await h.waitForState(runId, 'running');
    const [start] = await waitFor('the adapter to start', () => h.starts(runId));
    const listed = await waitFor('the worker to list the run', async () => {
      const r = await h.cibq(['workers', '--json']);
      const ws = JSON.parse(r.stdout) as WorkerInfo[];
      return ws.find((w) => w.name === 'w1' && w.running.some((x) => x.run_id === runId));
    });
    assert.deepEqual(listed.adapters, ['slow', 'tree']);
    assert.equal(listed.state, 'running');
    assert.equal(listed.concurrency, 4);
    const text = await h.cibq(['workers']);
    assert.match(text.stdout, new RegExp(`^w1 .* running {2}slow,tree {2}1/4`, 'm'));

    const r = await h.cibq(['cancel', runId, '--reason', 'not needed']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /was running: cancelled/);
    const final = await h.finalOf(runId);
    assert.equal(final.result, 'cancelled');
    assert.match(final.reason ?? '', /^cancelled by \S+: not needed$/);
    assert.equal(final.worker, 'w1');
    assert.ok(start && !isAlive(start.pid) && !isAlive(start.child), 'the adapter and its child are gone');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await h.finals(runId)).length, 1);
  });

  test('a newer commit on the same branch supersedes the queued run, not runs of other branches', async () => {
    const first = await h.enqueue('idle', oid(10), { branch: 'refs/heads/feature', supersede: true });
    const other = await h.enqueue('idle', oid(11), { branch: 'refs/heads/other', supersede: true });
    const second = await h.enqueue('idle', oid(12), { branch: 'refs/heads/feature', supersede: true });
    assert.equal(second.superseded, first.runId);
    const final = await h.finalOf(first.runId);
    assert.equal(final.result, 'cancelled');
    assert.equal(final.reason, `superseded by run ${second.runId} (commit ${oid(12).slice(0, 12)})`);
    assert.equal(await h.queues.queue('idle').getJobState(second.runId), 'waiting');
    assert.equal(await h.queues.queue('idle').getJobState(other.runId), 'waiting');
    // without supersede, a newer commit leaves the older run alone
    const third = await h.enqueue('idle', oid(13), { branch: 'refs/heads/feature', supersede: false });
    assert.equal(third.superseded, undefined);
    assert.equal(await h.queues.queue('idle').getJobState(second.runId), 'waiting');
  });

  test('a newer commit supersedes the running run of the same branch on whichever worker holds it', async () => {
    const first = await h.enqueue('slow', oid(20), { branch: 'refs/heads/busy', supersede: true });
    await h.waitForState(first.runId, 'running');
    const second = await h.enqueue('slow', oid(21), { branch: 'refs/heads/busy', supersede: true });
    const final = await h.finalOf(first.runId);
    assert.equal(final.result, 'cancelled');
    assert.match(final.reason ?? '', new RegExp(`^superseded by run ${second.runId}`));
    await h.waitForState(second.runId, 'running');
    assert.equal((await h.finals(first.runId)).length, 1);
    assert.equal((await h.finals(second.runId)).length, 0);
  });

  test('a superseded or cancelled commit that becomes the tip again (force-push back) runs again', async () => {
    const a = await h.enqueue('slow', oid(40), { branch: 'refs/heads/fp', supersede: true });
    await h.waitForState(a.runId, 'running');
    const b = await h.enqueue('slow', oid(41), { branch: 'refs/heads/fp', supersede: true });
    assert.equal((await h.finalOf(a.runId)).result, 'cancelled');
    const again = await h.enqueue('slow', oid(40), { branch: 'refs/heads/fp', supersede: true });
    assert.equal(again.status, 'enqueued');
    assert.notEqual(again.runId, a.runId, 'a new run, not the finished one');
    assert.equal(again.superseded, b.runId);
    await h.waitForState(again.runId, 'running');
    // While it is queued or running, the same commit announced again is still a duplicate.
    assert.deepEqual(await h.enqueue('slow', oid(40), { branch: 'refs/heads/fp', supersede: true }), { status: 'duplicate', runId: again.runId });
    // A queued run cancelled with `cibq cancel` can run again too.
    const q = await h.enqueue('idle', oid(42));
    assert.equal((await h.cibq(['cancel', q.runId])).code, 0);
    const q2 = await h.enqueue('idle', oid(42));
    assert.equal(q2.status, 'enqueued');
    assert.notEqual(q2.runId, q.runId);
    assert.equal(await h.queues.queue('idle').getJobState(q2.runId), 'waiting');
    // A run that finished otherwise keeps its mark.
    assert.equal((await h.enqueue('tree', oid(1))).status, 'duplicate');
    assert.equal((await h.cibq(['cancel', again.runId])).code, 0);
    assert.equal((await h.cibq(['cancel', q2.runId])).code, 0);
  });

  test('a crash while cancelling a queued run leaves it finished "cancelled"; the worker that picks it up skips it', async () => {
    const { runId } = await h.enqueue('idle', oid(50));
    // The process dies between publishing the result and removing the job.
    const crashing = {
      queue: (adapter: string) =>
        new Proxy(h.queues.queue(adapter), {
          get(target, key) {
            if (key === 'remove') return () => Promise.reject(new Error('crashed'));
            const v: unknown = Reflect.get(target, key, target);
            return typeof v === 'function' ? v.bind(target) : v;
          },
        }),
    } as unknown as RunQueues;
    const deps = { queues: crashing, redis: h.redis, keys: h.keys, log: h.log, now: () => new Date() };
    await assert.rejects(cancelRun(deps, ['idle'], runId, 'not wanted'), /crashed/);
    assert.equal(await h.queues.queue('idle').getJobState(runId), 'waiting');
    assert.equal((await h.finalOf(runId)).result, 'cancelled');
    // Runs left queued by earlier tests are removed first, so the new worker only sees this one.
    for (const j of await h.queues.queue('idle').getWaiting()) if (j.id !== runId) await j.remove();
    const w = h.startWorker({ name: 'idler', adapters: ['idle'] });
    await waitFor('the run to be done with', async () => (await h.queues.queue('idle').getJobState(runId)) === 'completed');
    assert.deepEqual(h.starts(runId), [], 'its adapter never started');
    assert.equal((await h.finals(runId)).length, 1);
    await w.stop(true);
  });

  test('supersede comes from the trigger, else the adapter, else the global setting', () => {
    const cfg = {
      supersede: false,
      adapters: { a: { supersede: true }, b: { supersede: null } },
      triggers: [{ adapter: 'a', filters: [], supersede: false }, { adapter: 'b', filters: [], supersede: null }],
    } as unknown as Pick<Config, 'triggers' | 'adapters' | 'supersede'>;
    const allowed = { allowed: true } as never;
    const denied = { allowed: false } as never;
    assert.equal(supersedeFor(cfg, 'a', [{ source: 'triggers[0]', adapter: 'a', decision: allowed }]), false);
    assert.equal(supersedeFor(cfg, 'a', [{ source: 'filters', adapter: 'a', decision: allowed }]), true);
    assert.equal(supersedeFor(cfg, 'a', [{ source: 'triggers[0]', adapter: 'a', decision: denied }, { source: 'filters', adapter: 'a', decision: allowed }]), true);
    assert.equal(supersedeFor(cfg, 'b', [{ source: 'triggers[1]', adapter: 'b', decision: allowed }]), false);
    assert.equal(supersedeFor({ ...cfg, supersede: true }, 'b', [{ source: 'triggers[1]', adapter: 'b', decision: allowed }]), true);
  });
});
