/**
 * `npm run demo`: cibq running CI, all on this machine, in about a minute. It starts a Redis
 * (redis-server on a free port, unless REDIS_URL names one), a simulated Radicle node with two
 * example repositories in real storage layout (scripts/demo/), `cibq up` with the cibq-native
 * adapter (sandboxed with bubblewrap where it works) and the dashboard; then pushes a passing
 * commit, a failing commit and a patch, waits for their runs and prints where to look. Ctrl-C (or
 * SIGTERM) stops everything it started and removes its directory.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { openDbReadOnly } from '../src/db/open-db.ts';
import { listRuns } from '../src/db/runs.ts';
import type { RunRecord } from '../src/model/run.ts';
import { startChild, killAll, type Child } from './demo/children.ts';
import { CALC, GREETER } from './demo/example-repos.ts';
import { SimNode } from './demo/sim-node.ts';
import { person, SimStorage } from './demo/sim-storage.ts';

const ROOT = join(import.meta.dirname, '..');
const CIBQ = join(ROOT, 'bin', 'cibq');
const say = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

function has(command: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { stdio: 'ignore' }).status === 0;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Whether a Redis answers PING on 127.0.0.1:port. */
function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    s.once('error', () => resolve(false));
  });
}

async function until<T>(what: string, probe: () => Promise<T | null> | T | null, ms: number, stopped: () => boolean): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (stopped()) throw new Error('stopped');
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** bubblewrap when it can build a sandbox here, else none (the demo's repositories are its own). */
function sandboxKind(): { kind: 'bwrap' | 'none'; why: string } {
  if (!has('bwrap')) return { kind: 'none', why: 'not sandboxed: bubblewrap is not installed (apt-get install bubblewrap)' };
  const r = spawnSync('bwrap', ['--ro-bind', '/', '/', '--unshare-all', '--', 'true'], { stdio: 'ignore', timeout: 10_000 });
  return r.status === 0
    ? { kind: 'bwrap', why: 'bubblewrap: scripts run without network, writing only their checkout' }
    : { kind: 'none', why: 'not sandboxed: bubblewrap cannot build a sandbox on this machine (user namespaces?)' };
}

function describe(r: RunRecord): string {
  const what = r.patch ? `patch ${r.patch.slice(0, 8)}` : `branch ${r.ref.replace(/^.*refs\/heads\//, '')}`;
  return `${(r.result ?? r.state).padEnd(8)} ${r.repo_name.padEnd(8)} ${what.padEnd(15)} ${r.commit.slice(0, 8)}`;
}

async function main(): Promise<number> {
  for (const tool of ['git', 'bash', 'tar', 'gzip', ...(process.env.REDIS_URL ? [] : ['redis-server'])]) {
    if (!has(tool)) {
      say(`demo: ${tool} is not installed; run \`npm run setup\` (it installs git and redis-server on Debian) and try again`);
      return 1;
    }
  }
  const dir = await mkdtemp(join(tmpdir(), 'cibq-demo-'));
  const children: Child[] = [];
  let stopping = false;
  let wake: () => void = () => {};
  const stopRequested = new Promise<void>((resolve) => (wake = resolve));
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    const now = Date.now();
    if (!stopping) {
      stopping = true;
      firstSignalAt = now;
      say(`\ndemo: ${signal}: stopping everything it started (again to force)`);
      wake();
    } else if (now - firstSignalAt > 1000) {
      // The same Ctrl-C can arrive twice (from the terminal and from npm): only a later one forces.
      say('demo: forcing');
      killAll();
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let redisUrl = process.env.REDIS_URL ?? '';
  const prefix = `cibq-demo-${process.pid}`;
  const env: NodeJS.ProcessEnv = { ...process.env, RAD_HOME: join(dir, 'radicle'), CIBQ_LOG_FORMAT: 'json' };
  delete env.RAD_SOCKET;
  delete env.CIBQ_CONFIG;
  let code = 0;
  const node = new SimNode(join(dir, 'radicle'), person('ci-node').nid);
  try {
    say('cibq demo: CI for two example repositories, everything on this machine (Ctrl-C stops it)');
    say(`  directory  ${dir}`);
    if (redisUrl === '') {
      const port = await freePort();
      children.push(startChild('redis', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { env, logFile: join(dir, 'redis.log') }));
      redisUrl = `redis://127.0.0.1:${port}`;
      await until('redis-server to answer', async () => ((await pong(port)) ? true : null), 10_000, () => stopping);
      say(`  redis      redis-server on 127.0.0.1:${port} (started for the demo)`);
    } else {
      say(`  redis      ${redisUrl.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')} (REDIS_URL; keys under ${prefix}:, removed at the end)`);
    }
    env.REDIS_URL = redisUrl;

    const storage = new SimStorage(join(dir, 'radicle'));
    await storage.init();
    const alice = person('alice');
    const bob = person('bob');
    const greeter = await storage.createRepo(GREETER.name, GREETER.description, alice);
    const calc = await storage.createRepo(CALC.name, CALC.description, alice);
    const greeterBase = await storage.commit(greeter, GREETER.initial, { parent: null, message: 'Start greeter', author: alice });
    await storage.push(greeter, alice, 'main', greeterBase);
    const calcBase = await storage.commit(calc, CALC.initial, { parent: null, message: 'Start calc', author: alice });
    await storage.push(calc, alice, 'main', calcBase);
    await node.start();
    say(`  node       simulated Radicle node, storage in ${join(dir, 'radicle')}: ${greeter.name} (${greeter.rid}), ${calc.name} (${calc.rid})`);

    const sandbox = sandboxKind();
    const dashboardPort = await freePort();
    const base = `http://127.0.0.1:${dashboardPort}`;
    const config = join(dir, 'cibq.yaml');
    writeFileSync(config, [
      `db: ${join(dir, 'cibq.db')}`,
      `report_dir: ${join(dir, 'reports')}`,
      'default_adapter: native',
      'adapters:',
      '  native:',
      `    command: ${join(ROOT, 'bin', 'cibq-native')}`,
      '    config_env: RADICLE_NATIVE_CI',
      `    config: { state: ${join(dir, 'reports', 'native')}, log: ${join(dir, 'native.log')}, base_url: ${base}/reports/native, timeout: 120, sandbox: ${sandbox.kind} }`,
      'filters:',
      '  - !Or [ !BranchCreated, !BranchUpdated, !PatchCreated, !PatchUpdated ]',
      `redis: { prefix: ${prefix} }`,
      '',
    ].join('\n'));
    say(`  adapter    cibq-native, ${sandbox.why}`);
    children.push(startChild('cibq up', CIBQ, ['up', '--config', config], { env, logFile: join(dir, 'cibq.log') }));
    children.push(startChild('dashboard', CIBQ, ['dashboard', '--config', config, '--port', String(dashboardPort)], { env, logFile: join(dir, 'dashboard.log') }));
    for (const c of children) {
      void c.exited.then((exitCode) => {
        if (stopping) return;
        say(`demo: ${c.name} exited unexpectedly (${exitCode}); see ${join(dir, c.name === 'redis' ? 'redis.log' : c.name === 'dashboard' ? 'dashboard.log' : 'cibq.log')}`);
        code = 1;
        stopping = true;
        wake();
      });
    }
    await Promise.race([node.subscribed(), stopRequested]);
    await until('the dashboard', async () => ((await fetch(`${base}/healthz`).catch(() => null))?.ok ? true : null), 30_000, () => stopping);
    say(`  cibq up    running (its log: ${join(dir, 'cibq.log')})`);
    say();

    // Storage first, then the event, as a node does after fetching from a peer.
    const passing = await storage.commit(greeter, { ...GREETER.initial, ...GREETER.passing.files }, { parent: greeterBase, message: GREETER.passing.message, author: alice });
    const old1 = await storage.push(greeter, alice, 'main', passing);
    node.refsFetched(alice.nid, greeter.rid, [{ updated: { name: `refs/namespaces/${alice.nid}/refs/heads/main`, old: old1 ?? greeterBase, new: passing } }]);
    say(`pushed   ${greeter.name} main ${passing.slice(0, 8)}: "${GREETER.passing.message}" (should pass)`);
    const failing = await storage.commit(greeter, { ...GREETER.initial, ...GREETER.passing.files, ...GREETER.failing.files }, { parent: passing, message: GREETER.failing.message, author: alice });
    await storage.push(greeter, alice, 'main', failing);
    node.refsFetched(alice.nid, greeter.rid, [{ updated: { name: `refs/namespaces/${alice.nid}/refs/heads/main`, old: passing, new: failing } }]);
    say(`pushed   ${greeter.name} main ${failing.slice(0, 8)}: "${GREETER.failing.message}" (should fail)`);
    const head = await storage.commit(calc, { ...CALC.initial, ...CALC.patch.files }, { parent: calcBase, message: CALC.patch.message, author: bob });
    const patch = await storage.openPatch(calc, bob, { title: CALC.patch.title, description: CALC.patch.description, base: calcBase, head });
    node.refsFetched(bob.nid, calc.rid, [{ created: { name: `refs/namespaces/${bob.nid}/refs/cobs/xyz.radicle.patch/${patch}`, oid: patch } }]);
    say(`opened   ${calc.name} patch ${patch.slice(0, 8)}: "${CALC.patch.title}" by bob (should pass)`);
    say('waiting for the three runs to finish…');

    const db = join(dir, 'cibq.db');
    const runs = await until('the runs to finish', () => {
      if (!existsSync(db)) return null;
      const h = openDbReadOnly(db);
      try {
        const all = listRuns(h);
        return all.length >= 3 && all.every((r) => r.state === 'finished') ? all : null;
      } finally {
        h.close();
      }
    }, 180_000, () => stopping);
    // The reporter writes pages shortly after the database: print the links once they show the result.
    await until('the run pages', () => (runs.every((r) => {
      const page = join(dir, 'reports', 'runs', `${r.id}.html`);
      return existsSync(page) && readFileSync(page, 'utf8').includes(`class="status ${r.result ?? ''}"`);
    }) && existsSync(join(dir, 'reports', 'index.html')) && [greeter.name, calc.name].every((n) => readFileSync(join(dir, 'reports', 'index.html'), 'utf8').includes(n)) ? true : null), 30_000, () => stopping);
    say();
    for (const r of [...runs].reverse()) say(`  ${describe(r)}  ${base}/reports/runs/${r.id}.html`);
    say();
    say(`Reports:   ${base}/reports/`);
    say(`Dashboard: ${base}/queues`);
    say('Press Ctrl-C to stop everything.');
    await stopRequested;
  } catch (e) {
    if (!stopping) {
      say(`demo: ${e instanceof Error ? e.message : String(e)}`);
      const log = join(dir, 'cibq.log');
      if (existsSync(log)) say(`demo: the end of ${log}:\n${readFileSync(log, 'utf8').split('\n').slice(-15).join('\n')}`);
      code = 1;
    }
  } finally {
    stopping = true;
    // cibq first (its worker still needs Redis to finish), then the dashboard, the node, Redis.
    for (const name of ['cibq up', 'dashboard', 'redis']) {
      for (const c of children.filter((x) => x.name === name)) await c.stop(name === 'redis' ? 'SIGTERM' : 'SIGINT', 30_000);
    }
    await node.stop();
    if (process.env.REDIS_URL) await removeKeys(process.env.REDIS_URL, prefix);
    await rm(dir, { recursive: true, force: true });
    say('demo: stopped; nothing it started is running');
  }
  return code;
}

/** The demo's keys in a Redis it did not start. */
async function removeKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    const keys: string[] = [];
    for await (const batch of redis.scanStream({ match: `${prefix}:*`, count: 500 })) keys.push(...(batch as string[]));
    for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
  } catch {
    // best effort: the keys expire or stay under their own prefix
  } finally {
    redis.disconnect();
  }
}

process.exitCode = await main();
