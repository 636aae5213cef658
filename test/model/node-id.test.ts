import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { didFromNid, isNid, nidFromDid, nidFromPublicKey, publicKeyFromNid } from '../../src/model/node-id.ts';

const UPSTREAM_NID = 'z6MknSLrJoTcukLrE435hVNQT4JUhbvWLX4kUzqkEStBU8Vi';

test('a NID is z6Mk… and round-trips through the public key', () => {
  const { publicKey } = generateKeyPairSync('ed25519');
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
  const nid = nidFromPublicKey(pub);
  assert.match(nid, /^z6Mk[1-9A-HJ-NP-Za-km-z]{44}$/);
  assert.deepEqual(publicKeyFromNid(nid), pub);
});

test('the upstream example NID decodes to a usable ed25519 key and re-encodes identically', () => {
  const pub = publicKeyFromNid(UPSTREAM_NID);
  assert.equal(pub.length, 32);
  assert.equal(nidFromPublicKey(pub), UPSTREAM_NID);
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: pub.toString('base64url') }, format: 'jwk' });
  assert.equal(key.asymmetricKeyType, 'ed25519');
});

test('DIDs wrap and unwrap NIDs', () => {
  assert.equal(didFromNid(UPSTREAM_NID), `did:key:${UPSTREAM_NID}`);
  assert.equal(nidFromDid(`did:key:${UPSTREAM_NID}`), UPSTREAM_NID);
  assert.throws(() => nidFromDid(UPSTREAM_NID), /not a did:key/);
  assert.throws(() => nidFromDid('did:key:zNotANid'), /not an ed25519 did:key/);
  assert.throws(() => didFromNid('z123'), /not a node id/);
});

test('isNid accepts only ed25519 multibase keys', () => {
  assert.equal(isNid(UPSTREAM_NID), true);
  assert.equal(isNid(`did:key:${UPSTREAM_NID}`), false);
  assert.equal(isNid(UPSTREAM_NID.slice(0, -1)), false);
  assert.equal(isNid('z42hL2jL4XNk6K8oHQaSWfMgCL7ji'), false); // a RID body, not a key
  assert.equal(isNid(42), false);
  assert.throws(() => nidFromPublicKey(Buffer.alloc(31)), /32 bytes/);
});
