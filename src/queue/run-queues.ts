/**
 * The BullMQ queues of runs, one per adapter, and the one way runs get into them (producer and
 * `cibq trigger` alike): deduplicated, published to the reporter as `queued`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Keys } from './redis.ts';
import { cancelRun, controlKeys, DEDUPE_TTL_SECONDS } from './run-control.ts';
import type { RunJobData } from './run-job.ts';
import type { RunSubject } from '../model/run.ts';
import { publishRunUpdate } from './run-updates.ts';
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

export async function enqueueRun(
  deps: { queues: RunQueues; redis: Redis; keys: Keys; log: Logger; now: () => Date },
  req: EnqueueRequest,
): Promise<EnqueueResult> {
  const ck = controlKeys(deps.keys);
  const hash = req.dedupe ? dedupeHash(req.adapter, req.dedupe) : null;
  const markKey = hash ? deps.keys.dedupe(hash) : null;
  let runId: string;
  if (hash && markKey) {
    const [mark, generation] = await deps.redis.mget(markKey, ck.dedupeGen(hash));
    if (mark != null) return { status: 'duplicate', runId: mark };
    runId = uuidFromHash(hash, Number(generation ?? 0));
  } else {
    runId = randomUUID();
  }

  const subject: RunSubject = { ...req.subject, id: runId, adapter: req.adapter, queued_at: deps.now().toISOString() };
  const data: RunJobData = { subject, trigger: req.trigger };
  // The job id is the run id: adding it again while it exists is a no-op, which covers a crash
  // between adding the job and setting the mark.
  await deps.queues.queue(req.adapter).add(jobName(subject), data, {
    jobId: runId,
    attempts: 1,
    removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
    removeOnFail: { age: 30 * 24 * 3600, count: 10_000 },
  });
  if (hash && markKey) {
    await deps.redis.multi().set(ck.dedupeOf(runId), hash, 'EX', DEDUPE_TTL_SECONDS).set(markKey, runId, 'EX', DEDUPE_TTL_SECONDS).exec();
  }
  await publishRunUpdate(deps.redis, deps.keys.runUpdates, { subject, state: 'queued', at: subject.queued_at, attempts: 0 });
  deps.log.info({ runId, adapter: req.adapter, repo: subject.repo, ref: subject.ref, commit: subject.commit }, 'run queued');
  if (!req.dedupe) return { status: 'enqueued', runId };
  // The newest run per (adapter, repository, branch or patch), kept whether or not supersede is on.
  const lineHash = createHash('sha256').update(`${req.adapter}\0${req.dedupe.repo}\0${req.dedupe.ref}`).digest('hex');
  const previous = await deps.redis.set(ck.latest(lineHash), runId, 'EX', DEDUPE_TTL_SECONDS, 'GET');
  if (!req.supersede || previous === null || previous === runId) return { status: 'enqueued', runId };
  const reason = `superseded by run ${runId} (commit ${subject.commit.slice(0, 12)})`;
  const c = await cancelRun(deps, [req.adapter], previous, reason);
  deps.log.info({ runId, previous, outcome: c.status }, 'superseding the previous run of this branch or patch');
  return { status: 'enqueued', runId, superseded: previous };
}
