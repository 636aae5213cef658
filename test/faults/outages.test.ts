/**
 * Fault suite: the infrastructure goes away during a burst of pushes. Redis stops for 2 s and for
 * 60 s and comes back with its data (append-only file): producer, workers and reporter reconnect
 * by themselves; runs whose job lock expired meanwhile run again as a further attempt. The node
 * restarts three times, with pushes made while it is away: the producer reconnects and its
 * catch-up finds them. Every push ends in exactly one finished run record.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { startFaultEnv, type FaultEnv } from './fault-env.ts';
import { checkInvariant } from './invariant.ts';

describe('faults: Redis and the node go away during a burst', () => {
  let e: FaultEnv;

  before(async () => {
    e = await startFaultEnv({ runSeconds: 0.5 });
    e.startStack(2);
    await e.producerReady();
    await e.workersReady(2);
  });
  after(async () => e?.close());

  for (const seconds of [2, 60]) {
    test(`Redis stopped for ${seconds} s during a burst, then restarted with its data`, async (t) => {
      const server = e.server;
      if (server === null) throw new Error('the environment has its own Redis');
      const pushes = e.pushes.length;
      let outage: Promise<void> = Promise.resolve();
      await e.burst(10, 150, {
        3: async () => {
          outage = (async () => {
            await server.stop();
            await sleep(seconds * 1000);
            await server.restart();
          })();
        },
      });
      await outage;
      await checkInvariant(t, e, `Redis stopped for ${seconds} s during a burst`, { pushes: e.pushes.slice(pushes), attempts: true });
    });
  }

  test('the node restarted three times during a burst, with pushes made while it is away', async (t) => {
    const pushes = e.pushes.length;
    const restart = async () => {
      await e.node.stop();
      await e.push(); // written to storage; the node is not there to announce it to anyone
      await e.push();
      await sleep(300);
      await e.node.start();
      await e.node.waitForSubscribers(1, 60_000);
    };
    await e.burst(12, 100, { 2: restart, 6: restart, 10: restart });
    await checkInvariant(t, e, 'the node restarted 3 times during a burst', { pushes: e.pushes.slice(pushes) });
  });
});
