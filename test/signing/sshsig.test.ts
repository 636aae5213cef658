import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { loadNodeSigner } from '../../src/signing/node-signer.ts';
import { allowedSignersLine, radicleChangeSignature, sshsigSign } from '../../src/signing/sshsig.ts';
import { makeRadKey } from '../fixtures/node-keys.ts';

test('sshsigSign makes a signature ssh-keygen -Y verify accepts for the DID, in 70-column armor', async () => {
  const home = await mkdtemp(join(tmpdir(), 'cibq-sshsig-'));
  try {
    const key = await makeRadKey(home);
    const signer = await loadNodeSigner({ radHome: home, passphrase: null, agentSocket: null });
    const message = Buffer.from('an artifact\n'.repeat(100));
    const armored = await sshsigSign(signer, 'cibq', message);
    const body = armored.trim().split('\n').slice(1, -1);
    assert.ok(body.length > 1);
    for (const line of body.slice(0, -1)) assert.equal(line.length, 70);
    await writeFile(join(home, 'msg'), message);
    await writeFile(join(home, 'msg.sig'), armored);
    await writeFile(join(home, 'allowed'), allowedSignersLine(key.did, key.publicKey));
    const ok = await execa('ssh-keygen', ['-Y', 'verify', '-f', join(home, 'allowed'), '-I', key.did, '-n', 'cibq', '-s', join(home, 'msg.sig')], {
      inputFile: join(home, 'msg'),
      reject: false,
    });
    assert.equal(ok.exitCode, 0, ok.stderr);
    const wrongNs = await execa('ssh-keygen', ['-Y', 'verify', '-f', join(home, 'allowed'), '-I', key.did, '-n', 'other', '-s', join(home, 'msg.sig')], {
      inputFile: join(home, 'msg'),
      reject: false,
    });
    assert.notEqual(wrongNs.exitCode, 0);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});

test('a COB change signature is over the raw tree OID, so ssh-keygen rejects it as an SSHSIG (as Radicle intends)', async () => {
  const home = await mkdtemp(join(tmpdir(), 'cibq-sshsig-'));
  try {
    await makeRadKey(home);
    const signer = await loadNodeSigner({ radHome: home, passphrase: null, agentSocket: null });
    const tree = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
    const armored = await radicleChangeSignature(signer, tree);
    assert.match(armored, /^-----BEGIN SSH SIGNATURE-----\n/);
    assert.match(armored, /\n-----END SSH SIGNATURE-----\n$/);
    await writeFile(join(home, 'sig'), armored);
    const r = await execa('ssh-keygen', ['-Y', 'check-novalidate', '-n', 'radicle', '-s', join(home, 'sig')], {
      input: Buffer.from(tree, 'hex'),
      reject: false,
    });
    assert.notEqual(r.exitCode, 0);
    assert.match(r.stderr, /signature|verif/i);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
