/**
 * The reader's canonical JSON matches heartwood's `CanonicalFormatter` on its own test vectors, so a
 * "not canonical" verdict on an action blob means Radicle's writers would have written other bytes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson, checkCanonical, type Json } from './canonical-json.ts';

test('heartwood formatter vectors: securesystemslib asserts and ordered nested object', () => {
  assert.equal(canonicalJson([1, 2, 3]), '[1,2,3]');
  assert.equal(canonicalJson({}), '{}');
  assert.equal(canonicalJson({ x: 3, y: null }), '{"x":3,"y":null}');
  const nested: Json = {
    nested: { good: false, bad: true },
    b: 2,
    a: 1,
    c: { h: { h: -5, i: 3 }, a: null, x: {} },
    zzz: 'I have a newline\n',
  };
  assert.equal(
    canonicalJson(nested),
    '{"a":1,"b":2,"c":{"a":null,"h":{"h":-5,"i":3},"x":{}},"nested":{"bad":true,"good":false},"zzz":"I have a newline\\n"}',
  );
  assert.throws(() => canonicalJson(8.5), /not an integer/);
});

test('control characters are escaped with short forms or lower-case \\u00xx, as serde_json does', () => {
  assert.equal(canonicalJson('\x00'), '"\\u0000"');
  assert.equal(canonicalJson('\x08\t\n\x0b\x0c\r\x1b'), '"\\b\\t\\n\\u000b\\f\\r\\u001b"');
  assert.equal(canonicalJson({ '\t': '\n' }), '{"\\t":"\\n"}');
  assert.equal(canonicalJson('"\\'), '"\\"\\\\"');
  assert.equal(canonicalJson('/é✓'), '"/é✓"', 'no escaping of / or non-ASCII');
});

test('keys sort by their serialized bytes, so "a!" comes before "a"', () => {
  assert.equal(canonicalJson({ a: 1, 'a!': 2 }), '{"a!":2,"a":1}');
});

test('strings are NFC-normalized', () => {
  assert.equal(canonicalJson('e\u0301'), '"\u00e9"');
});

test('checkCanonical accepts the exact bytes only', () => {
  const good = '{"Run":{"log":"https://ci.example/runs/1","uuid":"0b0c5c8e-8f7a-4a8e-9d7e-3c1f2a9b4d11"}}';
  assert.deepEqual(checkCanonical(Buffer.from(good)).ok, true);
  for (const bad of [
    '{"Run":{"uuid":"0b0c5c8e-8f7a-4a8e-9d7e-3c1f2a9b4d11","log":"https://ci.example/runs/1"}}',
    '{"Run": {"log":"https://ci.example/runs/1","uuid":"0b0c5c8e-8f7a-4a8e-9d7e-3c1f2a9b4d11"}}',
    `${good}\n`,
    '{"a":1.0}',
  ]) {
    const res = checkCanonical(Buffer.from(bad));
    assert.equal(res.ok, false, bad);
    assert.notEqual(res.value, undefined, 'still valid JSON that serde_json reads');
  }
  assert.equal(checkCanonical(Buffer.from('{"a":')).value, undefined);
  assert.equal(checkCanonical(Buffer.from([0xff, 0xfe])).ok, false);
});
