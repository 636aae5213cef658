/**
 * The fault suite's world: a real redis-server (persistent), storage laid out as a node lays it
 * out, a fake node on a real socket, and real `cibq` processes (producer, workers, reporter, or
 * `cibq up`) started and killed by the scenarios. Every push goes to storage first and is then
 * announced, as the node does; the invariant is checked over all pushes of a scenario (see
 * invariant.ts), including pushes announced while no producer listened.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { openDbReadOnly } from '../../src/db/open-db.ts';
import { listRuns } from '../../src/db/runs.ts';
import type { RunRecord } from '../../src/model/run.ts';
import { redisKeys, redisOptions, type Keys, type RedisConfig } from '../../src/queue/redis.ts';
import { listWorkers, type WorkerInfo } from '../../src/queue/worker-registry.ts';
import { FakeNode } from '../fixtures/fake-node.ts';
import { FakeStorage, makeNodeKey } from '../fixtures/radicle-storage.ts';
import { CIBQ } from '../helpers/cli.ts';
import { waitFor } from '../helpers/pipeline.ts';
import { RedisServer } from '../helpers/redis-server.ts';

export { waitFor };
export const SLOW_ADAPTER = path.join(import.meta.dirname, '..', 'worker', 'fixtures', 'slow.sh');

export type Proc = {
  kind: string;
  name: string;
  proc: ChildProcess;
  exited: Promise<number | null>;
  logFile: string;
};

/** One push: a new commit on a new branch of alice's, written to storage, then announced. */
export type Push = { ref: string; commit: string };

export type FaultEnvOptions = {
  /** Seconds each run's adapter takes (default 0.5). */
  runSeconds?: number;
  /** Extra top-level YAML (e.g. a `redis:` section for TLS or Sentinel). */
  configExtra?: string;
  /** Use this Redis instead of starting one (its URL goes into REDIS_URL). */
  redisUrl?: string;
  /** Redis key prefix (default "f"). */
  prefix?: string;
  /** The `ci` adapter (default: slow.sh, taking `runSeconds`). */
  adapter?: { command: string; env: Record<string, string> };
  /** Find the primary through these Sentinels ("host:port") under this name. */
  sentinel?: { addresses: string[]; name: string };
};

export type FaultEnv = Awaited<ReturnType<typeof startFaultEnv>>;

