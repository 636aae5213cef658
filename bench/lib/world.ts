/**
 * What every bench figure runs against, real parts only: a redis-server of its own on a free port,
 * node storage in a temp dir, a fake node on a real Unix socket, the bench adapters, and cibq
 * processes started with `bin/cibq` and a config file written for the figure.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Redis } from 'ioredis';
import { FakeNode } from '../../test/fixtures/fake-node.ts';
import { FakeStorage, makeNodeKey } from '../../test/fixtures/radicle-storage.ts';
import { RedisServer } from '../../test/helpers/redis-server.ts';
import { writeAdapters, type AdapterName } from './adapters.ts';
import { CibqProcess } from './cibq-process.ts';
import { StartPipe } from './fifo.ts';

export class World {
  readonly dir: string;
  readonly radHome: string;
  readonly redisServer: RedisServer;
  readonly redis: Redis;
  readonly storage: FakeStorage;
  readonly node: FakeNode;
  readonly nid: string;
  readonly adapters: Record<AdapterName, string>;
  readonly pipe: StartPipe;
  readonly #procs = new Set<CibqProcess>();
  #n = 0;

  private constructor(dir: string, redisServer: RedisServer, storage: FakeStorage, node: FakeNode, nid: string) {
    this.dir = dir;
    this.radHome = path.join(dir, 'rad');
    this.redisServer = redisServer;
    this.redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
    this.storage = storage;
    this.node = node;
    this.nid = nid;
    this.adapters = writeAdapters(dir);
    this.pipe = new StartPipe(path.join(dir, 'starts.fifo'));
  }

  static async create(): Promise<World> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cibq-bench-'));
    // A Redis as a new user runs it: no append-only file (the default).
    const redisServer = await RedisServer.start({ appendOnly: false });
    const radHome = path.join(dir, 'rad');
    const storage = await FakeStorage.create(radHome);
    const alice = makeNodeKey(1);
    const node = await FakeNode.start(radHome, alice.nid);
    return new World(dir, redisServer, storage, node, alice.nid);
  }

  /** The environment cibq processes get: what an operator's shell would give them, and BENCH_FIFO for the adapters. */
  get env(): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: this.dir,
      REDIS_URL: this.redisServer.url,
      RAD_HOME: this.radHome,
      BENCH_FIFO: this.pipe.path,
    };
  }

  /** A fresh config file (new database and report dir) for one figure; returns its paths. */
  config(name: string, opts: { adapter: AdapterName; concurrency?: number; reportDir?: boolean; db?: string; reportDirPath?: string }): { file: string; db: string; reportDir: string } {
    const db = opts.db ?? path.join(this.dir, `${name}.db`);
    const reportDir = opts.reportDirPath ?? path.join(this.dir, `${name}-report`);
    const file = path.join(this.dir, `${name}.yaml`);
    writeFileSync(
      file,
      [
        `db: ${db}`,
        ...(opts.reportDir === false ? [] : [`report_dir: ${reportDir}`]),
        'default_adapter: bench',
        'adapters:',
        `  bench: { command: ${this.adapters[opts.adapter]} }`,
        'filters: [ !Allow ]',
        `worker: { concurrency: ${opts.concurrency ?? 4} }`,
        '',
      ].join('\n'),
    );
    return { file, db, reportDir };
  }

  /** Starts `cibq <args>`; stopped by close() if the figure does not stop it. */
  start(name: string, args: string[], extraNodeArgs?: string[]): CibqProcess {
    const p = CibqProcess.start(name, args, {
      env: this.env,
      logFile: path.join(this.dir, `${name}-${++this.#n}.log`),
      ...(extraNodeArgs ? { extraNodeArgs } : {}),
    });
    this.#procs.add(p);
    return p;
  }

  async stop(p: CibqProcess): Promise<void> {
    await p.stop();
    this.#procs.delete(p);
  }

  /** Forgets everything in Redis (between figures, with no cibq process running). */
  async flushRedis(): Promise<void> {
    await this.redis.flushall();
  }

  async close(): Promise<void> {
    await Promise.all([...this.#procs].map((p) => p.stop(5000)));
    this.pipe.close();
    this.redis.disconnect();
    await this.node.stop();
    await this.redisServer.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Counts runs in cibq's database, read-only, while the reporter writes it. */
export class RunCounter {
  readonly #path: string;
  #db: DatabaseSync | null = null;

  constructor(dbPath: string) {
    this.#path = dbPath;
  }

  finished(): number {
    try {
      this.#db ??= new DatabaseSync(this.#path, { readOnly: true });
      const row = this.#db.prepare("SELECT COUNT(*) AS n FROM runs WHERE state = 'finished'").get();
      return Number(row?.['n'] ?? 0);
    } catch {
      return 0; // not created yet
    }
  }

  /** Resolves with performance.now() once at least `n` runs are finished. */
  async waitFinished(n: number, timeoutMs: number, pollMs = 10): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.finished() >= n) return performance.now();
      if (Date.now() > deadline) throw new Error(`only ${this.finished()} of ${n} runs finished within ${timeoutMs} ms (${this.#path})`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  close(): void {
    this.#db?.close();
    this.#db = null;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The q-quantile (0…1) of `xs`, nearest rank. */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
}
