import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { AdapterConfig } from '../../src/config/config.ts';
import type { TriggerMessage } from '../../src/model/trigger-message.ts';
import { formatDuration } from '../../src/config/duration.ts';
import { runAdapter } from '../../src/worker/adapter-process.ts';
import type { AdapterOutcome, RunAdapterOptions, Triggered } from '../../src/worker/adapter-process.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/adapters/', import.meta.url));
const log = pino({ level: 'silent' });
/** Generous, so a loaded machine does not turn quick runs into timeouts; timeout tests set their own. */
const TIMEOUT_MS = 10_000;
/** The time limit in tests about time limits. */
const SHORT_MS = 1000;
const GRACE_MS = 300;

const message: TriggerMessage = {
  request: 'trigger',
  version: 1,
  event_type: 'push',
  repository: {
    id: 'rad:z3uBEubocQ9kJANPvMAo6z5ZhhaFh',
    name: 'pathdedup',
    description: 'De-duplicate $PATH',
    private: false,
    default_branch: 'main',
    delegates: ['did:key:z6MkgEMYod7Hxfy9qCvDv5hYHkZ4ciWmLFgfvm3Wn1b2w2FV'],
  },
  pusher: { id: 'did:key:z6MkgEMYod7Hxfy9qCvDv5hYHkZ4ciWmLFgfvm3Wn1b2w2FV', alias: 'liw' },
  before: 'b40598e76a43f3a9c171f8422fc6fd1e2a94f87f',
  after: 'b40598e76a43f3a9c171f8422fc6fd1e2a94f87f',
  branch: 'refs/namespaces/z6MkgEMYod7Hxfy9qCvDv5hYHkZ4ciWmLFgfvm3Wn1b2w2FV/refs/heads/main',
  commits: ['b40598e76a43f3a9c171f8422fc6fd1e2a94f87f'],
};

let dir: string;
let n = 0;
/** A fresh file path in the test's temp dir. */
const tmpFile = (name: string): string => join(dir, `${name}-${++n}`);

function adapterConfig(fixture: string, over: Partial<AdapterConfig> = {}): AdapterConfig {
  return {
    name: fixture,
    command: fixture.startsWith('/') ? fixture : join(FIXTURES, fixture),
    env: {},
    sensitiveEnv: {},
    config: null,
    configEnv: null,
    timeoutMs: TIMEOUT_MS,
    killGraceMs: 300,
    concurrency: null,
    supersede: null,
    jobCobs: null,
    ...over,
  };
}

function run(
  fixture: string,
  opts: Partial<Omit<RunAdapterOptions, 'adapter'>> & { adapterOver?: Partial<AdapterConfig>; extraEnv?: Record<string, string> } = {},
): Promise<AdapterOutcome> {
  const { adapterOver, extraEnv, ...rest } = opts;
  return runAdapter({
    adapter: adapterConfig(fixture, adapterOver),
    message,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...extraEnv },
    timeoutMs: TIMEOUT_MS,
    killGraceMs: GRACE_MS,
    log,
    ...rest,
  });
}

/**
 * Whether the process still runs. A killed orphan stays a zombie until init reaps it, and some
 * container inits never do; process.kill(pid, 0) succeeds on zombies, so on Linux look closer.
 */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX] /s.test(stat);
  } catch {
    return !existsSync('/proc/self/stat'); // no procfs: trust kill(pid, 0)
  }
}

async function readPid(file: string): Promise<number> {
  const pid = Number((await readFile(file, 'utf8')).trim());
  assert.ok(Number.isInteger(pid) && pid > 0, `pid file ${file} holds a pid`);
  return pid;
}

