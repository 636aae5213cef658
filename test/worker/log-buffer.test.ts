import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogBuffer } from '../../src/worker/log-buffer.ts';

const MARKER = /\n… (\d+) bytes omitted …\n/;

test('a log within the limit is kept whole, however it was chunked', () => {
  const log = new LogBuffer(1000);
  const text = 'line one\nline two ü\n'.repeat(40).slice(0, 990);
  for (let i = 0; i < text.length; i += 7) log.append(text.slice(i, i + 7));
  assert.ok(Buffer.byteLength(text) <= 1000);
  assert.equal(log.toString(), text);
  assert.equal(log.totalBytes, Buffer.byteLength(text));
});

test('a log exactly at the limit has no marker; one byte more has one', () => {
  const at = new LogBuffer(500);
  at.append('a'.repeat(500));
  assert.equal(at.toString(), 'a'.repeat(500));
  const over = new LogBuffer(500);
  over.append('a'.repeat(501));
  assert.match(over.toString(), MARKER);
});

test('a long log keeps its head and tail, within the limit, and says how much was left out', () => {
  const limit = 4096;
  const log = new LogBuffer(limit);
  log.append('START\n');
  for (let i = 0; i < 10_000; i++) log.append(`middle line ${i}\n`);
  log.append('END\n');
  const out = log.toString();
  assert.ok(Buffer.byteLength(out) <= limit, `${Buffer.byteLength(out)} bytes`);
  assert.ok(out.startsWith('START\nmiddle line 0\n'));
  assert.ok(out.endsWith('middle line 9999\nEND\n'));
  const m = MARKER.exec(out);
  assert.ok(m);
  assert.equal(Number(m[1]) + Buffer.byteLength(out) - Buffer.byteLength(m[0]), log.totalBytes);
});

test('one huge chunk is cut the same way as many small ones', () => {
  const text = Array.from({ length: 5000 }, (_, i) => `${i}\n`).join('');
  const whole = new LogBuffer(1024);
  whole.append(text);
  const pieces = new LogBuffer(1024);
  for (let i = 0; i < text.length; i += 100) pieces.append(Buffer.from(text.slice(i, i + 100)));
  assert.equal(whole.toString(), pieces.toString());
});

test('multi-byte characters cut at the edges do not turn into replacement characters', () => {
  const log = new LogBuffer(200);
  log.append('é'.repeat(1000));
  const out = log.toString();
  assert.ok(!out.includes('\uFFFD'));
  assert.match(out, /^é+\n… \d+ bytes omitted …\né+$/);
});
