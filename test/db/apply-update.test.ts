import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { openDb } from '../../src/db/open-db.ts';
import { applyUpdate, applyUpdates } from '../../src/db/apply-update.ts';
import { getRunDetail, getRunRow } from '../../src/db/runs.ts';
import type { RunUpdate } from '../../src/model/run.ts';
import { subject, update } from '../reporter/fixtures.ts';

let dir: string;
let db: DatabaseSync;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cibq-au-'));
  db = openDb(join(dir, 'runs.sqlite'));
});
after(async () => {
  db.close();
  await rm(dir, { recursive: true, force: true });
});

/** A full life cycle of one run, in the order a worker publishes it. */
function lifecycle(id: string): RunUpdate[] {
  const s = subject({ id, event_type: 'patch', patch: 'a'.repeat(40), title: 'Fix the frobnicator' });
  return [
    update(s, 'queued', '2024-05-01T10:00:00Z'),
    update(s, 'triggered', '2024-05-01T10:00:05Z', { attempts: 1, worker: 'w1', trigger: '{"request":"trigger"}' }),
    update(s, 'running', '2024-05-01T10:00:06Z', {
      attempts: 1,
      adapter_run_id: 'native-7',
      info_url: 'https://ci.example/7',
      log: 'step 1\n',
    }),
    update(s, 'finished', '2024-05-01T10:02:06Z', {
      attempts: 1,
      result: 'failure',
      reason: 'tests failed',
      exit_code: 1,
      log: 'step 1\nstep 2\nFAILED\n',
    }),
  ];
}

function row(id: string) {
  const r = getRunRow(db, id);
  assert.ok(r !== null, `run ${id} exists`);
  return r;
}

