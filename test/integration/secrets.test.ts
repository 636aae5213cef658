/**
 * A sensitive_env value never leaves the worker: an adapter that prints the secret, its base64
 * (alone and inside longer base64), its URL-encoded form, the secret split across two writes, and
 * a bad stdout line quoting it — and none of it reaches SQLite, the HTML report, status.json, the
 * BullMQ job log or job data, anything else in Redis, or the worker's own log lines. Meanwhile the
 * run's log streams: the running run's page and row show the log so far.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { openDbReadOnly } from '../../src/db/open-db.ts';
import { redisKeys } from '../../src/queue/redis.ts';
import { startWorker } from '../../src/worker/main.ts';
import { refsFetched, seedRepo, startPipeline, waitFor, type Pipeline } from '../helpers/pipeline.ts';

const SECRET = 'Tok3n/S3cret+Value!';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const half = Math.floor(SECRET.length / 2);

/** Anything that would give the secret away. */
const FORBIDDEN = [
  SECRET,
  SECRET.slice(0, half),
  SECRET.slice(half),
  b64(SECRET).replace(/=+$/, ''),
  Buffer.from(SECRET).toString('base64url'),
  b64(`user:${SECRET}`).slice(8, -4),
  encodeURIComponent(SECRET),
];

function assertNoSecret(where: string, text: string): void {
  for (const f of FORBIDDEN) assert.ok(!text.includes(f), `${where} contains ${JSON.stringify(f)}`);
}

const CONFIG = ({ dir, adapters }: { dir: string; adapters: string }) => `
db: cibq.db
report_dir: reports
default_adapter: leak
adapters:
  leak:
    command: ${adapters}/leak-secret.mjs
    env: { GATE_FILE: ${dir}/gate }
    sensitive_env: { API_TOKEN: ${JSON.stringify(SECRET)} }
filters:
  - !Or [ !BranchCreated, !BranchUpdated ]
max_run_time: 60s
`;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.join(d.parentPath, d.name));
}

function dbRow(db: string, id: string): { state: string; log: string | null; reason: string | null } | undefined {
  const d = openDbReadOnly(db);
  try {
    return d.prepare('SELECT state, log, reason FROM runs WHERE id = ?').get(id) as { state: string; log: string | null; reason: string | null } | undefined;
  } finally {
    d.close();
  }
}

/** Every value stored in Redis, as text. */
async function dumpRedis(redis: Redis): Promise<string> {
  const parts: string[] = [];
  for (const key of await redis.keys('*')) {
    const type = await redis.type(key);
    if (type === 'string') parts.push((await redis.get(key)) ?? '');
    else if (type === 'list') parts.push(...(await redis.lrange(key, 0, -1)));
    else if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(key)));
    else if (type === 'set') parts.push(...(await redis.smembers(key)));
    else if (type === 'zset') parts.push(...(await redis.zrange(key, '0', '-1')));
    else if (type === 'stream') parts.push(JSON.stringify(await redis.xrange(key, '-', '+')));
    parts.push(key);
  }
  return parts.join('\n');
}

