/**
 * NodeSubscription against a real Unix socket server: reconnect backoff (growth, and reset only
 * after a connection proved itself), over-long lines, a stale socket file, an error reply, and the
 * catch-up callback coming before any event of the connection.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { NodeEvent } from '../../src/node/node-event.ts';
import { NodeSubscription, type SubscriptionOptions } from '../../src/node/subscription.ts';
import { waitFor } from '../helpers/pipeline.ts';

const RID = 'rad:z2e6URdt1we1iG1BCVqtx8QVgsX4a';
const EVENT = { type: 'canonicalRefUpdated', rid: RID, refname: 'refs/heads/main', target: 'a'.repeat(40) };

type LogLine = { msg: string; level?: number; delayMs?: number; code?: string; reason?: string; waitedMs?: number };

function harness(socketPath: string, opts: Partial<SubscriptionOptions> = {}) {
  const logs: LogLine[] = [];
  const order: string[] = [];
  const events: NodeEvent[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) logs.push(JSON.parse(l) as LogLine);
      cb();
    },
  });
  const sub = new NodeSubscription({
    socketPath,
    log: pino({ level: 'debug' }, stream),
    onConnected: () => order.push('connected'),
    onEvent: (e) => {
      order.push('event');
      events.push(e);
    },
    minBackoffMs: 10,
    maxBackoffMs: 80,
    ...opts,
  });
  const delays = () => logs.filter((l) => l.msg === 'reconnecting to node').map((l) => l.delayMs);
  return { sub, logs, order, events, delays };
}

/** A server whose handler gets each connection after its first (subscribe) line. */
async function server(socketPath: string, onSubscribe: (s: net.Socket) => void): Promise<{ close: () => Promise<void>; connections: () => number }> {
  rmSync(socketPath, { force: true });
  let n = 0;
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    n++;
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      if (!buf.includes('\n')) return;
      s.off('data', onData);
      onSubscribe(s);
    };
    s.on('data', onData);
  });
  await new Promise<void>((resolve) => srv.listen(socketPath, resolve));
  return {
    connections: () => n,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    },
  };
}

