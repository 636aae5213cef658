/**
 * `sandbox: bwrap` with real bubblewrap: a script cannot reach the network (unless network: true),
 * cannot write outside its checkout and home, cannot see the node's storage, and has a /tmp of its
 * own. Where bwrap is missing, cibq-native refuses to run rather than run unsandboxed. On a machine
 * where bubblewrap cannot build a sandbox (no user namespaces), the tests say so and check only
 * the refusal.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, symlink } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { NativeFixture } from './fixtures.ts';

let f: NativeFixture;
/** Why bubblewrap cannot run here, or null when it can. */
let unusable: string | null = null;

before(async () => {
  f = await NativeFixture.create();
  const probe = await execa('bwrap', ['--ro-bind', '/', '/', '--unshare-all', '--', 'true'], { reject: false });
  if (probe.exitCode !== 0) unusable = probe.code === 'ENOENT' ? 'bwrap is not installed' : String(probe.stderr).trim();
});
after(async () => {
  await f.close();
});

/** A TCP server on 127.0.0.1 that counts the connections it accepts. */
async function listener(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server = net.createServer((s) => {
    n++;
    s.end('hello\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { port, connections: () => n, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('sandbox: bwrap', () => {
  test('a script that tries to reach the network fails; with network: true it connects', async (t) => {
    if (unusable !== null) {
      t.diagnostic(`bubblewrap cannot build a sandbox on this machine (${unusable}); only the refusal to run unsandboxed is checked here`);
      const r = await f.run(f.pushTrigger(await f.pushScript('echo unreachable')), { sandbox: 'bwrap' });
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /cibq-native never runs a script unsandboxed instead/);
      return;
    }
    const server = await listener();
    t.after(() => server.close());
    const script = `exec 3<>/dev/tcp/127.0.0.1/${server.port}\nhead -n1 <&3`;
    const commit = await f.pushScript(script);
    const closed = await f.run(f.pushTrigger(commit), { sandbox: 'bwrap' });
    assert.deepEqual(closed.responses[1], { response: 'finished', result: 'failure' }, closed.stderr);
    assert.equal(server.connections(), 0);
    assert.match(closed.stderr, /sandboxed: yes: bubblewrap, no network/);
    assert.deepEqual(closed.result?.sandbox, { kind: 'bwrap', network: false });

    const open = await f.run(f.pushTrigger(commit), { sandbox: 'bwrap', network: true });
    assert.deepEqual(open.responses[1], { response: 'finished', result: 'success' }, open.stderr);
    assert.equal(server.connections(), 1);
    assert.match(open.stderr, /^hello$/m);
  });

  test('writes outside the checkout and the home fail; the node storage and the state directory are out of sight; /tmp is private', async (t) => {
    if (unusable !== null) {
      t.diagnostic(`bubblewrap cannot build a sandbox on this machine (${unusable}); not checked`);
      return;
    }
    const outside = join(f.dir, 'outside');
    await mkdir(outside);
    const probe = `cibq-sandbox-probe-${process.pid}`;
    const checks = [
      'echo checkout > in-checkout.txt',
      'echo home > "$HOME/in-home.txt"',
      `echo tmp > /tmp/${probe}`,
      `if echo escaped > ${outside}/escaped.txt; then echo "WROTE OUTSIDE"; exit 10; fi`,
      `if touch /usr/escaped-${process.pid}; then echo "WROTE /usr"; exit 11; fi`,
      'if touch /escaped; then echo "WROTE /"; exit 14; fi',
      `if test -e ${f.radHome}/storage; then echo "SAW STORAGE"; exit 12; fi`,
      `if test -e ${f.state}; then echo "SAW STATE"; exit 13; fi`,
      'echo sandbox-ok',
    ].join('\n');
    const r = await f.run(f.pushTrigger(await f.pushScript(script(checks))), { sandbox: 'bwrap' });
    assert.deepEqual(r.responses[1], { response: 'finished', result: 'success' }, r.stderr);
    assert.match(r.stderr, /^sandbox-ok$/m);
    assert.deepEqual(await readdir(outside), []);
    assert.equal(existsSync(`/usr/escaped-${process.pid}`), false);
    assert.equal(existsSync(`/tmp/${probe}`), false, "the sandbox's /tmp is its own");
  });

  test('bwrap missing while sandbox: bwrap is set: a clear error before any response, and the script never runs', async () => {
    // A PATH with git, bash and what bin/cibq-native needs, but no bwrap.
    const bin = join(f.dir, 'bin-without-bwrap');
    await mkdir(bin, { recursive: true });
    for (const tool of ['git', 'bash', 'env', 'sh', 'readlink', 'dirname']) {
      const { stdout } = await execa('bash', ['-c', `command -v ${tool}`]);
      await symlink(stdout.trim(), join(bin, tool)).catch(() => undefined);
    }
    const marker = join(f.dir, 'ran-unsandboxed');
    const before = existsSync(f.state) ? await readdir(f.state) : [];
    const r = await f.run(f.pushTrigger(await f.pushScript(`touch ${marker}`)), { sandbox: 'bwrap' }, { PATH: bin });
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '', 'not even triggered');
    assert.match(r.stderr, /sandbox: bwrap is set, but bubblewrap \(bwrap\) is not installed or not on PATH; install it \(Debian: apt-get install bubblewrap\)/);
    assert.equal(existsSync(marker), false);
    assert.deepEqual(existsSync(f.state) ? await readdir(f.state) : [], before, 'no run directory');
  });
});

function script(body: string): string {
  return `set -euo pipefail\n${body}`;
}
