/**
 * The BullMQ queues of runs, one per adapter, and the one way runs get into them (producer and
 * `cibq trigger` alike): deduplicated, published to the reporter as `queued`, in bulk.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Keys } from './redis.ts';
import { cancelRun, controlKeys, DEDUPE_TTL_SECONDS } from './run-control.ts';
import type { RunJobData } from './run-job.ts';
import type { RunSubject, RunUpdate } from '../model/run.ts';
import type { TriggerMessage } from '../model/trigger-message.ts';

export class RunQueues {
  readonly #redis: Redis;
  readonly #keys: Keys;
  readonly #queues = new Map<string, Queue>();

  constructor(redis: Redis, keys: Keys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  queue(adapter: string): Queue {
    let q = this.#queues.get(adapter);
    if (!q) {
      q = new Queue(this.#keys.runQueue(adapter), { connection: this.#redis, prefix: this.#keys.bullPrefix });
      q.on('error', () => {}); // connection errors are logged once by the connection itself
      this.#queues.set(adapter, q);
    }
    return q;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#queues.values()].map((q) => q.close()));
    this.#queues.clear();
  }
}

export type EnqueueRequest = {
  adapter: string;
  trigger: TriggerMessage;
  subject: Omit<RunSubject, 'id' | 'adapter' | 'queued_at'>;
  /** (repository, ref, commit) identity for deduplication; null for manual runs, which always run. */
  dedupe: { repo: string; ref: string; commit: string } | null;
  /**
   * Cancel the previous run of this adapter for the same repository and `dedupe.ref` (branch or
   * patch), queued or running, in favour of this one. Ignored for manual runs (no `dedupe`).
   */
  supersede?: boolean;
};

export type EnqueueResult = { status: 'enqueued' | 'duplicate'; runId: string; superseded?: string };

const MAX_JOB_NAME = 200;

/**
 * The job's name in the Bull dashboard: what it runs, `acme main 1a2b3c4d`, `acme tag v1.0 …`,
 * `acme patch 9f8e7d6c …`. Names are display text (a peer's branch name among them); nothing
 * routes on them.
 */
