import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  displayTime,
  displayDuration as formatDuration,
  runDuration,
  runStatus,
  safeHttpUrl,
  shortRef,
  whence,
} from '../../../src/reporter/pages/display.ts';

test('only absolute http(s) URLs become links', () => {
  assert.equal(safeHttpUrl('https://ci.example.org/r/1'), 'https://ci.example.org/r/1');
  assert.equal(safeHttpUrl('http://ci.example.org'), 'http://ci.example.org/');
  for (const bad of ['javascript:alert(1)', ' JaVaScRiPt:alert(1)', 'data:text/html,x', '/relative', 'file:///etc/passwd', 'nope', null]) {
    assert.equal(safeHttpUrl(bad), null, String(bad));
  }
});

test('status, refs and what was built read naturally', () => {
  assert.deepEqual(runStatus({ state: 'finished', result: 'timeout' }), { label: 'timeout', cls: 'timeout' });
  assert.deepEqual(runStatus({ state: 'running', result: null }), { label: 'running', cls: 'running' });
  assert.deepEqual(runStatus({ state: 'finished', result: null }), { label: 'finished', cls: 'unknown' });
  assert.equal(shortRef('refs/namespaces/z6MkAbc/refs/heads/feature/x'), 'feature/x');
  assert.equal(shortRef('refs/tags/v1.0'), 'tag v1.0');
  assert.equal(shortRef('refs/notes/x'), 'refs/notes/x');
  assert.equal(whence({ event_type: 'push', ref: 'refs/heads/main', patch: null, title: null }), 'branch main');
  assert.equal(whence({ event_type: 'push', ref: 'refs/tags/v2', patch: null, title: null }), 'tag v2');
  assert.equal(
    whence({ event_type: 'patch', ref: 'refs/heads/patches/x', patch: '1234567890'.repeat(4), title: 'Fix' }),
    'patch 1234567: Fix',
  );
});

test('times and durations', () => {
  assert.equal(displayTime('2024-08-27T17:38:26.123Z'), '2024-08-27 17:38:26Z');
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(65_000), '1m 05s');
  assert.equal(formatDuration(3_725_000), '1h 02m');
  const base = { queued_at: '2024-01-01T00:00:00Z', triggered_at: null, state: 'running' as const };
  const now = new Date('2024-01-01T00:10:00Z');
  assert.equal(runDuration({ ...base, started_at: null, finished_at: null }, now), null);
  assert.equal(runDuration({ ...base, started_at: '2024-01-01T00:05:00Z', finished_at: null }, now), '5m 00s so far');
  assert.equal(
    runDuration({ ...base, state: 'finished', started_at: '2024-01-01T00:05:00Z', finished_at: '2024-01-01T00:05:42Z' }, now),
    '42s',
  );
});
