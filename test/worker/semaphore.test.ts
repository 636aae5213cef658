import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Semaphore } from '../../src/worker/semaphore.ts';

test('a semaphore hands out its slots until none is free, and a released slot can be taken again', () => {
  const seen: number[] = [];
  const s = new Semaphore(2, (n) => seen.push(n));
  const a = s.tryAcquire();
  const b = s.tryAcquire();
  assert.ok(a && b);
  assert.equal(s.tryAcquire(), null, 'no slot free: nothing is handed out, nothing waits');
  assert.equal(s.available, 0);
  a();
  a(); // releasing twice frees one slot only
  assert.equal(s.available, 1);
  const c = s.tryAcquire();
  assert.ok(c);
  assert.deepEqual(seen, [1, 0, 1, 0], 'every change is reported with the slots left');
});
