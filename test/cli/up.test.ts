/**
 * `cibq up` as a newcomer meets it at a terminal (a real pseudo-terminal, through util-linux
 * `script`): a short summary of what it uses, human log lines instead of JSON, one readable line
 * when there is no node (then quiet waiting), and Ctrl-C stopping it. Without a terminal the logs
 * stay JSON lines.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { CIBQ } from '../helpers/cli.ts';
import { waitFor } from '../helpers/pipeline.ts';
import { RedisServer } from '../helpers/redis-server.ts';

let dir: string;
let redis: RedisServer;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cq-up-'));
  redis = await RedisServer.start();
  writeFileSync(path.join(dir, 'cibq.yaml'), [
    'db: cibq.db',
    'report_dir: reports',
    'default_adapter: smoke',
    'adapters:',
    `  smoke: { command: ${path.join(import.meta.dirname, '..', '..', 'adapters', 'smoke.mjs')} }`,
    '  gone: { command: /nowhere/radicle-native-ci }',
    'filters: [ !BranchUpdated ]',
    '',
  ].join('\n'));
});
after(async () => {
  await redis.close();
  rmSync(dir, { recursive: true, force: true });
});

const env = () => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, REDIS_URL: redis.url, RAD_HOME: path.join(dir, 'no-node'), TERM: 'dumb' });

test('at a terminal: a start summary, readable logs, one line about the missing node, and Ctrl-C stops it', async () => {
  const up = execa('script', ['-qfec', `exec ${CIBQ} up`, '/dev/null'], { cwd: dir, env: env(), extendEnv: false, reject: false, stdin: 'pipe', timeout: 60_000 });
  let out = '';
  up.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  await waitFor('the node line and a few reconnect attempts', () => /no Radicle node here/.test(out) && /report regenerated/.test(out), 30_000);
  await new Promise((r) => setTimeout(r, 2000));
  up.stdin.write('\u0003');
  const r = await up;
  const text = out.replace(/\r/g, '');
  assert.equal(r.exitCode, 0, text);
  assert.match(text, /^cibq \d+\.\d+\.\d+ up: producer, worker, reporter and publisher in one process$/m);
  assert.match(text, new RegExp(`^  config +${path.join(dir, 'cibq.yaml')}$`, 'm'), 'found ./cibq.yaml by itself');
  assert.match(text, new RegExp(`^  node +${path.join(dir, 'no-node')}/node/control\\.sock: not there yet: ${path.join(dir, 'no-node')} does not exist`, 'm'));
  assert.match(text, new RegExp(`^  redis +${redis.url}/? \\(prefix cibq\\)$`, 'm'));
  assert.match(text, /^ {13}gone: \/nowhere\/radicle-native-ci {2}\(missing here: \/nowhere\/radicle-native-ci does not exist\)$/m);
  assert.match(text, new RegExp(`^  reports +${path.join(dir, 'reports', 'index.html')}$`, 'm'));
  assert.match(text, /^ {2}dashboard +\S+\/bin\/cibq dashboard --config \S+cibq\.yaml/m);
  assert.equal(text.match(/no Radicle node here/g)?.length, 1, 'said once, not on every attempt');
  assert.match(text, /^\d\d:\d\d:\d\d WARN {2}producer\/node: no Radicle node here: its home .* does not exist\. Install Radicle and start the node \(`rad node start`\), or set RAD_HOME/m);
  assert.doesNotMatch(text, /^\{"level"/m, 'no JSON lines at a terminal');
  assert.match(text, /INFO {2}stopped/);
});

test('without a terminal the logs stay JSON lines and there is no summary', async () => {
  const up = execa(CIBQ, ['up'], { cwd: dir, env: env(), extendEnv: false, reject: false, timeout: 60_000 });
  let err = '';
  up.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  await waitFor('the node line', () => /no Radicle node here/.test(err), 30_000);
  up.kill('SIGINT');
  await up;
  for (const line of err.trim().split('\n')) assert.doesNotThrow(() => JSON.parse(line), line);
  assert.doesNotMatch(err, /Ctrl-C stops/);
});
