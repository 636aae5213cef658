/**
 * `cibq trigger` with Redis unreachable fails fast (exit 1, a clear message) instead of hanging, and
 * `cibq config check --help` describes durations as they are printed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cibq } from '../helpers/cli.ts';
import { freePort } from '../helpers/redis-server.ts';

describe('cibq trigger and config check', () => {
  let dir: string;
  let config: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ctr-'));
    config = path.join(dir, 'cibq.yaml');
    writeFileSync(config, 'db: cibq.db\nreport_dir: reports\ndefault_adapter: a\nadapters:\n  a: { command: /bin/true }\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('with Redis unreachable, trigger says so and exits 1 without hanging', async () => {
    const port = await freePort();
    const r = await cibq(['trigger', '--config', config, '--repo', 'rad:z2e6URdt1we1iG1BCVqtx8QVgsX4a', '--branch', 'main'], {
      REDIS_URL: `redis://127.0.0.1:${port}`,
      RAD_HOME: dir,
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`cannot reach Redis at redis://127.0.0.1:${port}.*no run was enqueued`));
  });

  test('config check --help says durations are printed as strings such as "1h"', async () => {
    const r = await cibq(['config', 'check', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /durations as\s+strings like "1h"/);
    assert.doesNotMatch(r.stdout, /milliseconds/);
    const printed = await cibq(['config', 'check', '--config', config], { REDIS_URL: 'redis://127.0.0.1:1' });
    assert.equal(printed.code, 0, printed.stderr);
    assert.equal(typeof (JSON.parse(printed.stdout) as { max_run_time: unknown }).max_run_time, 'string');
  });

  test('--repo with something that is not a repository id says it is malformed, not missing', async () => {
    const bad = await cibq(['trigger', '--config', config, '--repo', 'foo', '--branch', 'main']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--repo "foo" is not a repository id: expected rad:z…/);
    const missing = await cibq(['trigger', '--config', config, '--branch', 'main']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--repo RID \(rad:z…\) is required/);
  });
});
