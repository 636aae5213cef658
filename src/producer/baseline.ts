/**
 * The producer's baseline: what storage held when cibq first looked, which starts no CI. Every
 * tracked ref goes into the snapshot, and the latest revision of every existing patch is noted, so
 * a later comment on a patch older than the baseline is recognised as such and starts nothing. The
 * producer records it only while not subscribed to the node (see run-producer.ts).
 */
import type { Logger } from 'pino';
import { coerceError } from '../util/coerce-error.ts';
import { classifyRef, isTrackedRef } from './ref-change.ts';
import type { Snapshot } from './snapshot.ts';
import type { StoragePort } from './storage-port.ts';

export type BaselineDeps = { storage: StoragePort; snapshot: Snapshot; log: Logger };

/** The refs of a repository that can start CI (branches, tags, patch COBs). */
export async function trackedRefs(storage: Pick<StoragePort, 'listRefs'>, rid: string): Promise<Map<string, string>> {
  return new Map([...(await storage.listRefs(rid))].filter(([ref]) => isTrackedRef(ref)));
}

/** Records the baseline and marks the snapshot initialized; false if storage cannot be listed. */
export async function recordBaseline(deps: BaselineDeps): Promise<boolean> {
  const { storage, snapshot, log } = deps;
  let repos: string[];
  try {
    repos = await storage.listRepositories();
  } catch (e) {
    log.error({ err: coerceError(e) }, 'cannot list repositories in storage');
    return false;
  }
  for (const rid of repos) {
    let current: Map<string, string>;
    try {
      current = await trackedRefs(storage, rid);
    } catch (e) {
      log.warn({ rid, err: coerceError(e) }, 'cannot list refs; leaving repository out of the baseline');
      continue;
    }
    await snapshot.replace(rid, current);
    await recordPatchRevisions(deps, rid, current);
  }
  await snapshot.markInitialized();
  log.info({ repositories: repos.length }, 'recorded baseline of storage; later changes start CI');
  return true;
}

async function recordPatchRevisions(deps: BaselineDeps, rid: string, refs: ReadonlyMap<string, string>): Promise<void> {
  const ids = new Set<string>();
  for (const ref of refs.keys()) {
    const k = classifyRef(ref);
    if (k.kind === 'patch') ids.add(k.id);
  }
  for (const id of ids) {
    let latest: string | null = null;
    try {
      latest = (await deps.storage.patch(rid, id))?.latest.id ?? null;
    } catch (e) {
      deps.log.warn({ rid, patch: id, err: coerceError(e) }, 'cannot read patch for the baseline');
    }
    if (latest !== null) await deps.snapshot.setPatchRevision(rid, id, latest);
  }
}
