/**
 * The reader's key decoding agrees with heartwood's own test vectors and with real ssh-keygen keys, so
 * that "signed by the namespace's key" checks compare the right bytes.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { generateNodeKey } from '../../fixtures/heartwood-like/node-key.ts';
import { canonicalJson, type Json } from './canonical-json.ts';
import {
  base58btcDecode,
  base58btcEncode,
  didFromPublicKey,
  nidFromPublicKey,
  openSshPublicKey,
  parseOpenSshPublicKey,
  publicKeyFromNid,
  verifyEd25519,
} from './keys.ts';
import { ridFromBlobOid } from './sigrefs.ts';

const dir = mkdtempSync(join(tmpdir(), 'reader-keys-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// heartwood crates/radicle-crypto/src/ssh.rs tests `test_key` and `test_agent_encoding_remove`.
const HW_NID = 'z6MktWkM9vcfysWFq1c2aaLjJ6j4PYYg93TLPswR4qtuoAeT';
const HW_SSH = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINDoXIrhcnRjnLGUXUFdxhkuy08lkTOwrj2IoGsEX6+Q';
const HW_PUB = Buffer.from([
  208, 232, 92, 138, 225, 114, 116, 99, 156, 177, 148, 93, 65, 93, 198, 25, 46, 203, 79, 37, 145, 51, 176, 174, 61, 136,
  160, 107, 4, 95, 175, 144,
]);

test('a NID decodes to the key heartwood encodes, and back to the same NID and OpenSSH line', () => {
  const pub = publicKeyFromNid(HW_NID);
  assert.deepEqual(pub, HW_PUB);
  assert.equal(nidFromPublicKey(HW_PUB), HW_NID);
  assert.equal(didFromPublicKey(HW_PUB), `did:key:${HW_NID}`);
  assert.equal(openSshPublicKey(HW_PUB), HW_SSH);
  assert.deepEqual(parseOpenSshPublicKey(`${HW_SSH} some comment`), HW_PUB);
  assert.deepEqual(publicKeyFromNid(`did:key:${HW_NID}`), HW_PUB);
});

test('a RID is base58 of the identity document blob OID (radicle-node.md §3 example)', () => {
  const doc: Json = {
    threshold: 1,
    payload: { 'xyz.radicle.project': { name: 'heartwood', description: 'Radicle Heartwood Protocol & Stack', defaultBranch: 'master' } },
    delegates: ['did:key:z6MknSLrJoTcukLrE435hVNQT4JUhbvWLX4kUzqkEStBU8Vi'],
  };
  const oid = execFileSync('git', ['hash-object', '--stdin'], { input: canonicalJson(doc) }).toString().trim();
  assert.equal(oid, 'd96f425412c9f8ad5d9a9a05c9831d0728e2338d');
  assert.equal(ridFromBlobOid(oid), 'rad:z42hL2jL4XNk6K8oHQaSWfMgCL7ji');
});

test('base58btc keeps leading zero bytes and rejects characters outside the alphabet', () => {
  const bytes = Buffer.from([0, 0, 1, 2, 255]);
  assert.equal(base58btcEncode(bytes).slice(0, 2), '11');
  assert.deepEqual(base58btcDecode(base58btcEncode(bytes)), bytes);
  assert.equal(base58btcDecode('0OIl'), null);
});

test('non-Ed25519 or malformed node ids are refused', () => {
  assert.equal(publicKeyFromNid(HW_NID.replace('z6Mk', 'z6Mx')), null, 'other multicodec or length');
  assert.equal(publicKeyFromNid(HW_NID.slice(1)), null, 'missing multibase prefix');
  assert.equal(publicKeyFromNid(`z1${HW_NID.slice(1)}`), null, 'non-canonical leading 1');
  assert.equal(parseOpenSshPublicKey('ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ'), null);
});

test('an ssh-keygen key: radicle.pub matches the private key, and its signatures verify', () => {
  const key = generateNodeKey(dir);
  assert.deepEqual(parseOpenSshPublicKey(key.publicKeyLine), key.publicKey);
  assert.match(key.nid, /^z6Mk[1-9A-HJ-NP-Za-km-z]{44}$/);
  const msg = Buffer.from('20 raw bytes here...');
  assert.ok(verifyEd25519(key.publicKey, msg, key.sign(msg)));
  assert.ok(!verifyEd25519(key.publicKey, Buffer.from('other'), key.sign(msg)));
  assert.ok(!verifyEd25519(generateNodeKey(join(dir, 'b')).publicKey, msg, key.sign(msg)));
});
