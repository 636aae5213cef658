import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { loadNodeSigner } from '../../src/signing/node-signer.ts';
import { changeSignatureArmor, parseSshSig, verifyChangeSignature } from '../../src/storage/change-signature.ts';
import { makeRadKey } from '../fixtures/node-keys.ts';

test('a COB change signature is over the raw tree OID, so ssh-keygen rejects it as an SSHSIG (as Radicle intends)', async () => {
  const home = await mkdtemp(join(tmpdir(), 'cibq-sshsig-'));
  try {
    await makeRadKey(home);
    const signer = await loadNodeSigner({ radHome: home, passphrase: null, agentSocket: null });
    const tree = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
    const armored = `${await changeSignatureArmor(signer, tree)}\n`;
    assert.ok(verifyChangeSignature(parseSshSig(armored), tree));
    for (const line of armored.split('\n').slice(1, -3)) assert.equal(line.length, 70);
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
