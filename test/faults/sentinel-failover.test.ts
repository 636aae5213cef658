/**
 * Fault suite: Redis with Sentinel (a primary, a replica, three sentinels on loopback ports). The
 * primary is killed mid-burst; the sentinels promote the replica and every cibq process —
 * producer, workers, reporter, dashboard — follows the new primary by itself. Nothing accepted
 * before the failover is lost; a run repeated because of the failover window shows as a further
 * attempt of the same run, never as a second record.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../helpers/redis-server.ts';
import { SENTINEL_NAME, SentinelSet } from '../helpers/redis-sentinel.ts';
import { startFaultEnv, waitFor, type FaultEnv } from './fault-env.ts';
import { checkInvariant } from './invariant.ts';

describe('faults: Sentinel failover', () => {
  let set: SentinelSet;
  let e: FaultEnv;

  before(async () => {
    set = await SentinelSet.start();
    e = await startFaultEnv({ runSeconds: 0.5, sentinel: { addresses: set.addresses, name: SENTINEL_NAME } });
    e.startStack(2);
    await e.producerReady();
    await e.workersReady(2);
  });
  after(async () => {
    await e?.close();
    await set?.close();
  });

  test('the primary killed mid-burst: every process follows the new primary, nothing is lost or recorded twice', async (t) => {
    const port = await freePort();
    e.spawn('dashboard', ['--port', String(port)]);
    const health = async () => {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null);
      return r === null ? null : { status: r.status, body: (await r.json()) as { connection: { state: string; sentinel: boolean } } };
    };
    await waitFor('the dashboard', async () => (await health())?.status === 200, 60_000);
    const before = await set.currentPrimary();
    assert.equal(before, `127.0.0.1:${set.primary.port}`);
    await e.burst(16, 120, {
      6: async () => {
        await waitFor('runs in progress', () => e.executions().size > 2, 30_000);
        await set.primary.kill();
      },
    });
    await waitFor('the sentinels to promote the replica', async () => (await set.currentPrimary()) === `127.0.0.1:${set.replica.port}`, 60_000);
    const tally = await checkInvariant(t, e, 'Sentinel failover: primary killed mid-burst', { attempts: true, timeoutMs: 120_000 });
    t.diagnostic(`failover from ${before} to ${await set.currentPrimary()}; ${tally.repeated} run(s) ran again as a further attempt`);
    const h = await waitFor('the dashboard on the new primary', async () => {
      const x = await health();
      return x?.status === 200 && x.body.connection.state === 'ready' && x;
    }, 30_000);
    assert.equal(h.body.connection.sentinel, true);
    await e.workersReady(2);
  });
});
