/**
 * `npm run up` (scripts/up.sh) starts a Redis when none answers, and stops that Redis again when
 * cibq stops: on Ctrl-C (SIGINT to the whole foreground process group, as a terminal sends it) and
 * on SIGTERM to the script alone. Nothing is left running. The script runs from a scratch copy of
 * the checkout's layout, so its .cibq/ never touches the real one, with CIBQ_NO_SETUP=1.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '../helpers/pipeline.ts';
import { commandLine, descendants, isAlive } from '../helpers/processes.ts';
import { freePort } from '../helpers/redis-server.ts';

const ROOT = path.join(import.meta.dirname, '..', '..');
let dir: string;

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cq-upsh-'));
  mkdirSync(path.join(dir, 'scripts'));
  symlinkSync(path.join(ROOT, 'scripts', 'up.sh'), path.join(dir, 'scripts', 'up.sh'));
  symlinkSync(path.join(ROOT, 'bin'), path.join(dir, 'bin'));
  writeFileSync(path.join(dir, 'cibq.yaml'), `db: .cibq/cibq.db\nreport_dir: .cibq/reports\nadapters:\n  smoke: { command: ${path.join(ROOT, 'adapters', 'smoke.mjs')} }\n`);
});
after(() => rmSync(dir, { recursive: true, force: true }));

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function runUp(stop: (pid: number) => void): Promise<{ code: number | null; stderr: string; port: number }> {
  const port = await freePort();
  const child = spawn('bash', [path.join(dir, 'scripts', 'up.sh')], {
    cwd: dir,
    detached: true, // its own process group, like a terminal's foreground job
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, CIBQ_NO_SETUP: '1', REDIS_URL: `redis://127.0.0.1:${port}`, RAD_HOME: path.join(dir, 'no-node') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const pid = child.pid ?? 0;
  await waitFor('cibq up to run with the Redis the script started', () => /report regenerated|report up to date/.test(stderr), 60_000).catch((e: unknown) => {
    // Leave nothing running (the Redis is in a session of its own), so the failure is all there is.
    for (const p of [pid, ...descendants(pid)]) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    throw e;
  });
  assert.match(stderr, new RegExp(`no Redis at 127\\.0\\.0\\.1:${port}; starting one`));
  assert.equal(await answers(port), true);
  const all = [pid, ...descendants(pid)];
  stop(pid);
  const code = await exited;
  await waitFor('every process of npm run up to be gone', () => all.every((p) => !isAlive(p)), 30_000).catch(() => {
    assert.fail(`left running: ${all.filter(isAlive).map((p) => `${p} ${commandLine(p)}`).join('; ')}`);
  });
  return { code, stderr, port };
}

test('Ctrl-C stops cibq first, then the Redis the script started', async () => {
  const r = await runUp((pid) => process.kill(-pid, 'SIGINT'));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /"msg":"stopped"/);
  assert.match(r.stderr, new RegExp(`up: stopping the Redis it started on port ${r.port}`));
  assert.ok(r.stderr.indexOf('"msg":"stopped"') < r.stderr.indexOf('up: stopping the Redis'), 'cibq finished before Redis went');
  assert.equal(await answers(r.port), false);
});

test('SIGTERM to the script is passed on to cibq, and the Redis stops too', async () => {
  const r = await runUp((pid) => process.kill(pid, 'SIGTERM'));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /"why":"SIGTERM".*draining/);
  assert.equal(await answers(r.port), false);
});
