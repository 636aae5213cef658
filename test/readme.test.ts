/**
 * The README's configuration example is what operators copy: it must stay a valid configuration.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { maskedConfig, parseConfig } from '../src/config/config-load.ts';

test("the README's configuration example is valid and uses every top-level key cibq knows", () => {
  const readme = readFileSync(path.join(import.meta.dirname, '..', 'README.md'), 'utf8');
  const m = /## Configuration[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme);
  assert.ok(m?.[1], 'README has a ```yaml block under ## Configuration');
  const c = parseConfig(m[1], { path: '/etc/cibq/cibq.yaml', env: {}, homeDir: '/home/ci' });
  assert.equal(c.defaultAdapter, 'native');
  assert.equal(c.adapters.heavy?.concurrency, 1);
  assert.equal(c.worker.lockDurationMs, 30_000);
  // Every key `config check` shows (all keys cibq knows), except cib's queue_len_interval.
  const known = Object.keys(maskedConfig(c) as Record<string, unknown>).filter((k) => k !== 'path' && k !== 'queue_len_interval');
  assert.ok(known.length >= 17, known.join(', '));
  for (const key of known) {
    assert.match(m[1], new RegExp(`^${key}:`, 'm'), key);
  }
});