describe('NodeSubscription', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ns-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a node that accepts and drops us at once: the backoff keeps growing to its cap', async () => {
    const sock = path.join(dir, 'drop.sock');
    const srv = await server(sock, (s) => s.destroy());
    const h = harness(sock);
    h.sub.start();
    await waitFor('six reconnects', () => h.delays().length >= 6);
    await h.sub.close();
    await srv.close();
    assert.deepEqual(h.delays().slice(0, 6), [10, 20, 40, 80, 80, 80]);
    assert.equal(h.order.filter((o) => o === 'connected').length >= 5, true);
  });

  test('the backoff resets after a connection lived a while or delivered an event', async () => {
    const sock = path.join(dir, 'reset.sock');
    let i = 0;
    const srv = await server(sock, (s) => {
      i++;
      if (i === 3) s.end(`${JSON.stringify(EVENT)}\n`); // delivers an event, then drops
      else if (i === 6) setTimeout(() => s.destroy(), 150); // lives past stableAfterMs
      else s.destroy();
    });
    const h = harness(sock, { stableAfterMs: 60 });
    h.sub.start();
    await waitFor('seven reconnects', () => h.delays().length >= 7);
    await h.sub.close();
    await srv.close();
    assert.deepEqual(h.delays().slice(0, 7), [10, 20, 10, 20, 40, 10, 20]);
    assert.equal(h.events.length, 1);
  });

  test('the catch-up callback comes before events the node sends right after subscribe', async () => {
    const sock = path.join(dir, 'order.sock');
    const srv = await server(sock, (s) => s.write(`${JSON.stringify(EVENT)}\n${JSON.stringify(EVENT)}\n`));
    const h = harness(sock);
    h.sub.start();
    await waitFor('two events', () => h.events.length >= 2);
    await h.sub.close();
    await srv.close();
    assert.deepEqual(h.order, ['connected', 'event', 'event']);
    assert.deepEqual(h.events[0], EVENT);
  });

  test('an over-long line is skipped and the next line is read', async () => {
    const sock = path.join(dir, 'long.sock');
    const srv = await server(sock, (s) => {
      s.write(`{"type":"refsFetched","junk":"${'x'.repeat(3000)}`);
      setTimeout(() => s.write(`${'y'.repeat(3000)}"}\n${JSON.stringify(EVENT)}\n`), 30);
    });
    const h = harness(sock, { maxLineBytes: 1024 });
    h.sub.start();
    await waitFor('the event after the long line', () => h.events.length >= 1);
    await h.sub.close();
    await srv.close();
    assert.deepEqual(h.events, [EVENT]);
    assert.ok(h.logs.some((l) => l.msg === 'node sent an over-long line; skipping it'));
    assert.ok(!h.logs.some((l) => l.msg === 'skipping unusable line from node'), 'the tail of the long line is not parsed');
  });

  test('a stale socket file (ECONNREFUSED) is retried until a node listens there', async () => {
    const sock = path.join(dir, 'stale.sock');
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)}); setInterval(() => {}, 1000)`]);
    await waitFor('socket file', () => existsSync(sock));
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    assert.ok(existsSync(sock), 'the killed listener left its socket file behind');
    const h = harness(sock);
    h.sub.start();
    await waitFor('ECONNREFUSED logged', () => h.logs.filter((l) => l.code === 'ECONNREFUSED').length >= 2);
    assert.equal(h.order.length, 0);
    const srv = await server(sock, (s) => s.write(`${JSON.stringify(EVENT)}\n`));
    await waitFor('event after the node came back', () => h.events.length >= 1);
    await h.sub.close();
    await srv.close();
    assert.deepEqual(h.order, ['connected', 'event']);
    assert.ok(h.logs.some((l) => l.msg === 'node is not running' && l.code === 'ECONNREFUSED'));
  });

  test('an {"error":…} reply is logged, delivers nothing, and the subscription reconnects', async () => {
    const sock = path.join(dir, 'err.sock');
    const srv = await server(sock, (s) => s.end('{"error":"(de)serialization failed: unknown variant `subscribe`"}\n'));
    const h = harness(sock);
    h.sub.start();
    await waitFor('a reconnect after the error', () => srv.connections() >= 2);
    await h.sub.close();
    await srv.close();
    assert.equal(h.events.length, 0);
    const warn = h.logs.find((l) => l.msg === 'skipping unusable line from node');
    assert.match(warn?.reason ?? '', /^node error: \(de\)serialization failed: unknown variant/);
  });

  test('a missing node is explained once, readably, and then waited for quietly until it comes', async () => {
    const radHome = path.join(dir, 'no-such-home');
    const sock = path.join(radHome, 'node', 'control.sock');
    const h = harness(sock, { radHome });
    h.sub.start();
    await waitFor('a dozen attempts', () => h.logs.filter((l) => l.msg === 'node is not running').length >= 12);
    const warnings = () => h.logs.filter((l) => (l.level ?? 0) >= 40);
    assert.deepEqual(warnings().map((l) => l.msg), [
      `no Radicle node here: its home ${radHome} does not exist. Install Radicle and start the node (\`rad node start\`), or set RAD_HOME (or node.rad_home in the config) to the node's home; cibq keeps waiting and connects when the node is there`,
    ]);
    // The home appears, the socket not yet: said once more, because what is missing changed.
    mkdirSync(path.join(radHome, 'node'), { recursive: true });
    await waitFor('the new cause said', () => warnings().length === 2, 10_000);
    assert.match(warnings()[1]?.msg ?? '', new RegExp(`^the Radicle node is not running: there is no control socket at ${sock}\\. Start the node`));
    const attempts = h.logs.filter((l) => l.msg === 'node is not running').length;
    await waitFor('more attempts', () => h.logs.filter((l) => l.msg === 'node is not running').length >= attempts + 5);
    assert.equal(warnings().length, 2, 'no repetition while the cause stays the same');
    const srv = await server(sock, (s) => s.write(`${JSON.stringify(EVENT)}\n`));
    await waitFor('the event once the node is there', () => h.events.length >= 1);
    await h.sub.close();
    await srv.close();
    const connected = h.logs.find((l) => l.msg === 'subscribed to node events');
    assert.ok((connected?.waitedMs ?? 0) > 0, 'how long it waited is logged on connecting');
  });
});
