/**
 * One CI event → what it needs from storage, and the runs it asks for: the parts of handling an
 * event that do not touch Redis, so a whole batch of events can be prepared at once (their storage
 * reads written together to git) and then enqueued together (see change-batch.ts). Storage
 * problems (a repository mid-clone, a missing object, git or cache.db failing) skip the event with
 * `retry: true`, so the caller leaves the ref unprocessed and a later catch-up tries again; a
 * deliberate skip (nothing to build, a patch whose latest revision did not change) has
 * `retry: false`.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { isDeletion, type CiEvent } from '../model/ci-event.ts';
import type { Config } from '../config/config.ts';
import { coerceError } from '../util/coerce-error.ts';
import type { FilterContext } from '../config/filter-eval.ts';
import type { Keys } from '../queue/redis.ts';
import type { EnqueueRequest, RunQueues } from '../queue/run-queues.ts';
import type { TriggerMessage } from '../model/trigger-message.ts';
import { buildPatchTrigger, buildPushTrigger, isBuildError } from './build-trigger.ts';
import { dedupeRef, resolvePatchEvent } from './ci-event-builder.ts';
import { selectAdapters, type Selection } from './select-adapters.ts';
import type { IdentityInfo, StoragePort } from './storage-port.ts';

export type PatchRevisions = {
  getPatchRevisions(patches: readonly { rid: string; patch: string }[]): Promise<(string | null)[]>;
};

export type DispatchDeps = {
  config: Pick<Config, 'filters' | 'defaultAdapter' | 'triggers' | 'adapters' | 'supersede'>;
  storage: StoragePort;
  queues: RunQueues;
  redis: Redis;
  keys: Keys;
  log: Logger;
  now: () => Date;
  /** The latest revision seen per patch; without it every patch COB update is a CI event. */
  patchRevisions?: PatchRevisions;
};

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

/** Reads what the event needs from storage; a skip with a reason when the event cannot be used. */
export async function prepareEvent(
  storage: StoragePort,
  identityOf: Promise<IdentityInfo>,
  raw: CiEvent,
): Promise<Prepared | Skip> {
  try {
    return await prepare(storage, identityOf, raw);
  } catch (e) {
    return { skip: coerceError(e).message, retry: true };
  }
}

async function prepare(storage: StoragePort, identityOf: Promise<IdentityInfo>, raw: CiEvent): Promise<Prepared | Skip> {
  // A push's commit is read alongside the identity check: one trip to git instead of two.
  const after = raw.patch === null && !isDeletion(raw) ? storage.peelToCommit(raw.repo, raw.tip) : null;
  after?.catch(() => {}); // a failure is reported where it is awaited
  let identity: IdentityInfo;
  try {
    identity = await identityOf;
  } catch (e) {
    return { skip: `cannot read identity of ${raw.repo}: ${coerceError(e).message}`, retry: true };
  }
  if (raw.patch !== null) {
    const patch = await storage.patch(raw.repo, raw.patch);
    // An invalid COB stays invalid until its refs change, which is a new event.
    if (patch === null) return { skip: `patch ${raw.patch} not found in ${raw.repo}`, retry: false };
    const event = resolvePatchEvent(raw, patch.latest);
    const trigger = await buildPatchTrigger(storage, identity, event, patch);
    if (isBuildError(trigger)) return { skip: trigger.error, retry: false };
    return { event, identity, trigger, title: patch.title, revision: patch.latest.id };
  }
  if (isDeletion(raw)) return { event: raw, identity, trigger: null, title: null, revision: null };
  const trigger = await buildPushTrigger(storage, identity, raw, after ?? undefined);
  // A commit missing from storage may still be on its way (a fetch in progress): retry later.
  if (isBuildError(trigger)) return { skip: trigger.error, retry: trigger.missing === true };
  return { event: raw, identity, trigger, title: null, revision: null };
}

export type Skip = { skip: string; retry: boolean; quiet?: boolean };
export type Prepared = {
  event: CiEvent;
  identity: IdentityInfo;
  trigger: TriggerMessage | null;
  title: string | null;
  /** For patch events: the revision built, remembered once its runs are enqueued. */
  revision: string | null;
};

/** The runs a prepared event asks for: one per adapter its filters select, none for a deletion. */
export async function runRequests(
  deps: Pick<DispatchDeps, 'config' | 'storage' | 'log'>,
  prepared: Prepared,
): Promise<{ adapters: string[]; requests: EnqueueRequest[] }> {
  const { event, identity, trigger, title } = prepared;
  const selection = await selectAdapters(deps.config, event, filterContext(deps.storage, identity, event));
  if (deps.log.isLevelEnabled('debug')) deps.log.debug({ repo: event.repo, ref: event.ref, event, decisions: selection.decisions }, 'filter decisions');
  if (trigger === null) {
    if (selection.adapters.length > 0) deps.log.info({ repo: event.repo, ref: event.ref, kind: event.kind }, 'deleted ref: nothing to build');
    return { adapters: selection.adapters, requests: [] };
  }
  const commit = trigger.event_type === 'push' ? trigger.after : trigger.patch.after;
  const requests = selection.adapters.map((adapter) => ({
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
  }));
  return { adapters: selection.adapters, requests };
}
