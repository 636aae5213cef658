import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Announcer } from '../../src/node/announcer.ts';
import { FakeNode } from '../fixtures/fake-node.ts';

const log = pino({ level: 'silent' });
const NID = 'z6MkrLMMsiPWUcNPHcRajuMi9mDfYckSoJyPwwnknocNYPm7';
const RID = 'rad:z3gqcJUoA1n9HaHKufZs5FCSGazv5';

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('announces with announceRefsFor for this node\'s namespace', async () => {
  const home = await mkdtemp(join(tmpdir(), 'ann-'));
  const node = await FakeNode.start(home, NID);
  const a = new Announcer({ socketPath: node.socketPath, nid: NID, log });
  try {
    a.announce(RID);
    await until(() => node.announced.length === 1);
    assert.deepEqual(node.announced[0], { command: 'announceRefsFor', rid: RID, namespaces: [NID] });
    await until(() => a.pending === 0);
  } finally {
    a.close();
    await node.stop();
    await rm(home, { recursive: true, force: true });
  }
});

test('an older node without announceRefsFor gets announceRefs', async () => {
  const home = await mkdtemp(join(tmpdir(), 'ann-'));
  const node = await FakeNode.start(home, NID);
  node.supportsAnnounceRefsFor = false;
  const a = new Announcer({ socketPath: node.socketPath, nid: NID, log });
  try {
    a.announce(RID);
    await until(() => node.announced.length === 1);
    assert.deepEqual(node.announced[0], { command: 'announceRefs', rid: RID });
  } finally {
    a.close();
    await node.stop();
    await rm(home, { recursive: true, force: true });
  }
});

test('a failing announce, or a node that is down, is retried with backoff until it succeeds; pending counts it', async () => {
  const home = await mkdtemp(join(tmpdir(), 'ann-'));
  const node = await FakeNode.start(home, NID);
  node.failAnnounces = 2;
  const seen: number[] = [];
  const a = new Announcer({ socketPath: node.socketPath, nid: NID, log, minBackoffMs: 20, onPending: (n) => seen.push(n) });
  try {
    a.announce(RID);
    assert.equal(a.pending, 1);
    await until(() => node.announced.length === 1);
    const attempts = node.commands.filter((c) => (c as { command: string }).command === 'announceRefsFor').length;
    assert.equal(attempts, 3);
    await until(() => a.pending === 0);
    assert.deepEqual(seen, [1, 0]);
    await node.stop();
    a.announce(RID);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(a.pending, 1, 'still pending while the node is down');
    await node.start();
    await until(() => node.announced.length === 2, 15_000);
    await until(() => a.pending === 0);
  } finally {
    a.close();
    await node.stop();
    await rm(home, { recursive: true, force: true });
  }
});
