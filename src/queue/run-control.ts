/**
 * Run control shared by workers, the producer and `cibq cancel`: the one way a run's final update
 * is published (exactly once per run, and only by the holder of the job's lock), and cancellation
 * of a queued run (removed from its queue) or a running one (asked of whichever worker holds it).
 *
 * Redis keys, all under the configured prefix:
 * - `<p>:final:<run>`  the run's result, set in the same script that publishes its final update;
 *   a later attempt of the run sees it and does nothing (at-least-once jobs, exactly-once results).
 * - `<p>:cancel:<run>` why the run is to be cancelled; read by a worker when it starts the run and
 *   polled while it runs, so a cancel request survives a missed pub/sub message.
 * - `<p>:cancel` (channel) cancel requests, for the worker holding the run to act at once.
 * - `<p>:latest:<hash>` the newest run per (adapter, repository, branch or patch), for supersede.
 * - `<p>:dedupe-of:<run>` the dedupe hash the run was enqueued under, and `<p>:dedupe-gen:<hash>`
 *   how many runs of that (adapter, repository, ref, commit) were cancelled: a cancelled or
 *   superseded run gives up its dedupe mark, so the same commit runs again (with a new run id)
 *   if it becomes the tip again, e.g. after a force-push back.
 */
import os from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Keys } from './redis.ts';
import { RunJobData } from './run-job.ts';
import type { Queue } from 'bullmq';
import type { RunResult, RunUpdate } from '../model/run.ts';

const FINAL_TTL_SECONDS = 60 * 24 * 3600;
const CANCEL_TTL_SECONDS = 7 * 24 * 3600;

export function controlKeys(keys: Keys) {
  const p = keys.bullPrefix;
  return {
    final: (runId: string) => `${p}:final:${runId}`,
    cancel: (runId: string) => `${p}:cancel:${runId}`,
    cancelChannel: `${p}:cancel`,
    latest: (hash: string) => `${p}:latest:${hash}`,
    dedupeOf: (runId: string) => `${p}:dedupe-of:${runId}`,
    dedupeGen: (hash: string) => `${p}:dedupe-gen:${hash}`,
    /** BullMQ's lock of a job: holds the token of the worker processing it. */
    jobLock: (adapter: string, jobId: string) => `${p}:${keys.runQueue(adapter)}:${jobId}:lock`,
  };
}

/** What travels on the cancel channel. */
export const CancelRequest = z.object({ run_id: z.string().min(1), reason: z.string() });
export type CancelRequest = z.infer<typeof CancelRequest>;

const PUBLISH_FINAL = `
if KEYS[3] ~= nil and redis.call('GET', KEYS[3]) ~= ARGV[4] then return 'lock-lost' end
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[3]) then return 'already-final' end
redis.call('XADD', KEYS[2], '*', 'u', ARGV[2])
return 'published'`;

export type FinalStatus = 'published' | 'already-final' | 'lock-lost';

/**
 * Publishes a `finished` update unless the run already has one. With `lock`, only while that
 * token still holds the job's lock: a worker that lost its lock must not report its attempt.
 */
export async function publishFinal(
  redis: Redis,
  keys: Keys,
  update: RunUpdate & { result: RunResult },
  lock?: { adapter: string; token: string },
): Promise<FinalStatus> {
  const ck = controlKeys(keys);
  const k = [ck.final(update.subject.id), keys.runUpdates];
  if (lock) k.push(ck.jobLock(lock.adapter, update.subject.id));
  const r = (await redis.eval(PUBLISH_FINAL, k.length, ...k, update.result, JSON.stringify(update), FINAL_TTL_SECONDS, lock?.token ?? '')) as FinalStatus;
  if (r === 'published' && update.result === 'cancelled') await releaseDedupe(redis, keys, update.subject.id);
  return r;
}