export async function startFaultEnv(opts: FaultEnvOptions = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cq-fault-'));
  const radHome = path.join(dir, 'h');
  const storage = await FakeStorage.create(radHome);
  const alice = makeNodeKey(71);
  const node = await FakeNode.start(radHome, alice.nid);
  const server = opts.redisUrl === undefined ? await RedisServer.start() : null;
  const redisUrl = opts.redisUrl ?? server?.url ?? 'redis://127.0.0.1';
  const prefix = opts.prefix ?? 'f';
  const sentinel = opts.sentinel;
  const redisConfig: RedisConfig = {
    url: redisUrl,
    prefix,
    ...(sentinel ? { sentinels: sentinel.addresses.map((a) => ({ host: a.split(':')[0] ?? '', port: Number(a.split(':')[1]) })), name: sentinel.name } : {}),
  };
  const redisSection = sentinel
    ? `redis:\n  prefix: ${prefix}\n  name: ${sentinel.name}\n  sentinels: [${sentinel.addresses.map((a) => JSON.stringify(a)).join(', ')}]`
    : `redis: { prefix: ${prefix} }`;
  const record = path.join(dir, 'record.txt');
  const configFile = path.join(dir, 'cibq.yaml');
  writeFileSync(configFile, `
db: ${path.join(dir, 'cibq.db')}
report_dir: ${path.join(dir, 'reports')}
default_adapter: ci
adapters:
  ci:
    command: ${opts.adapter?.command ?? SLOW_ADAPTER}
    env: ${JSON.stringify(opts.adapter?.env ?? { RECORD_FILE: record, SLEEP_SECONDS: String(opts.runSeconds ?? 0.5) })}
filters: [ !Allow ]
kill_grace: 1s
max_attempts: 3
worker: { lock_duration: 2s, concurrency: 3 }
${opts.configExtra ?? redisSection}
`);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    RAD_HOME: radHome,
    REDIS_URL: redisUrl,
    CIBQ_LOG_LEVEL: 'info',
  };
  const { rid } = await storage.createRepo({ name: 'faults', defaultBranch: 'main', delegates: [alice.nid] });
  const c1 = await storage.commit(rid, { files: { 'README.md': 'base\n' }, message: 'base' });
  await storage.pushBranch(rid, alice.nid, 'main', c1);
  await storage.setCanonicalHead(rid, 'main', c1);
  await storage.signRefs(rid, alice.nid);

  const keys: Keys = redisKeys(prefix);
  const procs: Proc[] = [];
  const pushes: Push[] = [];
  let clients: Redis[] = [];
  let seq = 0;

  const e = {
    dir,
    radHome,
    storage,
    node,
    server,
    redisUrl,
    keys,
    rid,
    c1,
    alice,
    configFile,
    env,
    record,
    pushes,
    procs,
    /** A client for inspecting Redis, as cibq connects (retries forever; closed with the environment). */
    client(): Redis {
      const c = new Redis({ ...redisOptions(redisConfig), maxRetriesPerRequest: null, lazyConnect: false });
      c.on('error', () => {});
      clients.push(c);
      return c;
    },
    /** A real `cibq` process; its log goes to a file in the environment's dir. */
    spawn(kind: 'producer' | 'worker' | 'reporter' | 'up' | 'dashboard', args: string[] = [], extraEnv: Record<string, string> = {}): Proc {
      const name = `${kind}-${procs.length + 1}`;
      const logFile = path.join(dir, `${name}.log`);
      const out = createWriteStream(logFile);
      const proc = spawn(CIBQ, [kind, '--config', configFile, ...args], { env: { ...env, ...extraEnv }, stdio: ['ignore', 'ignore', 'pipe'] });
      proc.stderr?.pipe(out);
      const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
      const p: Proc = { kind, name, proc, exited, logFile };
      procs.push(p);
      return p;
    },
    /** The stack as separate processes: producer, `workers` workers, reporter. */
    startStack(workers = 2): { producer: Proc; workers: Proc[]; reporter: Proc } {
      const reporter = e.spawn('reporter');
      const ws = Array.from({ length: workers }, (_, i) => e.spawn('worker', ['--name', `w${procs.length + i + 1}`]));
      return { producer: e.spawn('producer'), workers: ws, reporter };
    },
    async kill(p: Proc, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
      if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill(signal);
      return p.exited;
    },
    log(p: Proc): string {
      return existsSync(p.logFile) ? readFileSync(p.logFile, 'utf8') : '';
    },
    /** Resolves once the producer has its baseline and listens. */
    async producerReady(): Promise<void> {
      const c = e.client();
      await waitFor('the producer baseline', async () => (await c.exists(keys.snapshotInitialized)) === 1, 60_000);
      await node.waitForSubscribers(1, 60_000);
    },
    async workersReady(n: number): Promise<WorkerInfo[]> {
      const c = e.client();
      return waitFor(`${n} workers`, async () => {
        const ws = await listWorkers(c, keys);
        return ws.length >= n && ws;
      }, 60_000);
    },
    /** Writes a push to storage and announces it (to nobody if no producer listens). */
    async push(): Promise<Push> {
      const n = ++seq;
      const commit = await storage.commit(rid, { files: { 'README.md': 'base\n', 'n.txt': `${n}\n` }, parent: c1, message: `push ${n}` });
      const ref = `refs/namespaces/${alice.nid}/refs/heads/burst-${n}`;
      await storage.pushBranch(rid, alice.nid, `burst-${n}`, commit);
      node.emit({ type: 'refsFetched', remote: alice.nid, rid, updated: [{ created: { name: ref, oid: commit } }] });
      const p = { ref, commit };
      pushes.push(p);
      return p;
    },
    /** `n` pushes, `gapMs` apart; `at` runs (awaited) before the push with that index. */
    async burst(n: number, gapMs: number, at: Record<number, () => Promise<void>> = {}): Promise<Push[]> {
      const out: Push[] = [];
      for (let i = 0; i < n; i++) {
        await at[i]?.();
        out.push(await e.push());
        await new Promise((r) => setTimeout(r, gapMs));
      }
      return out;
    },
    /** Every run record in the reporter's database (retried while the reporter is still creating it). */
    runs(): RunRecord[] {
      const db = path.join(dir, 'cibq.db');
      for (let attempt = 0; ; attempt++) {
        if (!existsSync(db)) return [];
        try {
          const h = openDbReadOnly(db);
          try {
            return listRuns(h);
          } finally {
            h.close();
          }
        } catch (err) {
          if (attempt >= 40) throw err;
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
        }
      }
    },
    /** How many times each run's adapter started (from the adapter's own record). */
    executions(): Map<string, number> {
      const out = new Map<string, number>();
      if (!existsSync(record)) return out;
      for (const line of readFileSync(record, 'utf8').split('\n')) {
        const [kind, run] = line.split(' ');
        if (kind === 'start' && run !== undefined) out.set(run, (out.get(run) ?? 0) + 1);
      }
      return out;
    },
    async close(): Promise<void> {
      await Promise.all(procs.map((p) => e.kill(p)));
      for (const c of clients) c.disconnect();
      clients = [];
      await node.stop();
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return e;
}
