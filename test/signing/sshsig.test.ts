import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { loadNodeSigner } from '../../src/signing/node-signer.ts';
import { allowedSignersLine, sshsigSign } from '../../src/signing/sshsig.ts';
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
