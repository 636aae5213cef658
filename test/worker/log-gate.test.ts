import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LARGE_LOG_CHARS, LogGate } from '../../src/worker/log-gate.ts';

const tick = () => new Promise((r) => setImmediate(r));

test('large log updates go one at a time, in arrival order; small ones never wait', async () => {
  const gate = new LogGate();
  const events: string[] = [];
  const releases: (() => void)[] = [];
  const large = (name: string) =>
    gate.pass(LARGE_LOG_CHARS + 1, async () => {
      events.push(`start ${name}`);
      await new Promise<void>((r) => releases.push(r));
      events.push(`end ${name}`);
      return name;
    });
  const a = large('a');
  const b = large('b');
  const c = large('c');
  assert.equal(await gate.pass(10, async () => 'small'), 'small');
  await tick();
  assert.deepEqual(events, ['start a']);
  releases.shift()!();
  assert.equal(await a, 'a');
  await tick();
  assert.deepEqual(events, ['start a', 'end a', 'start b']);
  releases.shift()!();
  await b;
  await tick();
  releases.shift()!();
  assert.equal(await c, 'c');
  assert.deepEqual(events, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
});

test('a failed large update lets the next one through', async () => {
  const gate = new LogGate();
  await assert.rejects(gate.pass(LARGE_LOG_CHARS + 1, () => Promise.reject(new Error('redis down'))));
  assert.equal(await gate.pass(LARGE_LOG_CHARS + 1, async () => 'next'), 'next');
});
