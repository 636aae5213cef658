/**
 * Writes that must survive a Sentinel failover. Redis replicates asynchronously: a write the
 * primary acknowledged is lost if the primary dies before a replica has it. After such writes (a run
 * enqueued and the producer's note that its event is handled; a run handed to its adapter; a final
 * result) cibq waits, for at most `timeoutMs`, until one replica has everything the primary had
 * done up to then (WAIT counts the replication offset, so writes of other connections before it
 * are covered too). Only while the primary has a replica: a single Redis costs one ROLE call every
 * few seconds, nothing more.
 */
import type { Redis } from 'ioredis';

const REFRESH_MS = 2000;
const known = new WeakMap<Redis, { replicas: number; at: number }>();

/** Replicas connected to the primary this connection talks to (cached for a few seconds). */
async function replicaCount(redis: Redis): Promise<number> {
  const cached = known.get(redis);
  if (cached && Date.now() - cached.at < REFRESH_MS) return cached.replicas;
  const role = (await redis.call('ROLE')) as unknown[];
  const replicas = role[0] === 'master' && Array.isArray(role[2]) ? role[2].length : 0;
  known.set(redis, { replicas, at: Date.now() });
  return replicas;
}

/**
 * Waits until a replica has this connection's writes so far; returns how many replicas have them
 * (0 when there is none, or none caught up in time: the write is then only on the primary).
 */
export async function waitForReplica(redis: Redis, timeoutMs = 1000): Promise<number> {
  if ((await replicaCount(redis)) === 0) return 0;
  const n = await redis.wait(1, timeoutMs);
  if (n === 0) known.delete(redis); // maybe the replica went away: look again next time
  return n;
}
