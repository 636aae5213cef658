/**
 * Redis over TLS, as a worker on another machine reaches it: a real redis-server that speaks only
 * TLS, requires client certificates and a password, with certificates made by openssl for the test.
 * A real `cibq worker` takes and finishes a run through it and rides out a Redis restart, `cibq
 * queue` reads it, the dashboard's /healthz tells the connection state; a wrong CA or a missing
 * client certificate is refused with a clear error. The password never appears in any output.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/config-load.ts';
import { startDashboard } from '../../src/dashboard/dashboard.ts';
import { cibq } from '../helpers/cli.ts';
import { makeCerts, type TlsFiles } from '../helpers/tls-certs.ts';
import { oid, startHarness, waitFor, type Harness } from '../worker/fixtures/harness.ts';

const PASSWORD = 'pw-Zq8#tls-secret';

describe('Redis over TLS with client certificates and a password', () => {
  let certDir: string;
  let certs: TlsFiles;
  let h: Harness;

  before(async () => {
    certDir = mkdtempSync(path.join(os.tmpdir(), 'cq-tls-'));
    certs = await makeCerts(certDir);
    h = await startHarness(({ record, fixtures }) => `
db: cibq.db
redis:
  prefix: tls
  tls: { ca: ${certs.ca}, cert: ${certs.clientCert}, key: ${certs.clientKey} }
adapters:
  short:
    command: ${fixtures}/slow.sh
    env: { RECORD_FILE: ${record}, SLEEP_SECONDS: "0.2" }
`, { redis: { tls: certs, password: PASSWORD } });
  });
  after(async () => {
    await h?.close();
    rmSync(certDir, { recursive: true, force: true });
  });

  test('a real worker runs a run over rediss://, rides out a Redis restart, and logs no secret', async () => {
    assert.match(h.env.REDIS_URL, /^rediss:\/\/:/);
    const w = await h.spawnWorker('tls-worker', ['--log-level', 'debug']);
    const first = await h.enqueue('short', oid(1));
    assert.equal((await h.finalOf(first.runId)).result, 'success');
    await h.redisServer.stop();
    await sleep(1500);
    await h.redisServer.restart();
    await waitFor('the worker to reconnect', () => w.stderr().includes('redis connection restored'), 20_000);
    const second = await h.enqueue('short', oid(2));
    const final = await h.finalOf(second.runId, 30_000);
    assert.equal(final.result, 'success');
    assert.equal(final.worker, 'tls-worker');
    const logs = w.stderr();
    assert.match(logs, /redis connection problem/);
    assert.match(logs, /rediss:\/\/:\*\*\*@127\.0\.0\.1/);
    assert.ok(!logs.includes(PASSWORD) && !logs.includes(encodeURIComponent(PASSWORD)), 'the password is in the worker log');
    assert.ok(!logs.includes(readFileSync(certs.clientKey, 'utf8').split('\n')[1] ?? 'x'), 'the client key is in the worker log');
  });

  test('cibq queue reads the queues over TLS', async () => {
    const r = await h.cibq(['queue', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const q = JSON.parse(r.stdout) as { queues: { adapter: string; counts: { completed: number } }[] };
    assert.equal(q.queues.find((x) => x.adapter === 'short')?.counts.completed, 2);
  });

  test("the dashboard's /healthz shows the connection: ready, over TLS", async () => {
    const d = await startDashboard({ config: h.config, log: pino({ level: 'silent' }), version: 't', port: 0, credentials: null });
    try {
      const body = await waitFor('a ready connection', async () => {
        const r = await fetch(`${d.url}/healthz`);
        const b = (await r.json()) as { ok: boolean; connection: { state: string } };
        return r.status === 200 && b.connection.state === 'ready' && b;
      });
      assert.deepEqual(body, { ok: true, redis: true, version: 't', connection: { state: 'ready', tls: true, sentinel: false } });
    } finally {
      await d.close();
    }
  });

  test('a client that trusts another CA, or has no client certificate, is refused with a clear error', async () => {
    const base = { path: path.join(h.dir, 'x.yaml'), env: h.env, homeDir: h.dir };
    for (const [why, tls, expected] of [
      ['another CA', `{ ca: ${certs.rogueCa}, cert: ${certs.clientCert}, key: ${certs.clientKey} }`, /certificate/i],
      ['no client certificate', `{ ca: ${certs.ca} }`, /cannot reach Redis at rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+: .*if the server requires client certificates, set redis.tls.cert and redis.tls.key$/m],
    ] as const) {
      const file = path.join(h.dir, `${why.replaceAll(' ', '-')}.yaml`);
      const text = `db: cibq.db\nredis: { prefix: tls, tls: ${tls} }\n`;
      parseConfig(text, base); // valid configuration: the refusal comes from the server
      (await import('node:fs')).writeFileSync(file, text);
      const r = await cibq(['queue', '--config', file], h.env);
      assert.equal(r.code, 1, `${why}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, expected, why);
      assert.ok(!r.stderr.includes(PASSWORD) && !r.stdout.includes(PASSWORD), `${why}: the password was printed`);
    }
  });
});