export function jobName(s: Pick<RunSubject, 'repo' | 'repo_name' | 'ref' | 'patch' | 'commit'>): string {
  const rest = s.ref.replace(/^refs\/namespaces\/[^/]+\//, '');
  const what = s.patch !== null
    ? `patch ${s.patch.slice(0, 8)}`
    : rest.startsWith('refs/heads/') ? rest.slice('refs/heads/'.length)
      : rest.startsWith('refs/tags/') ? `tag ${rest.slice('refs/tags/'.length)}` : rest;
  // eslint-disable-next-line no-control-regex
  const name = `${s.repo_name || s.repo} ${what} ${s.commit.slice(0, 8)}`.replace(/[\u0000-\u001f\u007f]/g, '?');
  return name.length > MAX_JOB_NAME ? `${name.slice(0, MAX_JOB_NAME - 1)}…` : name;
}

function dedupeHash(adapter: string, d: { repo: string; ref: string; commit: string }): string {
  return createHash('sha256').update(`${adapter}\0${d.repo}\0${d.ref}\0${d.commit}`).digest('hex');
}

/**
 * A UUID-shaped id derived from the dedupe hash, so the same run always gets the same id; after
 * `generation` cancellations of it (see releaseDedupe) the commit runs again under a new id.
 */
function uuidFromHash(hash: string, generation: number): string {
  const h = generation === 0 ? hash : createHash('sha256').update(`${hash}\0${generation}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

type EnqueueDeps = { queues: RunQueues; redis: Redis; keys: Keys; log: Logger; now: () => Date };

const JOB_OPTS = {
  attempts: 1,
  removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
  removeOnFail: { age: 30 * 24 * 3600, count: 10_000 },
} as const;

export async function enqueueRun(deps: EnqueueDeps, req: EnqueueRequest): Promise<EnqueueResult> {
  const [r] = await enqueueRuns(deps, [req]);
  return r as EnqueueResult;
}

/**
 * Enqueues `reqs` in order, as if one after the other, in a fixed number of round trips whatever
 * their number: one pipelined read of the dedupe marks, one `addBulk` per adapter, one MULTI with
 * the dedupe marks, the `queued` updates and the newest run per branch or patch, then a cancel per
 * superseded run. A request whose (adapter, repository, ref, commit) an earlier one of the same
 * batch already has is a duplicate of it. The marks are set only once the jobs exist; the job id
 * is the run id, so adding it again after a crash in between is a no-op.
 */
export async function enqueueRuns(deps: EnqueueDeps, reqs: readonly EnqueueRequest[]): Promise<EnqueueResult[]> {
  if (reqs.length === 0) return [];
  const ck = controlKeys(deps.keys);
  const hashes = reqs.map((r) => (r.dedupe ? dedupeHash(r.adapter, r.dedupe) : null));
  const read = deps.redis.pipeline();
  for (const h of hashes) if (h !== null) read.mget(deps.keys.dedupe(h), ck.dedupeGen(h));
  const marks = (await read.exec()) ?? [];
  const queuedAt = deps.now().toISOString();
  const inBatch = new Map<string, string>();
  const results: EnqueueResult[] = [];
  const fresh: { req: EnqueueRequest; hash: string | null; subject: RunSubject }[] = [];
  let m = 0;
  for (const [i, req] of reqs.entries()) {
    const hash = hashes[i] ?? null;
    let runId: string;
    if (hash !== null) {
      const [err, got] = marks[m++] ?? [new Error('no reply')];
      if (err) throw err;
      const [mark, generation] = got as (string | null)[];
      const known = mark ?? inBatch.get(hash);
      if (known != null) {
        results.push({ status: 'duplicate', runId: known });
        continue;
      }
      runId = uuidFromHash(hash, Number(generation ?? 0));
      inBatch.set(hash, runId);
    } else {
      runId = randomUUID();
    }
    const subject: RunSubject = { ...req.subject, id: runId, adapter: req.adapter, queued_at: queuedAt };
    fresh.push({ req, hash, subject });
    results.push({ status: 'enqueued', runId });
  }
  if (fresh.length === 0) return results;

  const byAdapter = new Map<string, { name: string; data: RunJobData; opts: typeof JOB_OPTS & { jobId: string } }[]>();
  for (const { req, subject } of fresh) {
    const jobs = byAdapter.get(req.adapter) ?? [];
    jobs.push({ name: jobName(subject), data: { subject, trigger: req.trigger }, opts: { ...JOB_OPTS, jobId: subject.id } });
    byAdapter.set(req.adapter, jobs);
  }
  await Promise.all([...byAdapter].map(([adapter, jobs]) => deps.queues.queue(adapter).addBulk(jobs)));

  const multi = deps.redis.multi();
  const latestAt: number[] = [];
  let n = 0;
  for (const { req, hash, subject } of fresh) {
    if (hash !== null) {
      multi.set(ck.dedupeOf(subject.id), hash, 'EX', DEDUPE_TTL_SECONDS).set(deps.keys.dedupe(hash), subject.id, 'EX', DEDUPE_TTL_SECONDS);
      n += 2;
    }
    const update: RunUpdate = { subject, state: 'queued', at: queuedAt, attempts: 0 };
    multi.xadd(deps.keys.runUpdates, '*', 'u', JSON.stringify(update));
    n++;
    if (req.dedupe) {
      // The newest run per (adapter, repository, branch or patch), kept whether or not supersede is on.
      multi.set(ck.latest(lineHash(req.adapter, req.dedupe)), subject.id, 'EX', DEDUPE_TTL_SECONDS, 'GET');
      latestAt.push(n++);
    } else {
      latestAt.push(-1);
    }
  }
  const replies = (await multi.exec()) ?? [];
  for (const [err] of replies) if (err) throw err;
  const logged = fresh.map(({ subject: s }) => ({ runId: s.id, adapter: s.adapter, repo: s.repo, ref: s.ref, commit: s.commit }));
  // One line per batch: a line per run costs a write(2) each, a tenth of the producer's time.
  if (logged.length === 1) deps.log.info(logged[0], 'run queued');
  else deps.log.info({ runs: logged }, 'runs queued');

  const byId = new Map(results.map((r) => [r.runId, r]));
  for (const [i, { req, subject }] of fresh.entries()) {
    const at = latestAt[i] ?? -1;
    if (at < 0 || !req.supersede) continue;
    const previous = (replies[at]?.[1] ?? null) as string | null;
    if (previous === null || previous === subject.id) continue;
    const reason = `superseded by run ${subject.id} (commit ${subject.commit.slice(0, 12)})`;
    const c = await cancelRun(deps, [req.adapter], previous, reason);
    deps.log.info({ runId: subject.id, previous, outcome: c.status }, 'superseding the previous run of this branch or patch');
    const r = byId.get(subject.id);
    if (r) r.superseded = previous;
  }
  return results;
}

function lineHash(adapter: string, d: { repo: string; ref: string }): string {
  return createHash('sha256').update(`${adapter}\0${d.repo}\0${d.ref}`).digest('hex');
}
