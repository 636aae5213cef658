/**
 * The publisher: reads run updates through its own consumer group (independent of the reporter),
 * records each run's start and end in the run's job COB in the node's storage, signs, and asks the
 * node to announce. An update is acknowledged only after its write (and sigrefs) landed, so a
 * publisher killed in between re-reads it at restart; the job store reads the job back and writes
 * only what is missing. A repository or commit missing from storage is logged and acknowledged;
 * any other failure leaves the batch pending and is retried with backoff.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Announcer } from '../node/announcer.ts';
import type { Keys } from '../queue/redis.ts';
import { PUBLISHER_GROUP, RunUpdateReader } from '../queue/run-updates.ts';
import { JobTargetMissing, type JobStore } from '../storage/job-store.ts';
import type { RunUpdate } from '../model/run.ts';
import { coerceError } from '../util/coerce-error.ts';
import type { EnvelopeSigner } from '../signing/dsse.ts';
import { NATIVE_CONFIG } from '../model/test-result.ts';
import { runAttestation } from './run-attestation.ts';
import { runStep, type PublisherOptions } from './run-step.ts';

export type PublisherDeps = {
  redis: Redis;
  keys: Keys;
  log: Logger;
  store: Pick<JobStore, 'publish' | 'blobAt'>;
  /** The node key that signs each finished run's attestation; null: Finished changes carry none. */
  signer: EnvelopeSigner | null;
  announcer: Pick<Announcer, 'announce'>;
  options: PublisherOptions;
  consumer?: string;
  blockMs?: number;
  /** Called after each acknowledged batch with the number of updates in it (tests). */
  onBatch?: (n: number) => void;
};

async function publishOne(deps: PublisherDeps, u: RunUpdate, log: Logger): Promise<void> {
  const decision = runStep(u, deps.options);
  if (decision.kind === 'skip') {
    if (decision.why !== null) log.warn({ runId: u.subject.id, adapter: u.subject.adapter, why: decision.why }, 'run not published as a job COB');
    return;
  }
  const { repo, commit, id } = u.subject;
  const signer = deps.signer;
  const step = decision.step;
  if (u.state === 'finished' && signer !== null) {
    step.attest = async (jobId) => {
      const nativeConfigBlob = deps.options.runsNativeConfig?.(u.subject.adapter) === true ? await deps.store.blobAt(repo, commit, NATIVE_CONFIG) : null;
      return runAttestation(signer, { update: u, jobId, url: step.log, nativeConfigBlob, reportUrl: deps.options.reportUrl });
    };
  }
  try {
    const r = await deps.store.publish(repo, commit, step);
    if (r.written.length > 0) {
      log.info({ runId: id, repo, commit, job: r.jobId, actions: r.written.map((a) => Object.keys(a)[0]), sigrefs: r.sigrefs }, 'job COB updated');
    }
    deps.announcer.announce(repo);
  } catch (e) {
    if (e instanceof JobTargetMissing) {
      log.warn({ runId: id, repo, commit, missing: e.what, err: coerceError(e) }, 'cannot publish the run: not in storage');
      return;
    }
    throw e;
  }
}

/** Runs until `signal` aborts; resolves after the batch in hand is finished. */
export async function runPublisher(deps: PublisherDeps, signal: AbortSignal): Promise<void> {
  const log = deps.log.child({ component: 'publisher' });
  const reader = new RunUpdateReader(deps.redis, deps.keys.runUpdates, deps.consumer ?? 'publisher', log, PUBLISHER_GROUP);
  let failures = 0;
  let groupReady = false;
  while (!signal.aborted) {
    try {
      if (!groupReady) {
        await reader.ensureGroup();
        groupReady = true;
      }
      const batch = await reader.read(deps.blockMs ?? 1000, 50);
      for (const u of batch.updates) {
        if (signal.aborted) break;
        await publishOne(deps, u, log);
      }
      if (signal.aborted && batch.updates.length > 0) {
        // Unfinished batch: leave it pending; the next start re-reads it and writes only what is missing.
        reader.rereadPending();
        break;
      }
      await reader.ack(batch.ids);
      if (batch.ids.length > 0) deps.onBatch?.(batch.ids.length);
      failures = 0;
    } catch (e) {
      if (signal.aborted) break;
      failures++;
      reader.rereadPending();
      groupReady = false;
      const delay = Math.min(30_000, 250 * 2 ** Math.min(failures, 7));
      log.error({ err: coerceError(e), retryInMs: delay }, 'cannot publish run updates; will retry');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
    }
  }
}