describe('applyUpdate', () => {
  test('the first update creates the run from its subject; a later state fills in the timeline', () => {
    const [queued, triggered, running, finished] = lifecycle('life');
    assert.equal(applyUpdate(db, running!), true);
    const r = row('life');
    assert.equal(r.state, 'running');
    assert.equal(r.title, 'Fix the frobnicator');
    assert.equal(r.queued_at, '2024-05-01T10:00:00.000Z');
    assert.equal(r.started_at, '2024-05-01T10:00:06.000Z');
    assert.equal(r.triggered_at, null);
    for (const u of [queued!, triggered!, finished!]) applyUpdate(db, u);
    const d = getRunDetail(db, 'life');
    assert.equal(d?.state, 'finished');
    assert.equal(d?.triggered_at, '2024-05-01T10:00:05.000Z');
    assert.equal(d?.finished_at, '2024-05-01T10:02:06.000Z');
    assert.equal(d?.result, 'failure');
    assert.equal(d?.reason, 'tests failed');
    assert.equal(d?.exit_code, 1);
    assert.equal(d?.adapter_run_id, 'native-7');
    assert.equal(d?.info_url, 'https://ci.example/7');
    assert.equal(d?.worker, 'w1');
    assert.equal(d?.trigger, '{"request":"trigger"}');
    assert.equal(d?.log, 'step 1\nstep 2\nFAILED\n');
    assert.equal(d?.attempts, 1);
  });

  test('applying the same update twice changes nothing the second time', () => {
    const updates = lifecycle('twice');
    for (const u of updates) assert.equal(applyUpdate(db, u), true);
    const before = row('twice');
    for (const u of updates) assert.equal(applyUpdate(db, u), false, `re-applying ${u.state}`);
    assert.deepEqual(row('twice'), before);
  });

  test('every order of the same updates gives the same run', () => {
    const orders = [
      [0, 1, 2, 3],
      [3, 2, 1, 0],
      [3, 0, 2, 1],
      [2, 3, 0, 1],
      [1, 3, 2, 0],
    ];
    const rows = orders.map((order, i) => {
      const updates = lifecycle(`order-${i}`);
      for (const j of order) applyUpdate(db, updates[j]!);
      const { id: _id, ...rest } = row(`order-${i}`);
      return rest;
    });
    for (const r of rows.slice(1)) assert.deepEqual(r, rows[0]);
  });

  test('finished before running: the run stays finished and the running fields are merged in', () => {
    const s = subject({ id: 'late-running' });
    applyUpdate(db, update(s, 'finished', '2024-05-01T10:05:00Z', { result: 'success', attempts: 1, log: 'all good\n' }));
    assert.equal(
      applyUpdate(db, update(s, 'running', '2024-05-01T10:01:00Z', { attempts: 1, adapter_run_id: 'x-1', log: 'all' })),
      true,
    );
    const r = row('late-running');
    assert.equal(r.state, 'finished');
    assert.equal(r.result, 'success');
    assert.equal(r.started_at, '2024-05-01T10:01:00.000Z');
    assert.equal(r.adapter_run_id, 'x-1');
    assert.equal(r.log, 'all good\n', 'a shorter, older log does not replace the final one');
  });

  test('the first finished update wins; a second finished update does not change the result', () => {
    const s = subject({ id: 'two-finishes' });
    applyUpdate(db, update(s, 'finished', '2024-05-01T10:05:00Z', { result: 'timeout', reason: 'took 1h' }));
    assert.equal(
      applyUpdate(db, update(s, 'finished', '2024-05-01T10:06:00Z', { result: 'success', reason: null, exit_code: 0 })),
      false,
    );
    const r = row('two-finishes');
    assert.equal(r.result, 'timeout');
    assert.equal(r.reason, 'took 1h');
    assert.equal(r.finished_at, '2024-05-01T10:05:00.000Z');
    assert.equal(r.exit_code, null);
  });

  test('attempts is the largest seen; a retry replaces the log and adapter run id, an old attempt does not', () => {
    const s = subject({ id: 'retried' });
    applyUpdate(db, update(s, 'running', '2024-05-01T10:01:00Z', { attempts: 1, adapter_run_id: 'a1', log: 'attempt one, long log' }));
    applyUpdate(db, update(s, 'running', '2024-05-01T10:03:00Z', { attempts: 2, adapter_run_id: 'a2', log: 'two' }));
    applyUpdate(db, update(s, 'running', '2024-05-01T10:02:00Z', { attempts: 1, adapter_run_id: 'a1', log: 'attempt one, longer log!' }));
    const r = row('retried');
    assert.equal(r.attempts, 2);
    assert.equal(r.adapter_run_id, 'a2');
    assert.equal(r.log, 'two');
    assert.equal(r.started_at, '2024-05-01T10:01:00.000Z', 'started_at is the earliest running time');
  });

  test('the log grows within an attempt', () => {
    const s = subject({ id: 'growing' });
    applyUpdate(db, update(s, 'running', '2024-05-01T10:01:00Z', { attempts: 1, log: 'a' }));
    assert.equal(applyUpdate(db, update(s, 'running', '2024-05-01T10:01:01Z', { attempts: 1, log: 'ab' })), true);
    assert.equal(row('growing').log, 'ab');
    assert.equal(row('growing').updated_at, '2024-05-01T10:01:01.000Z');
  });

  test('a private subject is stored as private', () => {
    applyUpdate(db, update(subject({ id: 'priv', private: true }), 'queued', '2024-05-01T10:00:00Z'));
    assert.equal(row('priv').private, 1);
  });

  test('inside a caller transaction it nests, and rolls back with the caller', () => {
    db.exec('BEGIN');
    applyUpdate(db, update(subject({ id: 'nested' }), 'queued', '2024-05-01T10:00:00Z'));
    db.exec('ROLLBACK');
    assert.equal(getRunRow(db, 'nested'), null);
  });
});

describe('applyUpdates (the reporter applies each batch it reads in one transaction)', () => {
  test('every update of the batch is applied, and it says whether any run changed', () => {
    const batch = [...lifecycle('batch-1'), ...lifecycle('batch-2')];
    assert.equal(applyUpdates(db, batch), true);
    assert.equal(row('batch-1').state, 'finished');
    assert.equal(row('batch-2').result, 'failure');
    assert.equal(applyUpdates(db, batch), false, 'the same batch again changes nothing');
  });

  test('a fault in one update keeps none of the batch, so the batch can be read and applied again', () => {
    const good = lifecycle('batch-3');
    const bad = { ...update(subject({ id: 'batch-4' }), 'queued', '2024-05-01T10:00:00Z') };
    (bad.subject as { repo: unknown }).repo = null; // what zod would never let through: the database refuses it
    assert.throws(() => applyUpdates(db, [...good, bad]));
    assert.equal(getRunRow(db, 'batch-3'), null);
    assert.equal(db.isTransaction, false);
    assert.equal(applyUpdates(db, good), true);
    assert.equal(row('batch-3').state, 'finished');
  });
});
