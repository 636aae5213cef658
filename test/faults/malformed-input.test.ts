/**
 * Fault suite: bad input from everywhere cibq reads it. 10,000 random and malformed lines on the
 * node socket (half lines, a 1 MiB line, invalid UTF-8, unknown event types, valid JSON with wrong
 * types) to a real producer; 1,000 random adapter outputs through the real adapter driver; 1,000
 * random configuration files through `cibq config check`. Nothing crashes, and every bad input
 * gets its own clear error (or, for an unknown event type, a note that it was ignored).
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { main } from '../../src/cli/main.ts';
import { parseConfig } from '../../src/config/config-load.ts';
import { RUN_RESULTS } from '../../src/model/run.ts';
import { runAdapter } from '../../src/worker/adapter-process.ts';
import { AdapterStdout } from '../../src/worker/adapter-stdout.ts';
import { SEED_PUSH } from '../fixtures/seed-messages.ts';
import { startFaultEnv, waitFor, type FaultEnv } from './fault-env.ts';
import { adapterOutput, badNodeLine, int, prng, randomConfig, type LineKind } from './fuzz.ts';
import { checkInvariant } from './invariant.ts';
import type { TriggerMessage } from '../../src/model/trigger-message.ts';

const SEED = Number(process.env.CIBQ_FUZZ_SEED ?? 20_261_201);

describe('faults: malformed input', () => {
  let e: FaultEnv;

  before(async () => {
    e = await startFaultEnv({ runSeconds: 0.1 });
    e.spawn('reporter');
    e.spawn('worker', ['--name', 'fuzz-worker']);
    e.spawn('producer', ['--log-level', 'debug']);
    await e.producerReady();
    await e.workersReady(1);
  });
  after(async () => e?.close());

  test('10,000 malformed lines on the node socket: each is reported, the producer keeps working', async (t) => {
    const r = prng(SEED);
    const kinds = new Map<LineKind | 'huge', number>();
    const lines: Buffer[] = [];
    for (let i = 0; i < 9_999; i++) {
      const l = badNodeLine(r);
      kinds.set(l.kind, (kinds.get(l.kind) ?? 0) + 1);
      lines.push(l.bytes, Buffer.from('\n'));
    }
    lines.splice(2 * int(r, 9_999), 0, Buffer.from(`{"type":"refsFetched","x":"${'A'.repeat(1024 * 1024)}"}`), Buffer.from('\n'));
    kinds.set('huge', 1);
    // Written in random pieces: lines are split across reads and several arrive in one.
    const all = Buffer.concat(lines);
    for (let at = 0; at < all.length;) {
      const n = 1 + int(r, 8192);
      e.node.emitRaw(all.subarray(at, at + n));
      at += n;
    }
    await e.node.flushed();
    const producer = e.procs.find((p) => p.kind === 'producer');
    assert.ok(producer);
    type Entry = { msg?: string; reason?: string; line?: string; type?: string };
    // The log is still being written: its last line may be incomplete.
    const read = (): Entry[] => e.log(producer).split('\n').slice(0, -1).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Entry);
    const reported = (es: Entry[]) => es.filter((x) => x.msg === 'skipping unusable line from node' || x.msg === 'ignoring node event');
    await waitFor('every line to be reported', () => reported(read()).length >= 10_000, 60_000);
    const entries = reported(read());
    assert.equal(entries.length, 10_000, 'one report per line, no more');
    const unusable = entries.filter((x) => x.msg === 'skipping unusable line from node');
    assert.ok(unusable.every((x) => typeof x.reason === 'string' && x.reason.length > 0 && (x.line ?? '').length <= 200), 'each says why, quoting at most 200 characters');
    const reasons = new Set(unusable.map((x) => (x.reason ?? '').replace(/^(malformed \w+|node error).*/, '$1')));
    for (const expected of ['not JSON', 'not a JSON object', 'no "type" field', 'node error', 'malformed refsFetched']) {
      assert.ok(reasons.has(expected), `no line was reported as "${expected}": ${[...reasons].join(', ')}`);
    }
    assert.equal(producer.proc.exitCode, null, 'the producer is still running');
    const push = await e.push();
    await checkInvariant(t, e, 'a push after 10,000 malformed node lines', { pushes: [push] });
    t.diagnostic(`node lines: ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}; ${unusable.length} skipped as unusable, ${entries.length - unusable.length} unknown types ignored (seed ${SEED})`);
  });

  test('1,000 random adapter outputs: each run ends with a result, and a broken protocol always as an error that says why', async (t) => {
    const r = prng(SEED + 1);
    const tally = new Map<string, number>();
    const cases = Array.from({ length: 1000 }, () => adapterOutput(r));
    // All 1,000 through the stdout reader, in random pieces (lines and UTF-8 characters split
    // anywhere), with the driver's rule for the result: a protocol error, else the finished line.
    for (const [i, c] of cases.entries()) {
      const out = new AdapterStdout({ redact: (x) => x, onTriggered: () => {}, onFinished: () => {}, onProtocolError: () => {} });
      for (let at = 0; at < c.output.length;) {
        const n = 1 + int(r, 64 * 1024);
        out.write(c.output.subarray(at, at + n));
        at += n;
      }
      out.end();
      const result = out.protocolError !== null ? 'error' : (out.finished ?? 'error');
      assert.equal(result, c.expected, `case ${i}: ${JSON.stringify(c.output.subarray(0, 300).toString())} → ${result}: ${out.protocolError}`);
      if (out.protocolError !== null) assert.ok(out.protocolError.length > 10 && out.protocolError.length < 1000, `case ${i}: unclear reason ${JSON.stringify(out.protocolError)}`);
      const why = (out.protocolError ?? 'no finished line').replace(/ \(.*|: .*/s, '').replace(/type ".*/s, 'type "…"');
      const key = result === 'error' ? `error: ${why}` : result;
      tally.set(key, (tally.get(key) ?? 0) + 1);
    }
    // Every 20th also through a real adapter process and the real driver, end to end.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cq-fuzz-'));
    try {
      const script = path.join(dir, 'fuzz-adapter.sh');
      writeFileSync(script, '#!/bin/sh\ncat "$FUZZ_OUT"\nexit "$FUZZ_EXIT"\n');
      chmodSync(script, 0o755);
      const log = pino({ level: 'silent' });
      const adapter = parseConfig(`db: x.db\nadapters:\n  fuzz: { command: ${script}, timeout: 20s, kill_grace: 500ms }\n`, { path: null, env: {}, homeDir: dir }).adapters.fuzz;
      assert.ok(adapter);
      for (let i = 0; i < cases.length; i += 20) {
        const c = cases[i] as (typeof cases)[number];
        const file = path.join(dir, `out-${i}`);
        writeFileSync(file, c.output);
        const outcome = await runAdapter({
          adapter: { ...adapter, env: { FUZZ_OUT: file, FUZZ_EXIT: String(c.exit) } },
          message: SEED_PUSH as TriggerMessage,
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
          timeoutMs: 20_000,
          killGraceMs: 500,
          log,
        });
        assert.ok((RUN_RESULTS as readonly string[]).includes(outcome.result));
        assert.equal(outcome.result, c.expected, `process case ${i}: ${outcome.reason}`);
        if (outcome.result === 'error') assert.ok(outcome.reason !== null && outcome.reason.length > 10 && outcome.reason.length < 1000);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const kinds = [...tally].sort((a, b) => b[1] - a[1]);
    t.diagnostic(`adapter outputs: ${kinds.slice(0, 12).map(([k, n]) => `${n}× ${k}`).join('; ')}${kinds.length > 12 ? `; ${kinds.length - 12} more kinds` : ''} (50 of them also through real adapter processes; seed ${SEED + 1})`);
  });

  test('1,000 random configuration files: `cibq config check` accepts each or names its bad keys, exit 2, never a crash', async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cq-fuzzcfg-'));
    try {
      const r = prng(SEED + 2);
      const file = path.join(dir, 'cibq.yaml');
      let valid = 0;
      let invalid = 0;
      for (let i = 0; i < 1000; i++) {
        const text = randomConfig(r);
        writeFileSync(file, text);
        const stdout = new PassThrough();
        const stderr = new PassThrough();
        let out = '';
        let err = '';
        stdout.on('data', (d: Buffer) => (out += d.toString()));
        stderr.on('data', (d: Buffer) => (err += d.toString()));
        const code = await main({ argv: ['config', 'check', '--config', file], env: {}, stdout, stderr, homeDir: dir, cwd: dir, version: 't' });
        await new Promise((resolve) => setImmediate(resolve));
        if (code === 0) {
          valid++;
          JSON.parse(out);
        } else {
          invalid++;
          assert.equal(code, 2, `config ${i} crashed the command:\n${text}\n${err}`);
          const lines = err.trimEnd().split('\n');
          assert.match(lines[0] ?? '', /^cibq: invalid configuration /, `config ${i}:\n${text}\n${err}`);
          assert.ok(lines.length >= 2 && lines.slice(1).every((l) => /^ {2}\S/.test(l) && l.length < 2000), `config ${i}: issues must be listed one per line:\n${err}`);
        }
      }
      assert.ok(invalid > 500, 'the generator makes mostly bad configurations');
      t.diagnostic(`configs: ${valid} valid, ${invalid} refused with their issues (seed ${SEED + 2})`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
