import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { loadNodeSigner, NodeKeyError, verifyEd25519 } from '../../src/signing/node-signer.ts';
import { makeRadKey } from '../fixtures/node-keys.ts';

async function tmp(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'cibq-signer-'));
}

test('an unencrypted ssh-keygen key signs as its NID', async () => {
  const home = await tmp();
  try {
    const key = await makeRadKey(home);
    const signer = await loadNodeSigner({ radHome: home, passphrase: null, agentSocket: null });
    assert.equal(signer.nid, key.nid);
    assert.equal(signer.via, 'key-file');
    const data = Buffer.from('0123456789abcdef0123', 'latin1');
    assert.ok(verifyEd25519(key.publicKey, data, await signer.sign(data)));
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});

test('an encrypted key opens with its passphrase (bcrypt_pbkdf + aes256-ctr as ssh-keygen writes it)', async () => {
  const home = await tmp();
  try {
    const key = await makeRadKey(home, { passphrase: 'correct horse' });
    assert.match(await readFile(key.path, 'utf8'), /OPENSSH PRIVATE KEY/);
    const signer = await loadNodeSigner({ radHome: home, passphrase: 'correct horse', agentSocket: null });
    assert.equal(signer.nid, key.nid);
    const data = Buffer.from('tree oid bytes here!');
    assert.ok(verifyEd25519(key.publicKey, data, await signer.sign(data)));
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});

test('a wrong or missing passphrase, a missing or garbage key: NodeKeyError naming the file, never the passphrase', async () => {
  const home = await tmp();
  try {
    await assert.rejects(loadNodeSigner({ radHome: home, passphrase: null, agentSocket: null }), (e: unknown) => {
      assert.ok(e instanceof NodeKeyError);
      assert.equal(e.problem, 'missing');
      assert.match(e.message, /keys\/radicle/);
      return true;
    });
    await makeRadKey(home, { passphrase: 'right-one', rounds: 4 });
    await assert.rejects(loadNodeSigner({ radHome: home, passphrase: 'wrong-one', agentSocket: null }), (e: unknown) => {
      assert.ok(e instanceof NodeKeyError);
      assert.equal(e.problem, 'wrong-passphrase');
      assert.match(e.message, /RAD_PASSPHRASE is wrong/);
      assert.doesNotMatch(e.message, /wrong-one|right-one/);
      return true;
    });
    await assert.rejects(loadNodeSigner({ radHome: home, passphrase: null, agentSocket: null }), (e: unknown) => {
      assert.ok(e instanceof NodeKeyError);
      assert.equal(e.problem, 'needs-passphrase');
      assert.match(e.message, /RAD_PASSPHRASE/);
      return true;
    });
    await writeFile(join(home, 'keys', 'radicle'), 'not a key\n');
    await assert.rejects(loadNodeSigner({ radHome: home, passphrase: null, agentSocket: null }), (e: unknown) => {
      assert.ok(e instanceof NodeKeyError);
      assert.equal(e.problem, 'malformed');
      return true;
    });
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});

test('with the key in ssh-agent, signing goes through the agent (no passphrase needed)', async () => {
  const home = await tmp();
  const sock = join(home, 'agent.sock');
  const agent = await execa('ssh-agent', ['-a', sock, '-s']);
  const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(agent.stdout)?.[1]);
  try {
    const key = await makeRadKey(home, { passphrase: 'agent-pass', rounds: 4 });
    // ssh-add reads the passphrase through SSH_ASKPASS when it has no terminal.
    const askpass = join(home, 'askpass.sh');
    await writeFile(askpass, '#!/bin/sh\necho agent-pass\n', { mode: 0o700 });
    await execa('ssh-add', [key.path], {
      env: { SSH_AUTH_SOCK: sock, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' },
      stdin: 'ignore',
    });
    const signer = await loadNodeSigner({ radHome: home, passphrase: null, agentSocket: sock });
    assert.equal(signer.via, 'ssh-agent');
    assert.equal(signer.nid, key.nid);
    const data = Buffer.from('raw bytes to sign');
    assert.ok(verifyEd25519(key.publicKey, data, await signer.sign(data)));
    // An agent that does not hold the key: the key file is used instead.
    await execa('ssh-add', ['-D'], { env: { SSH_AUTH_SOCK: sock } });
    const fallback = await loadNodeSigner({ radHome: home, passphrase: 'agent-pass', agentSocket: sock });
    assert.equal(fallback.via, 'key-file');
  } finally {
    if (Number.isInteger(pid)) process.kill(pid, 'SIGTERM');
    await rm(home, { recursive: true, force: true });
  }
});
