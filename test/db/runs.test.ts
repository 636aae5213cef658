import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DatabaseSync } from 'node:sqlite';
import { openDb, openDbReadOnly } from '../../src/db/open-db.ts';
import { migrate, schemaVersion } from '../../src/db/migrate.ts';
import { MIGRATIONS } from '../../src/db/migrations.ts';
import { applyUpdate } from '../../src/db/apply-update.ts';
import {
  countRuns,
  countRunsByResult,
  getRun,
  getRunDetail,
  latestRunPerRepo,
  listRuns,
} from '../../src/db/runs.ts';
import { RID_A, RID_B, RID_PRIVATE, subject, update } from '../reporter/fixtures.ts';

const NODE = process.execPath;
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cibq-st-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('openDb and migrations', () => {
  test('a fresh file gets the newest schema, in WAL mode, and reopening is a no-op', () => {
    const path = join(dir, 'fresh.sqlite');
    const db = openDb(path);
    assert.equal(schemaVersion(db), MIGRATIONS.at(-1)?.version);
    assert.equal(db.prepare('PRAGMA journal_mode').get()?.['journal_mode'], 'wal');
    const cols = db.prepare('PRAGMA table_info(runs)').all().map((c) => c['name']);
    for (const c of ['id', 'commit_oid', 'private', 'trigger_json', 'log', 'updated_at']) assert.ok(cols.includes(c), c);
    const indexes = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'runs'`).all();
    assert.ok(indexes.map((i) => i['name']).includes('runs_repo_queued'));
    db.close();
    const again = openDb(path);
    assert.equal(again.prepare('SELECT COUNT(*) AS n FROM schema_version').get()?.['n'], MIGRATIONS.length);
    again.close();
  });

  test('a database in a directory that does not exist yet is created with its directory', () => {
    const path = join(dir, 'not', 'yet', 'there.sqlite');
    const db = openDb(path);
    assert.equal(schemaVersion(db), MIGRATIONS.at(-1)?.version);
    db.close();
  });

  test('migrations apply in order, and a failing one rolls back and is not recorded', () => {
    const db = new DatabaseSync(':memory:');
    const v = migrate(db, [
      { version: 2, name: 'second', sql: 'ALTER TABLE t ADD COLUMN b TEXT' },
      { version: 1, name: 'first', sql: 'CREATE TABLE t (a TEXT)' },
    ]);
    assert.equal(v, 2);
    assert.throws(
      () => migrate(db, [{ version: 3, name: 'broken', sql: 'CREATE TABLE u (x); SELECT * FROM missing' }]),
      /migration 3 \(broken\) failed/,
    );
    assert.equal(schemaVersion(db), 2);
    assert.equal(db.prepare(`SELECT name FROM sqlite_master WHERE name = 'u'`).get(), undefined);
    db.close();
  });

  test('a database newer than the code is refused', () => {
    const db = new DatabaseSync(':memory:');
    migrate(db, [{ version: 99, name: 'future', sql: 'SELECT 1' }]);
    assert.throws(() => migrate(db), /newer than this cibq understands/);
    db.close();
  });

  test('openDbReadOnly refuses a file that is not a cibq database and cannot write', async () => {
    const plain = join(dir, 'plain.sqlite');
    new DatabaseSync(plain).close();
    assert.throws(() => openDbReadOnly(plain), /not a cibq database/);
    const path = join(dir, 'ro.sqlite');
    openDb(path).close();
    const ro = openDbReadOnly(path);
    assert.throws(() => applyUpdate(ro, update(subject(), 'queued', '2024-05-01T10:00:00Z')), /readonly|read-only/i);
    ro.close();
  });
});

describe('run queries', () => {
  let db: DatabaseSync;
  before(() => {
    db = openDb(join(dir, 'queries.sqlite'));
    const runs = [
      subject({ id: 'a-old', queued_at: '2024-05-01T09:00:00Z' }),
      subject({ id: 'a-new', queued_at: '2024-05-01T11:00:00.5Z' }),
      // Same second as a-new without a fraction: text order alone would put it first.
      subject({ id: 'a-mid', queued_at: '2024-05-01T11:00:00Z' }),
      subject({ id: 'b-1', repo: RID_B, repo_name: 'zebra', queued_at: '2024-05-02T00:00:00Z' }),
      subject({ id: 'p-1', repo: RID_PRIVATE, repo_name: 'secret', private: true, queued_at: '2024-05-03T00:00:00Z' }),
    ];
    for (const s of runs) applyUpdate(db, update(s, 'queued', s.queued_at));
    applyUpdate(db, update(runs[1]!, 'finished', '2024-05-01T11:05:00Z', { result: 'success' }));
    applyUpdate(db, update(runs[0]!, 'finished', '2024-05-01T09:05:00Z', { result: 'failure' }));
  });
  after(() => db.close());

  test('listRuns is newest first across timestamp precisions, filtered by repository and limited', () => {
    assert.deepEqual(
      listRuns(db).map((r) => r.id),
      ['p-1', 'b-1', 'a-new', 'a-mid', 'a-old'],
    );
    assert.deepEqual(
      listRuns(db, { repo: RID_A, limit: 2 }).map((r) => r.id),
      ['a-new', 'a-mid'],
    );
    assert.deepEqual(
      listRuns(db, { includePrivate: false }).map((r) => r.id),
      ['b-1', 'a-new', 'a-mid', 'a-old'],
    );
  });

  test('getRun returns exactly the RunRecord keys; getRunDetail adds the page fields', () => {
    const r = getRun(db, 'a-new');
    assert.deepEqual(Object.keys(r ?? {}).sort(), [
      'adapter', 'adapter_run_id', 'attempts', 'commit', 'event_type', 'finished_at', 'id', 'info_url', 'patch',
      'queued_at', 'reason', 'ref', 'repo', 'repo_name', 'result', 'started_at', 'state',
    ]);
    assert.equal(r?.commit, 'c'.repeat(40));
    assert.equal(r?.queued_at, '2024-05-01T11:00:00.500Z');
    assert.equal(r?.result, 'success');
    const d = getRunDetail(db, 'p-1');
    assert.equal(d?.private, true);
    assert.equal(d?.author, subject().author);
    assert.equal(getRun(db, 'nope'), null);
  });

  test('latestRunPerRepo gives one newest run per repository; counts match', () => {
    assert.deepEqual(
      latestRunPerRepo(db).map((r) => [r.repo_name, r.id]),
      [['heartwood', 'a-new'], ['secret', 'p-1'], ['zebra', 'b-1']],
    );
    assert.deepEqual(
      latestRunPerRepo(db, { includePrivate: false }).map((r) => r.id),
      ['a-new', 'b-1'],
    );
    assert.equal(countRuns(db), 5);
    assert.equal(countRuns(db, { includePrivate: false }), 4);
    assert.deepEqual(countRunsByResult(db), { success: 1, failure: 1, error: 0, timeout: 0, cancelled: 0 });
  });

  test('a corrupted row is reported, not passed on', () => {
    db.exec('PRAGMA ignore_check_constraints = ON');
    db.exec(`UPDATE runs SET state = 'exploded' WHERE id = 'b-1'`);
    assert.throws(() => getRun(db, 'b-1'), /invalid row in runs table/);
    db.exec(`UPDATE runs SET state = 'queued' WHERE id = 'b-1'`);
    db.exec('PRAGMA ignore_check_constraints = OFF');
  });
});

describe('read-only handle while the reporter writes', () => {
  test('a reader is not blocked by an open write transaction and sees only committed runs', () => {
    const path = join(dir, 'concurrent.sqlite');
    const writer = openDb(path);
    applyUpdate(writer, update(subject({ id: 'committed' }), 'queued', '2024-05-01T10:00:00Z'));
    const reader = openDbReadOnly(path);
    writer.exec('BEGIN IMMEDIATE');
    applyUpdate(writer, update(subject({ id: 'pending' }), 'queued', '2024-05-01T10:00:00Z'));
    const started = Date.now();
    assert.deepEqual(listRuns(reader).map((r) => r.id), ['committed']);
    assert.ok(Date.now() - started < 1000, 'reader waited for the writer');
    writer.exec('COMMIT');
    assert.deepEqual(listRuns(reader).map((r) => r.id).sort(), ['committed', 'pending']);
    reader.close();
    writer.close();
  });

  test('a reader polls without errors while another process writes many updates', async () => {
    const path = join(dir, 'proc.sqlite');
    openDb(path).close();
    const script = join(dir, 'writer.mjs');
    const mod = (p: string) => pathToFileURL(join(import.meta.dirname, p)).href;
    await writeFile(
      script,
      `import { openDb } from ${JSON.stringify(mod('../../src/db/open-db.ts'))};
import { applyUpdate } from ${JSON.stringify(mod('../../src/db/apply-update.ts'))};
const db = openDb(process.argv[2]);
const base = ${JSON.stringify(subject())};
for (let i = 0; i < 400; i++) {
  const s = { ...base, id: 'w-' + i, queued_at: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString() };
  applyUpdate(db, { subject: s, state: 'queued', at: s.queued_at });
  applyUpdate(db, { subject: s, state: 'finished', at: s.queued_at, result: 'success', log: 'x'.repeat(2000) });
}
db.close();
`,
    );
    const child = spawn(NODE, ['--disable-warning=ExperimentalWarning', script, path], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    let done = false;
    void exited.then(() => (done = true));

    const reader = openDbReadOnly(path);
    const seen: number[] = [];
    while (!done) {
      seen.push(countRuns(reader));
      await new Promise((r) => setTimeout(r, 2));
    }
    assert.equal(await exited, 0, stderr);
    seen.push(countRuns(reader));
    reader.close();
    assert.ok(seen.every((n, i) => i === 0 || n >= seen[i - 1]!), 'counts never go backwards');
    assert.ok(new Set(seen).size > 2, `reader saw progress while writing: ${seen.length} reads`);
    assert.equal(seen.at(-1), 400);
  });
});
