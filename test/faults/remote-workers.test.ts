/**
 * Fault suite: workers on other hosts, with real network separation (network namespaces joined
 * by veth pairs; needs root). Redis, TLS-only with client certificates and a password, runs on
 * one host; a worker runs on each of two others, routed by --adapters. One worker's cable is
 * pulled mid-run: the other takes the run over once its lock expires. The cable goes back in: the
 * cut-off worker's late result is refused (the run has exactly one final result) and the worker
 * takes runs again by itself. Where namespaces cannot be made, the test says so plainly.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { connectRedis, redisKeys, type RedisConfig } from '../../src/queue/redis.ts';
import { enqueueRun, RunQueues } from '../../src/queue/run-queues.ts';
import { RunUpdate } from '../../src/model/run.ts';
import { listWorkers } from '../../src/queue/worker-registry.ts';
import { CIBQ } from '../helpers/cli.ts';
import { NetHosts } from '../helpers/netns.ts';
import { RedisServer } from '../helpers/redis-server.ts';
import { makeCerts } from '../helpers/tls-certs.ts';
import { oid } from '../worker/fixtures/harness.ts';
import { SLOW_ADAPTER, waitFor } from './fault-env.ts';

const PASSWORD = 'remote-Pa55-word';
const RID = 'rad:z3uBEubocQ9kJANPvMAo6z5ZhhaFh';
const DID = 'did:key:z6MkgEMYod7Hxfy9qCvDv5hYHkZ4ciWmLFgfvm3Wn1b2w2FV';

describe('faults: workers on other hosts', () => {
  test('a cut-off worker: its run is taken over, its late result refused, and it rejoins by itself', async (t) => {
    let hosts: NetHosts;
    try {
      hosts = await NetHosts.create(['a', 'b']);
    } catch (e) {
      const why = e instanceof Error ? e.message.split('\n').slice(-1)[0] : String(e);
      t.diagnostic(`NOT RUN: this machine cannot create network namespaces (${why}); the test needs root and iproute2`);
      return;
    }
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cq-hosts-'));
    const procs: ChildProcess[] = [];
    let server: RedisServer | null = null;
    const log = pino({ level: 'silent' });
    try {
      const link = (h: string) => hosts.links.get(h) as NonNullable<ReturnType<typeof hosts.links.get>>;
      const certs = await makeCerts(path.join(dir, 'tls'), { ips: ['a', 'b', 'root'].map((h) => link(h).hubIp) });
      server = await RedisServer.start({ netns: hosts.hub, tls: certs, password: PASSWORD, host: link('root').hubIp });
      const record = path.join(dir, 'record.txt');
      const configFile = path.join(dir, 'cibq.yaml');
      const tls = { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey };
      writeFileSync(configFile, `
db: ${path.join(dir, 'cibq.db')}
kill_grace: 1s
max_attempts: 3
redis:
  prefix: hosts
  tls: { ca: ${tls.ca}, cert: ${tls.cert}, key: ${tls.key} }
adapters:
  ci: { command: ${SLOW_ADAPTER}, env: { RECORD_FILE: ${record}, SLEEP_SECONDS: "5" } }
  only-a: { command: ${SLOW_ADAPTER}, env: { RECORD_FILE: ${record}, SLEEP_SECONDS: "0.2" } }
  only-b: { command: ${SLOW_ADAPTER}, env: { RECORD_FILE: ${record}, SLEEP_SECONDS: "0.2" } }
`);
      const cfg: RedisConfig = { url: server.url, prefix: 'hosts', tls };
      const redis = connectRedis(cfg, log, 'test');
      const keys = redisKeys('hosts');
      const queues = new RunQueues(redis, keys);
      const logs = new Map<string, string>();
      const worker = (host: 'a' | 'b') => {
        const file = path.join(dir, `worker-${host}.log`);
        logs.set(host, file);
        const [cmd, args] = hosts.exec(host, [CIBQ, 'worker', '--config', configFile, '--name', `host-${host}`, '--adapters', `ci,only-${host}`, '--lock-duration', '2s']);
        const p = spawn(cmd, args, {
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, CIBQ_LOG_LEVEL: 'info', REDIS_URL: `rediss://:${PASSWORD}@${link(host).hubIp}:${server?.port}` },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        p.stderr?.pipe(createWriteStream(file));
        procs.push(p);
      };
      const logOf = (host: string) => readFileSync(logs.get(host) ?? '', 'utf8');
      const updates = async (runId: string) =>
        (await redis.xrange(keys.runUpdates, '-', '+')).map(([, f]) => RunUpdate.parse(JSON.parse(f[1] ?? 'null'))).filter((u) => u.subject.id === runId);
      const finals = async (runId: string) => (await updates(runId)).filter((u) => u.state === 'finished');
      const enqueue = (adapter: string, n: number) => enqueueRun({ queues, redis, keys, log, now: () => new Date() }, {
        adapter,
        trigger: { request: 'trigger', version: 1, event_type: 'push', repository: { id: RID, name: 'acme', description: '', private: false, default_branch: 'main', delegates: [DID] },
          pusher: { id: DID, alias: null }, before: oid(0), after: oid(n), branch: 'refs/heads/main', commits: [oid(n)] },
        subject: { repo: RID, repo_name: 'acme', event_type: 'push', ref: 'refs/heads/main', patch: null, title: null, author: DID, commit: oid(n), private: false },
        dedupe: { repo: RID, ref: 'refs/heads/main', commit: oid(n) },
      });
      const finalOf = async (runId: string, timeoutMs = 40_000) => waitFor(`the final result of ${runId}`, async () => (await finals(runId))[0], timeoutMs);

      worker('a');
      worker('b');
      await waitFor('both workers to announce themselves over TLS', async () => (await listWorkers(redis, keys)).length === 2, 60_000);

      // Routing: each host takes only the adapters it was given.
      const ra = await enqueue('only-a', 1);
      const rb = await enqueue('only-b', 2);
      assert.equal((await finalOf(ra.runId)).worker, 'host-a');
      assert.equal((await finalOf(rb.runId)).worker, 'host-b');

      // A run of the shared adapter; pull the cable of whichever host runs it.
      const run = await enqueue('ci', 3);
      const started = await waitFor('the run to start', async () => (await updates(run.runId)).find((u) => u.state === 'triggered'), 30_000);
      const cut = started.worker === 'host-a' ? 'a' : 'b';
      const other = cut === 'a' ? 'b' : 'a';
      await sleep(500);
      await hosts.setLink(cut, false);
      const cutAt = Date.now();
      const final = await finalOf(run.runId, 60_000);
      const takenAfter = Date.now() - cutAt;
      assert.equal(final.worker, `host-${other}`, 'the other host finished the run');
      assert.equal(final.result, 'success');
      assert.ok((final.attempts ?? 0) >= 2, 'it shows as a further attempt');

      // Plug it back in: the cut-off worker's own result (its adapter finished meanwhile) is refused.
      await hosts.setLink(cut, true);
      await waitFor('the cut-off worker to give up its attempt', () => /lost the run|already had a final result/.test(logOf(cut)), 60_000);
      await sleep(1000);
      assert.equal((await finals(run.runId)).length, 1, 'exactly one final result');

      // It rejoins by itself: it takes and finishes a run of its own adapter again.
      const back = await enqueue(`only-${cut}`, 4);
      assert.equal((await finalOf(back.runId, 60_000)).worker, `host-${cut}`);
      assert.ok(!logOf('a').includes(PASSWORD) && !logOf('b').includes(PASSWORD), 'a worker logged the Redis password');
      t.diagnostic(`hosts: cut host-${cut} mid-run, host-${other} finished the run as attempt ${final.attempts} ${Math.round(takenAfter / 100) / 10} s after the cut; ` +
        `1 final result; host-${cut} rejoined and ran a run again`);
      await queues.close();
      redis.disconnect();
    } finally {
      for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      await Promise.all(procs.filter((p) => p.exitCode === null && p.signalCode === null).map((p) => new Promise((r) => p.once('exit', r))));
      await server?.close();
      await hosts.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
