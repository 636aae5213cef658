/**
 * The reader's SSHSIG decoding agrees with OpenSSH on real `ssh-keygen -Y sign` output, and applies
 * heartwood's meaning: raw Ed25519 over the 20 tree-OID bytes, in a container armored at 70 columns.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { sshsigPem } from '../../fixtures/heartwood-like/cob-writer.ts';
import { generateNodeKey } from '../../fixtures/heartwood-like/node-key.ts';
import { parseArmoredSshSig, verifySshSigSignedData, verifyTreeSignature } from './sshsig.ts';

const dir = mkdtempSync(join(tmpdir(), 'reader-sshsig-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const key = generateNodeKey(join(dir, 'a'));
const other = generateNodeKey(join(dir, 'b'));
const TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

function sshKeygenSign(namespace: string, file: string, extra: string[] = []): string {
  const res = spawnSync('ssh-keygen', ['-Y', 'sign', '-f', key.privateKeyPath, '-n', namespace, ...extra, file]);
  assert.equal(res.status, 0, res.stderr.toString());
  return readFileSync(`${file}.sig`, 'utf8');
}

test('real ssh-keygen -Y sign output parses: key, namespace, hash, and OpenSSH signed-data verify', () => {
  const file = join(dir, 'msg');
  writeFileSync(file, 'hello radicle');
  const parsed = parseArmoredSshSig(sshKeygenSign('radicle', file));
  assert.ok(parsed.sig, JSON.stringify(parsed.violations));
  assert.deepEqual(parsed.sig.publicKey, key.publicKey);
  assert.equal(parsed.sig.namespace, 'radicle');
  assert.equal(parsed.sig.hashAlgorithm, 'sha512', "ssh-keygen's default");
  assert.deepEqual(parsed.violations.map((v) => v.code), ['sshsig-hash']);
  assert.ok(verifySshSigSignedData(parsed.sig, Buffer.from('hello radicle')));
  assert.ok(!verifySshSigSignedData(parsed.sig, Buffer.from('hello radiclE')));

  const file2 = join(dir, 'msg2');
  writeFileSync(file2, 'hello radicle');
  const sha256 = parseArmoredSshSig(sshKeygenSign('cibq', file2, ['-O', 'hashalg=sha256']));
  assert.equal(sha256.sig?.hashAlgorithm, 'sha256');
  assert.deepEqual(sha256.violations.map((v) => v.code), ['sshsig-namespace']);
});

test("an ssh-keygen signature over the tree OID is not heartwood's signature: the reader says invalid", () => {
  const file = join(dir, 'tree-oid');
  writeFileSync(file, Buffer.from(TREE, 'hex'));
  const parsed = parseArmoredSshSig(sshKeygenSign('radicle', file, ['-O', 'hashalg=sha256']));
  assert.ok(parsed.sig);
  assert.ok(verifySshSigSignedData(parsed.sig, Buffer.from(TREE, 'hex')));
  assert.equal(verifyTreeSignature(parsed.sig, TREE), false);
});

test("heartwood's container (raw signature over the tree OID) verifies; ssh-keygen rejects it, as trust.md found", () => {
  const pem = sshsigPem(key.publicKey, key.sign(Buffer.from(TREE, 'hex')));
  const parsed = parseArmoredSshSig(pem);
  assert.ok(parsed.sig);
  assert.deepEqual(parsed.violations, []);
  assert.ok(verifyTreeSignature(parsed.sig, TREE));
  assert.ok(!verifyTreeSignature(parsed.sig, TREE.replace('4b', '4c')));

  writeFileSync(join(dir, 'raw.sig'), pem + '\n');
  const check = spawnSync('ssh-keygen', ['-Y', 'check-novalidate', '-n', 'radicle', '-s', join(dir, 'raw.sig')], {
    input: Buffer.from(TREE, 'hex'),
  });
  assert.notEqual(check.status, 0);
  assert.match(check.stderr.toString(), /verif/i, 'OpenSSH parsed the container and failed only on verification');
});

test('a signature by another key inside a container naming this key does not verify', () => {
  const parsed = parseArmoredSshSig(sshsigPem(key.publicKey, other.sign(Buffer.from(TREE, 'hex'))));
  assert.ok(parsed.sig);
  assert.equal(verifyTreeSignature(parsed.sig, TREE), false);
});

test('armor not wrapped at exactly 70 columns cannot be loaded (ssh-key reads a fixed width)', () => {
  for (const width of [64, 76]) {
    const parsed = parseArmoredSshSig(sshsigPem(key.publicKey, key.sign(Buffer.from(TREE, 'hex')), 'radicle', width));
    assert.equal(parsed.sig, null);
    assert.deepEqual(parsed.violations.map((v) => [v.code, v.severity]), [['sshsig-armor-width', 'rejected']]);
  }
});

test('truncated or corrupted containers are rejected, never half-read', () => {
  const pem = sshsigPem(key.publicKey, key.sign(Buffer.from(TREE, 'hex')));
  const lines = pem.split('\n');
  const truncated = [lines[0], (lines[1] ?? '').slice(0, 68) + '==', lines[lines.length - 1]].join('\n');
  assert.equal(parseArmoredSshSig(truncated).sig, null);
  assert.equal(parseArmoredSshSig(pem.replace('SSH SIGNATURE', 'PGP SIGNATURE')).sig, null);
  const empty = parseArmoredSshSig(sshsigPem(key.publicKey, key.sign(Buffer.alloc(1)), ''));
  assert.deepEqual(empty.violations.map((v) => v.code), ['sshsig-decode']);
});
