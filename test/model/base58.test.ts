import { test } from 'node:test';
import assert from 'node:assert/strict';
import { base58Decode, base58Encode } from '../../src/model/base58.ts';

test('encodes the RID of the verified heartwood identity document (reference §3)', () => {
  const oid = Buffer.from('d96f425412c9f8ad5d9a9a05c9831d0728e2338d', 'hex');
  assert.equal('rad:z' + base58Encode(oid), 'rad:z42hL2jL4XNk6K8oHQaSWfMgCL7ji');
  assert.deepEqual(base58Decode('42hL2jL4XNk6K8oHQaSWfMgCL7ji'), oid);
});

test('matches the standard bitcoin base58 vectors', () => {
  assert.equal(base58Encode(Buffer.from('Hello World!')), '2NEpo7TZRRrLZSi2U');
  assert.equal(base58Encode(Buffer.from('The quick brown fox jumps over the lazy dog.')), 'USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z');
  assert.equal(base58Encode(Buffer.alloc(0)), '');
});

test('keeps leading zero bytes as leading 1s, both ways', () => {
  const bytes = Buffer.from([0, 0, 0x28, 0x7f, 0xb4, 0xcd]);
  assert.equal(base58Encode(bytes), '11233QC4');
  assert.deepEqual(base58Decode('11233QC4'), bytes);
});

test('round-trips random data', () => {
  for (let i = 0; i < 50; i++) {
    const bytes = Buffer.from(Array.from({ length: i }, (_, j) => (j * 37 + i * 11) % 256));
    assert.deepEqual(base58Decode(base58Encode(bytes)), bytes);
  }
});

test('rejects characters outside the alphabet (0, O, I, l)', () => {
  for (const bad of ['0abc', 'abOc', 'Iab', 'abl', 'a b']) assert.throws(() => base58Decode(bad), /invalid base58/);
});
