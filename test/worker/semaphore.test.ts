import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Semaphore } from '../../src/worker/semaphore.ts';

test('a semaphore hands out its slots in order and gives a freed one to the next waiter', async () => {
  const s = new Semaphore(1);
  const first = await s.acquire();
  assert.ok(first);
  let got = false;
  const second = s.acquire().then((r) => {
    got = true;
    return r;
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(got, false);
  first();
  const r2 = await second;
  assert.ok(r2);
  assert.equal(s.available, 0);
  r2();
  assert.equal(s.available, 1);
});

test('a waiter whose signal aborts gets no slot and does not take one later', async () => {
  const s = new Semaphore(1);
  const held = await s.acquire();
  const ac = new AbortController();
  const waiting = s.acquire(ac.signal);
  ac.abort('cancelled');
  assert.equal(await waiting, null);
  held?.();
  assert.equal(s.available, 1);
  assert.equal(await s.acquire(ac.signal), null);
});
