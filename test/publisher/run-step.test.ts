import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunSubject, RunUpdate } from '../../src/model/run.ts';
import { runStep } from '../../src/publisher/run-step.ts';

const id = '0a1b2c3d-0000-4000-8000-000000000001';
const s: RunSubject = {
  id, adapter: 'native', repo: 'rad:z3gqcJUoA1n9HaHKufZs5FCSGazv5', repo_name: 'r', event_type: 'push', ref: 'refs/heads/main',
  patch: null, title: null, author: null, commit: 'c'.repeat(40), private: false, queued_at: '2026-01-01T00:00:00.000Z',
};
const at = '2026-01-01T00:00:01.000Z';
const on = { jobCobs: () => true, reportUrl: 'https://ci.example.org/reports' };

test('the start and the end of a run become Run and Finished; queued, triggered and live-log updates nothing', () => {
  assert.deepEqual(runStep({ subject: s, state: 'running', at, info_url: 'https://adapter.example/x?y=1' }, on), {
    kind: 'publish', step: { uuid: id, log: 'https://adapter.example/x?y=1', finished: null },
  });
  for (const u of [{ subject: s, state: 'queued', at }, { subject: s, state: 'triggered', at }, { subject: s, state: 'running', at, log: 'out' }] as RunUpdate[]) {
    assert.deepEqual(runStep(u, on), { kind: 'skip', why: null });
  }
  for (const [result, reason] of [['success', 'Succeeded'], ['failure', 'Failed'], ['timeout', 'Failed'], ['error', 'Failed'], ['cancelled', 'Failed']] as const) {
    const d = runStep({ subject: s, state: 'finished', at, result }, on);
    assert.equal(d.kind === 'publish' ? d.step.finished : null, reason);
  }
});

test("an info_url that is not http(s) falls back to the run's page; without report_url nothing is published", () => {
  const d = runStep({ subject: s, state: 'running', at, info_url: 'javascript:alert(1)' }, on);
  assert.equal(d.kind === 'publish' ? d.step.log : null, `https://ci.example.org/reports/runs/${id}.html`);
  assert.equal(runStep({ subject: s, state: 'running', at, info_url: null }, { jobCobs: () => true, reportUrl: 'file:///srv/reports' }).kind, 'skip');
  assert.equal(runStep({ subject: s, state: 'running', at, info_url: null }, { jobCobs: () => true, reportUrl: null }).kind, 'skip');
  assert.deepEqual(runStep({ subject: s, state: 'running', at, info_url: null }, { jobCobs: () => false, reportUrl: null }), { kind: 'skip', why: null });
});
