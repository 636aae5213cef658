/**
 * `npm run demo`, as the README tells a newcomer to run it: it prints the report and dashboard
 * URLs, they serve what it says (a passing and a failing push, a passing patch, each with its
 * cibq-native log), and Ctrl-C stops it, leaving no process, port or directory behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { waitFor } from '../helpers/pipeline.ts';
import { commandLine, descendants, isAlive } from '../helpers/processes.ts';

const ROOT = path.join(import.meta.dirname, '..', '..');

function answers(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect(Number(u.port), u.hostname);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function text(url: string): Promise<string> {
  const r = await fetch(url);
  assert.equal(r.status, 200, url);
  return r.text();
}

test('npm run demo: the printed URLs serve the three runs, and Ctrl-C stops everything', { timeout: 300_000 }, async () => {
  // The demo starts its own redis-server; setup (npm install, apt-get) is the machine's business.
  const env: NodeJS.ProcessEnv = { ...process.env, CIBQ_NO_SETUP: '1' };
  delete env.REDIS_URL;
  const demo = spawn('npm', ['run', 'demo'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  demo.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  demo.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
  try {
    await waitFor('the demo to print its URLs', () => /Press Ctrl-C to stop everything/.test(out) || /^demo: .*(not installed|gave up|exited)/m.test(out), 240_000);
  } catch (e) {
    process.kill(-(demo.pid ?? 0), 'SIGKILL');
    throw new Error(`${(e as Error).message}\n${out}`, { cause: e });
  }
  const pids = [demo.pid ?? 0, ...descendants(demo.pid ?? 0)];
  const dir = /^ {2}directory +(\S+)$/m.exec(out)?.[1] ?? '';
  const reports = /^Reports: +(\S+)$/m.exec(out)?.[1] ?? '';
  const dashboard = /^Dashboard: +(\S+)$/m.exec(out)?.[1] ?? '';
  const redis = /^ {2}redis +redis-server on (\S+) /m.exec(out)?.[1] ?? '';
  try {
    assert.ok(existsSync(dir), out);
    const runs = [...out.matchAll(/^ {2}(success|failure) +(greeter|calc) +(branch main|patch [0-9a-f]{8}) +[0-9a-f]{8} +(http:\S+)$/gm)];
    assert.deepEqual(runs.map((m) => `${m[1]} ${m[2]} ${m[3]?.split(' ')[0]}`), ['success greeter branch', 'failure greeter branch', 'success calc patch'], out);

    const index = await text(reports);
    assert.match(index, /greeter/);
    assert.match(index, /calc/);
    const [passed, failed, patch] = runs.map((m) => m[4] ?? '');
    const failedPage = await text(failed ?? '');
    assert.match(failedPage, /class="status failure"/);
    assert.match(failedPage, /<section class="log-end">[\s\S]*FAIL - greets the world: expected &#x27;Hello, world!&#x27;, got &#x27;Hello world&#x27;/);
    const patchPage = await text(patch ?? '');
    assert.match(patchPage, /Add subtraction/);
    assert.match(patchPage, /ok {3}- subtracts/);
    const passedPage = await text(passed ?? '');
    const info = /<dd class="info"><a href="([^"]+)"/.exec(passedPage)?.[1] ?? '';
    assert.match(info, /\/reports\/native\/[0-9a-f-]{36}\/log\.html$/);
    const nativeLog = await text(info);
    assert.match(nativeLog, /class="result success"/);
    assert.match(nativeLog, /dist\/greeter\.tar\.gz<\/a><\/td><td><code>[0-9a-f]{64}<\/code>/);
    const artifact = await fetch(new URL('artifacts/dist/greeter.tar.gz', info));
    assert.equal(artifact.status, 200);

    assert.match(await text(dashboard), /<title>.*<\/title>/);
    const health = (await (await fetch(new URL('/healthz', dashboard))).json()) as { ok: boolean };
    assert.equal(health.ok, true);
  } finally {
    process.kill(-(demo.pid ?? 0), 'SIGINT'); // Ctrl-C at a terminal: the foreground group
  }
  await exited;
  await waitFor('every process the demo started to stop', () => pids.every((p) => !isAlive(p)), 60_000).catch(() => {
    assert.fail(`left running: ${pids.filter(isAlive).map((p) => `${p} ${commandLine(p)}`).join('; ')}\n${out}`);
  });
  assert.match(out, /demo: stopped; nothing it started is running/);
  assert.equal(existsSync(dir), false, 'the demo directory is removed');
  assert.equal(await answers(reports), false, 'the dashboard port is closed');
  assert.equal(await answers(`redis://${redis}`), false, 'the demo Redis is stopped');
});
