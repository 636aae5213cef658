/**
 * A run's BullMQ job log, appended many lines at a time: `job.log()` costs one script call (a
 * round trip) per line, which for a chatty adapter is thousands of calls per second. Same effect
 * as BullMQ's addLog script (lines go only to a job that still exists; no trimming, as cibq sets
 * no `keepLogs`), but one call per batch, and batches are pipelined.
 */
import type { Redis } from 'ioredis';
import type { Keys } from './redis.ts';

/** KEYS[1] the job's hash, KEYS[2] its log list; ARGV the lines. -1 when the job is gone. */
const APPEND = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('RPUSH', KEYS[2], unpack(ARGV))`;

/** Lua's unpack() takes at most a few thousand values: larger batches are split. */
const PER_CALL = 1000;

export class JobGoneError extends Error {
  constructor(jobId: string) {
    super(`job ${jobId} no longer exists; its log lines were dropped`);
    this.name = 'JobGoneError';
  }
}

/** Appends `lines` (in order) to the log of job `jobId` in the run queue of `adapter`. */
export async function appendJobLog(redis: Redis, keys: Keys, adapter: string, jobId: string, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  const jobKey = `${keys.bullPrefix}:${keys.runQueue(adapter)}:${jobId}`;
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < lines.length; i += PER_CALL) {
    calls.push(redis.eval(APPEND, 2, jobKey, `${jobKey}:logs`, ...lines.slice(i, i + PER_CALL)));
  }
  const results = await Promise.all(calls);
  if (results.some((r) => r === -1)) throw new JobGoneError(jobId);
}
