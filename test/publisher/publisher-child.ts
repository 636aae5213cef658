/**
 * The publisher core in a process of its own, for the SIGKILL test: argv[2] is JSON
 * `{redisUrl, prefix, radHome, socket, reportUrl, hangAfterCobWrite}`. With hangAfterCobWrite it
 * writes `<radHome>/hung` right after a job COB ref moved (before sigrefs and the acknowledgement)
 * and then waits to be killed.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { Announcer } from '../../src/node/announcer.ts';
import { runPublisher } from '../../src/publisher/run-publisher.ts';
import { connectRedis, redisKeys } from '../../src/queue/redis.ts';
import { loadNodeSigner } from '../../src/signing/node-signer.ts';
import { JobStore } from '../../src/storage/job-store.ts';

const o = JSON.parse(process.argv[2] ?? '{}') as { redisUrl: string; prefix: string; radHome: string; socket: string; reportUrl: string; hangAfterCobWrite: boolean };
const log = pino({ level: 'silent' });
const signer = await loadNodeSigner({ radHome: o.radHome, passphrase: null, agentSocket: null });
const redis = connectRedis({ url: o.redisUrl, prefix: o.prefix }, log, 'child');
const store = new JobStore({
  radHome: o.radHome,
  signer,
  log,
  afterCobWrite: async () => {
    if (!o.hangAfterCobWrite) return;
    writeFileSync(join(o.radHome, 'hung'), 'x');
    await new Promise(() => {});
  },
});
const announcer = new Announcer({ socketPath: o.socket, nid: signer.nid, log, minBackoffMs: 50 });
const abort = new AbortController();
process.on('SIGTERM', () => abort.abort());
await runPublisher(
  { redis, keys: redisKeys(o.prefix), log, store, announcer, signer, options: { jobCobs: () => true, reportUrl: o.reportUrl }, blockMs: 200 },
  abort.signal,
);
announcer.close();
await store.close();
redis.disconnect();
