import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeRedactor } from '../../src/worker/redact.ts';

test('a secret, its base64 and its URL-encoded form are replaced by ***', () => {
  const secret = 'p@ss word/42';
  const r = makeRedactor([secret]);
  const log = `token=${secret}\nauth: Basic ${Buffer.from(secret).toString('base64')}\nurl: https://x/?t=${encodeURIComponent(secret)}\n`;
  const out = r(log);
  assert.doesNotMatch(out, /p@ss|cEBzcyB3b3JkLzQy|p%40ss/);
  assert.equal(out.split('***').length - 1, 3);
});

test('short values and text without secrets are left alone', () => {
  const r = makeRedactor(['on', '']);
  assert.equal(r('turn it on'), 'turn it on');
  assert.equal(makeRedactor([])('x'), 'x');
});

test('regex characters in a secret are matched literally', () => {
  const r = makeRedactor(['a.b*c']);
  assert.equal(r('aXbbc a.b*c'), 'aXbbc ***');
});
