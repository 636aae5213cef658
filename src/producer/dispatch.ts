/**
 * One CI event → the runs it starts. Storage problems (a repository mid-clone, a missing object,
 * git or cache.db failing) skip the event with `retry: true`, so the caller leaves the ref
 * unprocessed and a later catch-up tries again; a deliberate skip (nothing to build, a patch whose
 * latest revision did not change) has `retry: false`. Redis problems propagate so the caller
 * retries the whole event.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { isDeletion, type CiEvent } from '../model/ci-event.ts';
import type { Config } from '../config/config.ts';
import { coerceError } from '../util/coerce-error.ts';
import type { FilterContext } from '../config/filter-eval.ts';
import type { Keys } from '../queue/redis.ts';
import { enqueueRun, type RunQueues } from '../queue/run-queues.ts';
import type { TriggerMessage } from '../model/trigger-message.ts';
import { buildPatchTrigger, buildPushTrigger, isBuildError } from './build-trigger.ts';
import { dedupeRef, resolvePatchEvent } from './ci-event-builder.ts';
import { selectAdapters, type Selection } from './select-adapters.ts';
import type { IdentityInfo, StoragePort } from './storage-port.ts';

export type DispatchDeps = {
  config: Pick<Config, 'filters' | 'defaultAdapter' | 'triggers' | 'adapters' | 'supersede'>;
  storage: StoragePort;
  queues: RunQueues;
  redis: Redis;
  keys: Keys;
  log: Logger;
  now: () => Date;
  /** The latest revision seen per patch; without it every patch COB update is a CI event. */
  patchRevisions?: {
    getPatchRevision(rid: string, patchId: string): Promise<string | null>;
    setPatchRevision(rid: string, patchId: string, revision: string): Promise<void>;
  };
};

export type DispatchOutcome =
  | { status: 'skipped'; reason: string; retry: boolean }
  | { status: 'done'; event: CiEvent; enqueued: string[]; duplicates: string[]; adapters: string[] };

export function filterContext(storage: StoragePort, identity: IdentityInfo, e: CiEvent): FilterContext {
  let commit: Promise<string | null> | null = null;
  return {
    defaultBranch: identity.defaultBranch,
    delegates: identity.delegates.map((d) => d.replace(/^did:key:/, '')),
    hasFile: async (path: string) => {
      commit ??= storage.peelToCommit(e.repo, e.tip);
      const c = await commit;
      return c === null ? false : storage.hasFile(e.repo, c, path);
    },
  };
}

/**
 * Whether runs of `adapter` started by this selection supersede older ones: the setting of a
 * trigger that selected it (the first with a setting), else the adapter's, else the global one —
 * also when the global filters selected the same adapter too.
 */
export function supersedeFor(
  config: Pick<Config, 'triggers' | 'adapters' | 'supersede'>,
  adapter: string,
  decisions: Selection['decisions'],
): boolean {
  for (const d of decisions) {
    if (d.adapter !== adapter || !d.decision.allowed) continue;
    const m = /^triggers\[(\d+)\]$/.exec(d.source);
    const fromTrigger = m ? config.triggers[Number(m[1])]?.supersede : null;
    if (fromTrigger !== null && fromTrigger !== undefined) return fromTrigger;
  }
  return config.adapters[adapter]?.supersede ?? config.supersede;
}

/** Reads what the event needs from storage; null with a reason when the event cannot be used. */
async function prepare(
  deps: DispatchDeps,
  raw: CiEvent,
): Promise<Prepared | Skip> {
  let identity: IdentityInfo;
  try {
    identity = await deps.storage.identity(raw.repo);
  } catch (e) {
    return { skip: `cannot read identity of ${raw.repo}: ${coerceError(e).message}`, retry: true };
  }
  if (raw.patch !== null) {
    const patch = await deps.storage.patch(raw.repo, raw.patch);
    // An invalid COB stays invalid until its refs change, which is a new event.
    if (patch === null) return { skip: `patch ${raw.patch} not found in ${raw.repo}`, retry: false };
    const event = resolvePatchEvent(raw, patch.latest);
    const trigger = await buildPatchTrigger(deps.storage, identity, event, patch);
    if (isBuildError(trigger)) return { skip: trigger.error, retry: false };
    return { event, identity, trigger, title: patch.title, revision: patch.latest.id };
  }
  if (isDeletion(raw)) return { event: raw, identity, trigger: null, title: null, revision: null };
  const trigger = await buildPushTrigger(deps.storage, identity, raw);
  // A commit missing from storage may still be on its way (a fetch in progress): retry later.
  if (isBuildError(trigger)) return { skip: trigger.error, retry: trigger.missing === true };
  return { event: raw, identity, trigger, title: null, revision: null };
}

type Skip = { skip: string; retry: boolean; quiet?: boolean };
type Prepared = {
  event: CiEvent;
  identity: IdentityInfo;
  trigger: TriggerMessage | null;
  title: string | null;
  /** For patch events: the revision built, remembered once its runs are enqueued. */
  revision: string | null;
};

export async function dispatchEvent(deps: DispatchDeps, raw: CiEvent): Promise<DispatchOutcome> {
  const log = deps.log.child({ repo: raw.repo, ref: raw.ref });
  let prepared: Awaited<ReturnType<typeof prepare>>;
  try {
    prepared = await prepare(deps, raw);
  } catch (e) {
    prepared = { skip: coerceError(e).message, retry: true };
  }
  // Outside the try: a Redis failure here propagates (the caller retries), it is no storage fault.
  if (!('skip' in prepared) && prepared.revision !== null && raw.patch !== null) {
    const known = await deps.patchRevisions?.getPatchRevision(raw.repo, raw.patch);
    if (known === prepared.revision) {
      prepared = { skip: `latest revision ${known} of patch ${raw.patch} unchanged (a comment, review or label)`, retry: false, quiet: true };
    }
  }
  if ('skip' in prepared) {
    if (prepared.quiet === true) log.debug({ reason: prepared.skip }, 'no CI event');
    else log.warn({ reason: prepared.skip, retry: prepared.retry }, 'skipping CI event');
    return { status: 'skipped', reason: prepared.skip, retry: prepared.retry };
  }
  const { event, identity, trigger, title } = prepared;
  const selection = await selectAdapters(deps.config, event, filterContext(deps.storage, identity, event));
  log.debug({ event, decisions: selection.decisions }, 'filter decisions');
  const out: DispatchOutcome = { status: 'done', event, enqueued: [], duplicates: [], adapters: selection.adapters };
  if (trigger === null) {
    if (selection.adapters.length > 0) log.info({ kind: event.kind }, 'deleted ref: nothing to build');
    return out;
  }
  const commit = trigger.event_type === 'push' ? trigger.after : trigger.patch.after;
  for (const adapter of selection.adapters) {
    const r = await enqueueRun(deps, {
      adapter,
      trigger,
      subject: {
        repo: event.repo,
        repo_name: identity.name,
        event_type: trigger.event_type,
        ref: event.ref,
        patch: event.patch,
        title,
        author: trigger.event_type === 'push' ? trigger.pusher.id : trigger.patch.author.id,
        commit,
        private: identity.private,
      },
      dedupe: { repo: event.repo, ref: dedupeRef(event), commit },
      supersede: supersedeFor(deps.config, adapter, selection.decisions),
    });
    (r.status === 'enqueued' ? out.enqueued : out.duplicates).push(r.runId);
  }
  if (event.patch !== null && prepared.revision !== null) {
    await deps.patchRevisions?.setPatchRevision(event.repo, event.patch, prepared.revision);
  }
  return out;
}
