/**
 * The whole broker against real parts: a real redis-server, storage laid out as a node lays it out,
 * a fake node on a real Unix socket, real adapter processes, a real SQLite file and report dir.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { startProducer } from '../../src/producer/main.ts';
import { startReporter } from '../../src/reporter/main.ts';
import { openDbReadOnly } from '../../src/db/open-db.ts';
import { listRuns } from '../../src/db/runs.ts';
import type { Config } from '../../src/config/config.ts';
import { parseConfig } from '../../src/config/config-load.ts';
import type { RunRecord } from '../../src/model/run.ts';
import { startWorker } from '../../src/worker/main.ts';
import { FakeNode } from '../fixtures/fake-node.ts';
import { FakeStorage, makeNodeKey } from '../fixtures/radicle-storage.ts';
import { RedisServer } from './redis-server.ts';

export const ADAPTERS_DIR = path.join(import.meta.dirname, '..', 'fixtures', 'adapters');

export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 15_000): Promise<Exclude<T, false | null | undefined | 0 | 0n>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as Exclude<T, false | null | undefined | 0 | 0n>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export type Pipeline = Awaited<ReturnType<typeof startPipeline>>;

export async function startPipeline(opts: { config: (p: { dir: string; recordFile: string; adapters: string }) => string; start?: ('producer' | 'worker' | 'reporter')[] }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cq-'));
  const radHome = path.join(dir, 'h');
  const storage = await FakeStorage.create(radHome);
  const alice = makeNodeKey(1);
  const bob = makeNodeKey(2);
  const node = await FakeNode.start(radHome, alice.nid);
  const redis = await RedisServer.start();
  const recordFile = path.join(dir, 'record.jsonl');
  const env = { REDIS_URL: redis.url, RAD_HOME: radHome, PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir };
  const configText = opts.config({ dir, recordFile, adapters: ADAPTERS_DIR });
  const configFile = path.join(dir, 'cibq.yaml');
  writeFileSync(configFile, configText);
  const config: Config = parseConfig(configText, {
    path: configFile,
    env,
    homeDir: dir,
  });
  const log = pino({ level: process.env.CIBQ_TEST_LOG ?? 'silent' });
  const which = new Set(opts.start ?? ['producer', 'worker', 'reporter']);
  const reporter = which.has('reporter') ? startReporter(config, log, '0.1.0-test') : null;
  const worker = which.has('worker') ? startWorker(config, log, env, { concurrency: 2, name: 'test-worker' }) : null;
  const producer = which.has('producer') ? startProducer(config, log) : null;
  const p = {
    dir,
    radHome,
    storage,
    alice,
    bob,
    node,
    redis,
    config,
    configFile,
    env,
    log,
    recordFile,
    producer,
    worker,
    reporter,
    /** Trigger lines received by recorder adapters, in order. */
    recorded(): { adapter: string | null; run: string; message: Record<string, unknown> }[] {
      if (!existsSync(recordFile)) return [];
      return readFileSync(recordFile, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => {
          const r = JSON.parse(l) as { adapter: string | null; run: string; line: string };
          return { adapter: r.adapter, run: r.run, message: JSON.parse(r.line) as Record<string, unknown> };
        });
    },
    runs(): RunRecord[] {
      if (!existsSync(config.db)) return [];
      const db = openDbReadOnly(config.db);
      try {
        return listRuns(db);
      } finally {
        db.close();
      }
    },
    async waitForRuns(n: number, pred: (r: RunRecord) => boolean = (r) => r.state === 'finished'): Promise<RunRecord[]> {
      return waitFor(`${n} runs`, () => {
        const rs = p.runs().filter(pred);
        return rs.length >= n ? rs : null;
      });
    },
    /** Lets the producer handle everything emitted so far. */
    async settle(): Promise<void> {
      await new Promise((r) => setTimeout(r, 100));
      await producer?.producer.idle();
    },
    async close(): Promise<void> {
      await producer?.stop(false);
      await worker?.stop(false);
      await reporter?.stop(false);
      await node.stop();
      await redis.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  if (producer) await node.waitForSubscribers(1);
  await p.settle();
  return p;
}

/** A repository with `main` pushed by alice (a delegate) and set as the canonical head. */
export async function seedRepo(p: Pipeline, opts: { name?: string; private?: boolean } = {}) {
  const { rid } = await p.storage.createRepo({
    name: opts.name ?? 'acme',
    description: "Acme's repository",
    defaultBranch: 'main',
    delegates: [p.alice.nid],
    ...(opts.private ? { private: true } : {}),
  });
  const c1 = await p.storage.commit(rid, { files: { 'README.md': 'hello\n', '.radicle/native.yaml': 'shell: true\n' }, message: 'first' });
  await p.storage.pushBranch(rid, p.alice.nid, 'main', c1);
  await p.storage.setCanonicalHead(rid, 'main', c1);
  await p.storage.signRefs(rid, p.alice.nid);
  return { rid, c1 };
}

export function refsFetched(remote: string, rid: string, updated: unknown[]) {
  return { type: 'refsFetched', remote, rid, updated };
}
