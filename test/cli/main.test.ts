/**
 * The `cibq` executable as operators meet it: help everywhere, exit 2 with a message naming the
 * problem for usage and config errors, and `config check` printing the resolved config with
 * secrets masked.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cibq } from '../helpers/cli.ts';

describe('cibq command line', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cq-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('--help works for the tool and every subcommand', async () => {
    for (const args of [['--help'], ['producer', '--help'], ['worker', '--help'], ['reporter', '--help'], ['up', '--help'], ['config', 'check', '--help'], ['trigger', '--help'], ['runs', '--help']]) {
      const r = await cibq(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /Usage: cibq/);
    }
  });

  test('unknown commands and flags exit 2 and say what is wrong', async () => {
    const a = await cibq(['frobnicate']);
    assert.equal(a.code, 2);
    assert.match(a.stderr, /unknown command "frobnicate"/);
    const b = await cibq(['worker', '--bogus']);
    assert.equal(b.code, 2);
    assert.match(b.stderr, /bogus/);
    const c = await cibq(['producer']);
    assert.equal(c.code, 2);
    assert.match(c.stderr, /--config FILE or set CIBQ_CONFIG/);
  });

  test('a bad config exits 2 naming each key and its problem', async () => {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'db: x.db\nmax_run_time: 1x\nfilters:\n  - !Brnch main\nadapters:\n  a: {}\ntriggers:\n  - { adapter: nope, filters: [] }\n');
    const r = await cibq(['config', 'check', '--config', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /max_run_time: .*1x/);
    assert.match(r.stderr, /filters\[0\]: .*!Brnch/);
    assert.match(r.stderr, /adapters\.a\.command/);
    assert.match(r.stderr, /triggers\[0\]\.adapter: .*nope/);
    const missing = await cibq(['config', 'check', '--config', path.join(dir, 'missing.yaml')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /missing\.yaml/);
  });

  test('config check prints the resolved config with secrets masked (CIBQ_CONFIG works too)', async () => {
    const file = path.join(dir, 'good.yaml');
    writeFileSync(file, [
      'db: ci.db',
      'default_adapter: native',
      'adapters:',
      '  native:',
      '    command: /usr/bin/true',
      '    sensitive_env: { TOKEN: hunter2-secret }',
      'filters: [ !And [ !DefaultBranch, !Not !BranchDeleted ] ]',
      '',
    ].join('\n'));
    const r = await cibq(['config', 'check'], { CIBQ_CONFIG: file, REDIS_URL: 'redis://:pa55word@127.0.0.1:6390' });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /hunter2-secret|pa55word/);
    const shown = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(shown.db, path.join(dir, 'ci.db'));
    assert.deepEqual(shown.filters, [{ And: ['DefaultBranch', { Not: 'BranchDeleted' }] }]);
    assert.match(JSON.stringify(shown), /\*\*\*/);
  });

  test('every command finds ./cibq.yaml when neither --config nor CIBQ_CONFIG names a file', async () => {
    const here = path.join(dir, 'here');
    mkdirSync(here);
    writeFileSync(path.join(here, 'cibq.yaml'), 'db: here.db\nadapters:\n  smoke: { command: /usr/bin/true }\n');
    const check = await cibq(['config', 'check'], {}, undefined, here);
    assert.equal(check.code, 0, check.stderr);
    assert.equal((JSON.parse(check.stdout) as { db: string }).db, path.join(here, 'here.db'));
    const runs = await cibq(['runs', 'list'], {}, undefined, here);
    assert.equal(runs.code, 0, runs.stderr);
    assert.match(runs.stdout, /no runs yet/);
    const elsewhere = await cibq(['runs', 'list']);
    assert.equal(elsewhere.code, 2);
    assert.match(elsewhere.stderr, /no configuration: pass --config FILE or set CIBQ_CONFIG, or run where cibq\.yaml is/);
  });

  test('config check warns about an adapter whose command does not exist on this machine', async () => {
    const file = path.join(dir, 'adapters.yaml');
    writeFileSync(file, [
      'db: ci.db',
      'adapters:',
      '  native: { command: /opt/nowhere/radicle-native-ci }',
      '  bare: { command: no-such-adapter-anywhere }',
      '  data: { command: /etc/passwd }',
      '  ok: { command: /usr/bin/true }',
      '  onpath: { command: "true" }',
      '',
    ].join('\n'));
    const r = await cibq(['config', 'check', '--config', file]);
    assert.equal(r.code, 0, 'a warning, not an error: the configuration may be meant for another machine');
    const warnings = r.stderr.trim().split('\n');
    assert.deepEqual(warnings, [
      'cibq: warning: adapters.native.command: /opt/nowhere/radicle-native-ci does not exist: a worker on this machine cannot run adapter "native"',
      'cibq: warning: adapters.bare.command: no-such-adapter-anywhere is not found on PATH: a worker on this machine cannot run adapter "bare"',
      'cibq: warning: adapters.data.command: /etc/passwd is not an executable file: a worker on this machine cannot run adapter "data"',
    ]);
    assert.ok(JSON.parse(r.stdout));
  });

  test('a dashboard port that is already in use gives one clear line, not a stack trace', async () => {
    const file = path.join(dir, 'dash.yaml');
    writeFileSync(file, 'db: ci.db\nadapters:\n  a: { command: /usr/bin/true }\n');
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const r = await cibq(['dashboard', '--config', file, '--port', String(port), '--log-level', 'silent'], { REDIS_URL: 'redis://127.0.0.1:1' });
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `cibq: the dashboard cannot listen on 127.0.0.1:${port}: the port is already in use (another dashboard?); choose another with --port`);
    } finally {
      taken.close();
    }
  });
});
