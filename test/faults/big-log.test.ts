/**
 * Fault suite: an adapter writes 200 MiB to stderr. The worker keeps only log_limit of it (head and
 * tail, with a marker): its memory stays bounded while the log streams through, and so does what
 * is stored — the run's log in SQLite, the database file, Redis, the report pages.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { ADAPTERS_DIR } from '../helpers/pipeline.ts';
import { startFaultEnv, waitFor, type FaultEnv, type Proc } from './fault-env.ts';
import { checkInvariant } from './invariant.ts';

const MiB = 1024 * 1024;
const HEAP_MIB = 96;

/** Resident and peak resident memory of a process, in bytes (Linux /proc). */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

function dirSize(dir: string): number {
  let n = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) n += statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return n;
}

describe('faults: a 200 MiB adapter log', () => {
  let e: FaultEnv;
  let worker: Proc;

  before(async () => {
    e = await startFaultEnv({ adapter: { command: path.join(ADAPTERS_DIR, 'stderr-flood.mjs'), env: { FLOOD_BYTES: String(200 * MiB) } } });
    e.spawn('reporter');
    // A heap cap far below the log's size: a worker that kept the log would die of it.
    worker = e.spawn('worker', ['--name', 'flood-worker', '--concurrency', '1'], { NODE_OPTIONS: `--max-old-space-size=${HEAP_MIB}` });
    e.spawn('producer');
    await e.producerReady();
    await e.workersReady(1);
  });
  after(async () => e?.close());

  test('memory and stored size stay bounded', async (t) => {
    const pid = worker.proc.pid as number;
    const before = memory(pid);
    // Two runs, one after the other (the worker takes one at a time): memory that stays bounded
    // grows during the first and barely moves during the second.
    const [first] = await e.burst(1, 0);
    await checkInvariant(t, e, 'a 200 MiB adapter log', { timeoutMs: 180_000, quietMs: 500 });
    const afterFirst = memory(pid);
    const [push] = await e.burst(1, 0);
    await checkInvariant(t, e, 'two 200 MiB adapter logs', { timeoutMs: 180_000 });
    const after = memory(pid);
    assert.ok(first);
    const db = new DatabaseSync(path.join(e.dir, 'cibq.db'), { readOnly: true });
    let stored: number;
    try {
      const row = db.prepare('SELECT log, result FROM runs WHERE commit_oid = ?').get(push?.commit ?? '') as { log: string | null; result: string };
      assert.equal(row.result, 'success');
      stored = Buffer.byteLength(row.log ?? '');
      assert.match(row.log ?? '', /^FLOOD-START\n/);
      assert.match(row.log ?? '', /bytes omitted/);
      assert.match(row.log ?? '', /FLOOD-END\n$/);
    } finally {
      db.close();
    }
    const dbFiles = readdirSync(e.dir).filter((f) => f.startsWith('cibq.db')).reduce((n, f) => n + statSync(path.join(e.dir, f)).size, 0);
    const reports = dirSize(path.join(e.dir, 'reports'));
    const redisMemory = Number(/used_memory:(\d+)/.exec(await e.client().info('memory'))?.[1] ?? 0);
    t.diagnostic(`200 MiB logs (worker heap capped at ${HEAP_MIB} MiB): worker memory ${Math.round(before.rss / MiB)} MiB before, ` +
      `peak ${Math.round(afterFirst.peak / MiB)} MiB after the first log, ${Math.round(after.peak / MiB)} MiB after the second; ` +
      `stored log ${Math.round(stored / 1024)} KiB, database ${Math.round(dbFiles / MiB)} MiB, reports ${Math.round(reports / 1024)} KiB, Redis ${Math.round(redisMemory / MiB)} MiB`);
    assert.ok(stored <= 1.1 * MiB, `the stored log is bounded by log_limit (1 MiB): ${stored}`);
    assert.ok(afterFirst.peak - before.rss < 200 * MiB, `the worker's memory grew by the log's size: ${Math.round((afterFirst.peak - before.rss) / MiB)} MiB`);
    assert.ok(after.peak - afterFirst.peak < 64 * MiB, `a second 200 MiB log grew the worker's peak memory by ${Math.round((after.peak - afterFirst.peak) / MiB)} MiB`);
    assert.ok(dbFiles < 16 * MiB, `database files: ${dbFiles} bytes`);
    assert.ok(reports < 8 * MiB, `report pages: ${reports} bytes`);
    assert.ok(redisMemory < 64 * MiB, `Redis holds ${redisMemory} bytes`);
    await waitFor('the worker to stay up', () => worker.proc.exitCode === null);
  });
});