/** Deletes the dedupe mark if it is still this run's, and counts a new generation of run ids. */
const RELEASE_DEDUPE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 1`;

/** Lets a cancelled run's commit be enqueued again: its dedupe mark is removed. */
export async function releaseDedupe(redis: Redis, keys: Keys, runId: string): Promise<boolean> {
  const ck = controlKeys(keys);
  const hash = await redis.get(ck.dedupeOf(runId));
  if (hash === null) return false;
  return (await redis.eval(RELEASE_DEDUPE, 2, keys.dedupe(hash), ck.dedupeGen(hash), runId, DEDUPE_TTL_SECONDS)) === 1;
}

/** Enqueue marks expire after this long; a commit re-announced after that may run again. */
export const DEDUPE_TTL_SECONDS = 180 * 24 * 3600;

/** The result of a run whose final update was published, or null. */
export async function finalResult(redis: Redis, keys: Keys, runId: string): Promise<string | null> {
  return redis.get(controlKeys(keys).final(runId));
}

/** What a worker checks before it starts a run, in one round trip: its final result and a pending cancel. */
export async function runStartState(redis: Redis, keys: Keys, runId: string): Promise<{ final: string | null; cancel: string | null }> {
  const ck = controlKeys(keys);
  const [final = null, cancel = null] = await redis.mget(ck.final(runId), ck.cancel(runId));
  return { final, cancel };
}

/** Cancel reasons pending for the given runs. */
export async function pendingCancels(redis: Redis, keys: Keys, runIds: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (runIds.length === 0) return out;
  const ck = controlKeys(keys);
  const values = await redis.mget(...runIds.map((id) => ck.cancel(id)));
  values.forEach((v, i) => {
    if (v !== null) out.set(runIds[i] as string, v);
  });
  return out;
}

/** "alice@build-1": who asked, for cancel reasons. */
export function requester(): string {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // no passwd entry
  }
  return `${user}@${os.hostname()}`;
}

export type CancelOutcome =
  /** It was queued: removed from its queue, and finished as cancelled. */
  | { status: 'cancelled'; adapter: string }
  /** It is running (or being picked up): the worker holding it was asked to cancel it. */
  | { status: 'requested'; adapter: string }
  | { status: 'finished'; result: string | null }
  | { status: 'unknown' };

/** `queues` is the run queues by adapter (RunQueues), typed by what cancelling needs of it. */
export type ControlDeps = { queues: { queue(adapter: string): Queue }; redis: Redis; keys: Keys; log: Logger; now: () => Date };

/** Cancels a run of one of `adapters` (where to look for it), queued or running. */
export async function cancelRun(deps: ControlDeps, adapters: readonly string[], runId: string, reason: string): Promise<CancelOutcome> {
  const { redis, keys } = deps;
  const done = await finalResult(redis, keys, runId);
  if (done !== null) return { status: 'finished', result: done };
  for (const adapter of adapters) {
    const queue = deps.queues.queue(adapter);
    const job = await queue.getJob(runId);
    if (!job) continue;
    const state = await queue.getJobState(runId);
    if (state === 'completed' || state === 'failed') {
      return { status: 'finished', result: (await finalResult(redis, keys, runId)) ?? null };
    }
    if (state === 'unknown') continue;
    const ck = controlKeys(keys);
    // First the durable request: a worker picking the run up from here on sees it.
    await redis.set(ck.cancel(runId), reason, 'EX', CANCEL_TTL_SECONDS);
    if (state !== 'active') {
      // Final result first: if we crash before the removal, a worker that picks the run up skips it.
      const parsed = RunJobData.safeParse(job.data);
      const at = deps.now().toISOString();
      if (parsed.success) await publishFinal(redis, keys, { subject: parsed.data.subject, state: 'finished', at, result: 'cancelled', reason, attempts: 0 });
      if ((await queue.remove(runId)) === 1 || !parsed.success) {
        deps.log.info({ runId, adapter, reason }, 'queued run cancelled');
        return { status: 'cancelled', adapter };
      }
      // A worker took it in the meantime: it sees the final result (or the cancel request) and stops.
    }
    // Locked by a worker: ask it (the request key covers a worker that misses the message).
    await redis.publish(ck.cancelChannel, JSON.stringify({ run_id: runId, reason } satisfies CancelRequest));
    deps.log.info({ runId, adapter, reason }, 'asked the worker holding the run to cancel it');
    return { status: 'requested', adapter };
  }
  return { status: 'unknown' };
}