describe('secrets never leave the worker', () => {
  let p: Pipeline;
  let worker: ReturnType<typeof startWorker>;
  let queue: Queue;
  let redis: Redis;
  const workerLog: string[] = [];
  let runId: string;

  before(async () => {
    p = await startPipeline({ config: CONFIG, start: ['producer', 'reporter'] });
    // The worker logs everything, to a stream we can read.
    const log = pino({ level: 'trace' }, { write: (s: string) => void workerLog.push(s) });
    worker = startWorker(p.config, log, p.env, { name: 'leak-worker' });
    redis = new Redis(p.redis.url, { maxRetriesPerRequest: null });
    const keys = redisKeys(p.config.redis.prefix);
    queue = new Queue(keys.runQueue('leak'), { connection: redis, prefix: keys.bullPrefix });
    const { rid, c1 } = await seedRepo(p);
    await p.settle();
    const c2 = await p.storage.commit(rid, { files: { 'x.txt': 'x' }, parent: c1, message: 'leak' });
    await p.storage.pushBranch(rid, p.alice.nid, 'main', c2);
    p.node.emit(refsFetched(p.alice.nid, rid, [{ updated: { name: `refs/namespaces/${p.alice.nid}/refs/heads/main`, old: c1, new: c2 } }]));
    const [run] = await p.waitForRuns(1, () => true);
    runId = run!.id;
  });

  after(async () => {
    await queue?.close();
    redis?.disconnect();
    await worker?.stop(false);
    await p?.close();
  });

  test('while the adapter runs, its row, run page and job log show the log so far, redacted', async () => {
    const row = await waitFor('live log in SQLite', () => {
      const r = dbRow(p.config.db, runId);
      return r?.log?.includes('waiting for gate') ? r : null;
    });
    assert.equal(row.state, 'running');
    assert.ok(row.log?.includes('split: *** end of split\n'), row.log ?? '');
    assert.ok(!row.log?.includes('gate opened'));
    assertNoSecret('live log', row.log ?? '');

    const page = path.join(p.config.reportDir!, 'runs', `${runId}.html`);
    const html = await waitFor('live log on the run page', () => {
      try {
        const h = readFileSync(page, 'utf8');
        return h.includes('waiting for gate') ? h : null;
      } catch {
        return null;
      }
    });
    assert.ok(html.includes('plain: ***'));
    assertNoSecret('live run page', html);

    const jobLog = await waitFor('live job log', async () => {
      const { logs } = await queue.getJobLogs(runId);
      return logs.includes('waiting for gate') ? logs : null;
    });
    assert.ok(jobLog.includes('plain: ***'), jobLog.join('\n'));
    assertNoSecret('live job log', jobLog.join('\n'));
  });

  test('after the run, nothing anywhere contains the secret or any of its forms', async () => {
    writeFileSync(path.join(p.dir, 'gate'), '');
    const [run] = await p.waitForRuns(1, (r) => r.id === runId && r.state === 'finished');
    assert.equal(run?.result, 'error');
    await worker.worker.close(); // every job log write and update is out
    await waitFor('reporter caught up', async () => (await redis.xlen(redisKeys(p.config.redis.prefix).runUpdates)) === 0);
    await p.reporter!.reporter.writePages();

    // SQLite: the log and the reason (which quotes the bad stdout line, masked).
    const row = dbRow(p.config.db, runId)!;
    assert.match(row.reason ?? '', /bad JSON.*not json: \*\*\* \*\*\*/);
    assert.ok(row.log?.includes('gate opened'));
    for (const line of ['plain: ***', 'base64: ***', 'url: https://example.com/?token=***', 'split: *** end of split']) {
      assert.ok(row.log?.includes(line), `log has ${line}`);
    }
    assert.match(row.log ?? '', /basic auth: \S{0,8}\*\*\*\S{0,4}\n/);
    assertNoSecret('SQLite log', row.log ?? '');
    assertNoSecret('SQLite reason', row.reason ?? '');
    for (const f of filesUnder(path.dirname(p.config.db)).filter((f) => f.includes('cibq.db'))) {
      assertNoSecret(f, readFileSync(f).toString('latin1'));
    }

    // The HTML report and status.json.
    const reportFiles = filesUnder(p.config.reportDir!);
    assert.ok(reportFiles.some((f) => f.endsWith('status.json')));
    const runPage = readFileSync(path.join(p.config.reportDir!, 'runs', `${runId}.html`), 'utf8');
    assert.ok(runPage.includes('gate opened'));
    for (const f of reportFiles) assertNoSecret(f, readFileSync(f, 'utf8'));

    // BullMQ: the job log, the job's data and result, and every other value in Redis.
    const { logs } = await queue.getJobLogs(runId);
    assert.ok(logs.includes('split: *** end of split') && logs.includes('gate opened'), logs.join('\n'));
    assertNoSecret('job log', logs.join('\n'));
    const job = await queue.getJob(runId);
    assertNoSecret('job', JSON.stringify({ data: job?.data, returnvalue: job?.returnvalue, failedReason: job?.failedReason }));
    assertNoSecret('redis', await dumpRedis(redis));

    // The worker's own log lines, which quote the bad line as the run's reason.
    const workerText = workerLog.join('');
    assert.ok(workerText.includes('bad JSON'), 'the worker logged the protocol error');
    assertNoSecret('worker log', workerText);
  });
});