/** Processes we could not kill are reported rather than left behind by a failing test. */
const pidsToReap: number[] = [];
async function assertDead(pid: number): Promise<void> {
  pidsToReap.push(pid);
  // SIGKILL is asynchronous: give the kernel a moment to remove the process.
  for (let i = 0; i < 20 && isAlive(pid); i++) await sleep(25);
  assert.equal(isAlive(pid), false, `process ${pid} is still alive`);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cibq-ap-'));
});
after(async () => {
  for (const pid of pidsToReap) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

describe('runAdapter', { concurrency: 4 }, () => {
  test('sends exactly one JSON line on stdin and reports success with run id and info url', async () => {
    const record = tmpFile('record');
    const triggered: Triggered[] = [];
    let stderr = '';
    const out = await run('record.mjs', {
      extraEnv: { RECORD_FILE: record },
      onTriggered: (t) => {
        triggered.push(t);
      },
      onStderr: (chunk) => {
        stderr += chunk;
      },
    });
    assert.equal(await readFile(record, 'utf8'), `${JSON.stringify(message)}\n`);
    assert.equal(out.result, 'success');
    assert.equal(out.reason, null);
    assert.equal(out.adapterRunId, 'rec-1');
    assert.equal(out.infoUrl, 'https://ci.example.com/rec-1');
    assert.equal(out.exitCode, 0);
    assert.equal(out.signal, null);
    assert.equal(triggered.length, 1);
    assert.deepEqual({ ...triggered[0], at: undefined }, { adapterRunId: 'rec-1', infoUrl: 'https://ci.example.com/rec-1', at: undefined });
    assert.ok(Date.parse(out.startedAt) <= Date.parse(triggered[0]!.at));
    assert.ok(Date.parse(triggered[0]!.at) <= Date.parse(out.finishedAt));
    const expectedLog = `record: got ${Buffer.byteLength(JSON.stringify(message)) + 1} bytes\n`;
    assert.equal(stderr, expectedLog);
    assert.equal('log' in out, false, 'the outcome keeps no raw (unredacted) stderr');
  });

  test('a reported failure is the result, with no reason', async () => {
    const out = await run('record.mjs', { extraEnv: { RECORD_FILE: tmpFile('record'), ADAPTER_RESULT: 'failure' } });
    assert.equal(out.result, 'failure');
    assert.equal(out.reason, null);
  });

  test('a triggered line without info_url gives infoUrl null', async () => {
    const out = await run('success-then-exit-1.sh');
    assert.equal(out.adapterRunId, 'xyzzy');
    assert.equal(out.infoUrl, null);
  });

  test('bad JSON is an error naming the line and quoting it', async () => {
    const out = await run('bad-json.sh');
    assert.equal(out.result, 'error');
    assert.match(out.reason ?? '', /^bad JSON on line 2 of adapter output: "\{\\"response\\":\\"finished\\", result: success\}"$/);
    assert.equal(out.adapterRunId, 'xyzzy');
  });

  test('an unknown field is an error naming the field', async () => {
    const out = await run('unknown-field.sh');
    assert.equal(out.result, 'error');
    assert.match(out.reason ?? '', /unknown field "bad"/);
    assert.match(out.reason ?? '', /line 1/);
    assert.equal(out.adapterRunId, null);
  });

  test('a third line makes the run an error even after finished', async () => {
    const out = await run('three-lines.sh');
    assert.equal(out.result, 'error');
    assert.match(out.reason ?? '', /^adapter wrote more than two lines: line 3 is /);
  });

  test('exiting after only the triggered line is an error', async () => {
    const out = await run('triggered-only.sh');
    assert.equal(out.result, 'error');
    assert.equal(out.reason, 'adapter exited after its triggered line without writing a finished line');
    assert.equal(out.adapterRunId, 'xyzzy');
    assert.equal(out.exitCode, 0);
  });

  test('exiting without any output is an error', async () => {
    const out = await run('silent.sh');
    assert.equal(out.result, 'error');
    assert.equal(out.reason, 'adapter exited without writing any response (expected a triggered line)');
  });

  test('an adapter that exits without reading a large message does not crash the worker (EPIPE)', async () => {
    const big: TriggerMessage = { ...message, repository: { ...message.repository, description: 'd'.repeat(4 * 1024 * 1024) } };
    const out = await run('silent.sh', { message: big });
    assert.equal(out.result, 'error');
    assert.match(out.reason ?? '', /without writing any response/);
  });

  test('responses in the wrong order are an error', async () => {
    const out = await run('echo-lines.mjs', { extraEnv: { ADAPTER_OUTPUT: '{"response":"finished","result":"success"}\n' } });
    assert.equal(out.result, 'error');
    assert.match(out.reason ?? '', /^line 1 of adapter output is a "finished" response, expected "triggered"/);
  });

  test('an unknown response type and a bad result value are errors', async () => {
    const a = await run('echo-lines.mjs', { extraEnv: { ADAPTER_OUTPUT: '{"response":"started"}\n' } });
    assert.equal(a.result, 'error');
    assert.match(a.reason ?? '', /line 1 of adapter output has unknown response type "started"/);
    const b = await run('echo-lines.mjs', {
      extraEnv: { ADAPTER_OUTPUT: '{"response":"triggered","run_id":{"id":"x"}}\n{"response":"finished","result":"error"}\n' },
    });
    assert.equal(b.result, 'error');
    assert.match(b.reason ?? '', /invalid "finished" response on line 2 .*result/);
  });

  test('lines split across chunks, CRLF endings and a missing final newline are fine', async () => {
    const out = await run('echo-lines.mjs', {
      extraEnv: {
        ADAPTER_OUTPUT: '{"response":"triggered","run_id":{"id":"spl\u00e9t"},"info_url":null}\r\n{"response":"finished","result":"failure"}',
        ADAPTER_CHUNK: '7',
      },
    });
    assert.equal(out.reason, null);
    assert.equal(out.result, 'failure');
    assert.equal(out.adapterRunId, 'splét');
  });

  test('a long offending line is quoted in at most about 200 characters', async () => {
    const out = await run('echo-lines.mjs', { extraEnv: { ADAPTER_OUTPUT: `${'z'.repeat(5000)}\n` } });
    assert.equal(out.result, 'error');
    assert.match(out.reason ?? '', /^bad JSON on line 1/);
    assert.ok((out.reason ?? '').length < 300, `reason is ${out.reason?.length} chars`);
  });

  test('a command that does not exist is an error saying it could not start', async () => {
    const out = await run('/nonexistent/cibq-adapter');
    assert.equal(out.result, 'error');
    assert.match(out.reason ?? '', /^could not start adapter \/nonexistent\/cibq-adapter: ENOENT/);
    assert.equal(out.exitCode, null);
    assert.equal(out.signal, null);
  });

  test('a command that is not executable is an error saying it could not start', async () => {
    const file = tmpFile('not-exec');
    await writeFile(file, '#!/bin/sh\n', { mode: 0o644 });
    const out = await run(file);
    assert.equal(out.result, 'error');
    assert.match(out.reason ?? '', /^could not start adapter .*: EACCES/);
  });

  test('a crash with an exit code after triggering is an error with the code', async () => {
    const out = await run('crash.sh');
    assert.equal(out.result, 'error');
    assert.equal(out.reason, 'adapter exited with code 3 after its triggered line, before writing a finished line');
    assert.equal(out.exitCode, 3);
  });

  test('being killed by a signal before finishing is an error naming the signal', async () => {
    const out = await run('crash.sh', { extraEnv: { CRASH_MODE: 'signal' } });
    assert.equal(out.result, 'error');
    assert.equal(out.reason, 'adapter was killed by SIGSEGV after its triggered line, before writing a finished line');
    assert.equal(out.signal, 'SIGSEGV');
    assert.equal(out.exitCode, null);
  });

  test('a non-zero exit after finished keeps the reported result and records the code', async () => {
    const out = await run('success-then-exit-1.sh');
    assert.equal(out.result, 'success');
    assert.equal(out.reason, null);
    assert.equal(out.exitCode, 1);
  });

  test('an adapter past its time limit gets SIGTERM and the run times out', async () => {
    const t0 = Date.now();
    const out = await run('hang.sh', { timeoutMs: SHORT_MS });
    const took = Date.now() - t0;
    assert.equal(out.result, 'timeout');
    assert.equal(out.reason, 'adapter exceeded time limit of 1s');
    assert.equal(out.signal, 'SIGTERM');
    assert.equal(out.adapterRunId, 'xyzzy');
    assert.ok(took >= SHORT_MS && took < SHORT_MS + 3000, `took ${took} ms`);
  });

  test('an adapter that ignores SIGTERM is killed with SIGKILL after the grace period', async () => {
    const t0 = Date.now();
    const out = await run('hang-ignore-term.sh', { timeoutMs: SHORT_MS });
    const took = Date.now() - t0;
    assert.equal(out.result, 'timeout');
    assert.equal(out.signal, 'SIGKILL');
    assert.equal(out.reason, `adapter exceeded time limit of 1s; it ignored SIGTERM and was killed with SIGKILL after ${GRACE_MS}ms`);
    assert.ok(took >= SHORT_MS + GRACE_MS && took < SHORT_MS + GRACE_MS + 3000, `took ${took} ms`);
  });

  test('a timeout kills the whole process group, grandchildren included', async () => {
    const pidFile = tmpFile('pid');
    const out = await run('spawn-grandchild.sh', { timeoutMs: SHORT_MS, extraEnv: { PID_FILE: pidFile } });
    assert.equal(out.result, 'timeout');
    await assertDead(await readPid(pidFile));
  });

  test('cancelling kills the whole process group and gives result cancelled with the reason', async () => {
    const pidFile = tmpFile('pid');
    const ac = new AbortController();
    const t0 = Date.now();
    const out = await run('spawn-grandchild.sh', {
      signal: ac.signal,
      extraEnv: { PID_FILE: pidFile },
      onTriggered: () => ac.abort('cancelled by alice'),
    });
    assert.equal(out.result, 'cancelled');
    assert.equal(out.reason, 'cancelled by alice');
    assert.equal(out.adapterRunId, 'xyzzy');
    assert.ok(Date.now() - t0 < TIMEOUT_MS / 2, 'cancelled well before the time limit');
    await assertDead(await readPid(pidFile));
  });

  test('cancelling without a string reason gives a generic reason', async () => {
    const ac = new AbortController();
    const out = await run('hang.sh', { signal: ac.signal, onTriggered: () => ac.abort() });
    assert.equal(out.result, 'cancelled');
    assert.equal(out.reason, 'run was cancelled');
  });

  test('an already-aborted signal cancels without starting the adapter', async () => {
    const record = tmpFile('record');
    const out = await run('record.mjs', { signal: AbortSignal.abort('shutting down'), extraEnv: { RECORD_FILE: record } });
    assert.equal(out.result, 'cancelled');
    assert.equal(out.reason, 'shutting down');
    assert.equal(existsSync(record), false);
  });

  test('background children left behind by a finished adapter are killed, without waiting on their stdout', async () => {
    const pidFile = tmpFile('pid');
    const t0 = Date.now();
    const out = await run('background-child.sh', { extraEnv: { PID_FILE: pidFile } });
    assert.equal(out.result, 'success'); // not 'timeout': we did not wait for the child's stdout
    assert.ok(Date.now() - t0 < TIMEOUT_MS / 2, `took ${Date.now() - t0} ms`);
    await assertDead(await readPid(pidFile));
  });

  test('a stderr flood does not deadlock: every byte reaches onStderr', async () => {
    let streamed = '';
    const out = await run('stderr-flood.mjs', {
      onStderr: (chunk) => {
        streamed += chunk;
      },
    });
    assert.equal(out.result, 'success');
    assert.ok(Buffer.byteLength(streamed) > 2 * 1024 * 1024, `streamed ${Buffer.byteLength(streamed)} bytes`);
    assert.ok(streamed.startsWith('FLOOD-START\n'));
    assert.ok(streamed.endsWith('FLOOD-END\n'));
  });

  test('the environment is the base env plus env and sensitive_env, and nothing from our process', async () => {
    const record = tmpFile('env');
    process.env['CIBQ_TEST_LEAK'] = 'must-not-leak';
    const out = await run('env-dump.mjs', {
      extraEnv: { RECORD_FILE: record, CIBQ_RUN_ID: 'run-1', SHARED: 'base' },
      adapterOver: { env: { SHARED: 'from-env', PLAIN: 'p' }, sensitiveEnv: { TOKEN: 's3cret' } },
    });
    delete process.env['CIBQ_TEST_LEAK'];
    assert.equal(out.result, 'success');
    const dump = JSON.parse(await readFile(record, 'utf8')) as { env: Record<string, string>; config: unknown };
    assert.equal(dump.env['CIBQ_RUN_ID'], 'run-1');
    assert.equal(dump.env['SHARED'], 'from-env');
    assert.equal(dump.env['PLAIN'], 'p');
    assert.equal(dump.env['TOKEN'], 's3cret');
    assert.equal(dump.env['CIBQ_TEST_LEAK'], undefined);
    assert.equal(dump.config, null);
  });

  test('config is passed as a private JSON file named by config_env, removed afterwards', async () => {
    const record = tmpFile('env');
    const config = { base_url: 'https://ci.example.org/state', state: '/srv/http', nested: { n: 1 } };
    const out = await run('env-dump.mjs', {
      extraEnv: { RECORD_FILE: record },
      adapterOver: { config, configEnv: 'RADICLE_NATIVE_CI', env: { DUMP_CONFIG_VAR: 'RADICLE_NATIVE_CI' } },
    });
    assert.equal(out.result, 'success');
    const dump = JSON.parse(await readFile(record, 'utf8')) as { config: { path: string; content: string; mode: number } };
    assert.deepEqual(JSON.parse(dump.config.content), config);
    assert.equal(dump.config.mode, 0o600);
    assert.equal(existsSync(dump.config.path), false, 'config file removed after the run');
  });

  test('a config file that cannot be written ends the run as error with the reason, adapter not started', async () => {
    const record = tmpFile('env');
    const saved = process.env['TMPDIR'];
    process.env['TMPDIR'] = '/nonexistent-cibq-tmp';
    let out: AdapterOutcome;
    try {
      out = await run('env-dump.mjs', {
        extraEnv: { RECORD_FILE: record },
        adapterOver: { config: { a: 1 }, configEnv: 'CFG', env: { DUMP_CONFIG_VAR: 'CFG' } },
        redact: (s) => s.replaceAll('nonexistent', '***'),
      });
    } finally {
      if (saved === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = saved;
    }
    assert.equal(out.result, 'error');
    assert.match(out.reason ?? '', /config file for CFG: ENOENT.*\/\*\*\*-cibq-tmp/);
    assert.equal(existsSync(record), false, 'the adapter did not run');
  });
});

test('formatDuration writes time limits the way users wrote them', () => {
  assert.equal(formatDuration(30_000), '30s');
  assert.equal(formatDuration(3_600_000), '1h');
  assert.equal(formatDuration(150_000), '2m30s');
  assert.equal(formatDuration(1_500), '1.5s');
  assert.equal(formatDuration(300), '300ms');
});
