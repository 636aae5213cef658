/**
 * A batch of ref changes (one node event's, the events waiting behind it, or a repository's in a
 * catch-up) handled as if one after the other, in a fixed number of round trips: every change's
 * storage reads are started together (so git gets them in one write), the revisions of patches are
 * read in one pipeline, every selected run is enqueued by one `enqueueRuns`, and the changes are
 * recorded as processed in one MULTI, after their runs exist. What one change would have seen of
 * an earlier one of the batch (its dedupe mark, the revision it built) is carried in memory.
 */
import type { CiEvent } from '../model/ci-event.ts';
import { enqueueRuns } from '../queue/run-queues.ts';
import { ciEventFromChange } from './ci-event-builder.ts';
import { prepareEvent, runRequests, type DispatchDeps, type Prepared, type Skip } from './dispatch.ts';
import type { IdentityCache } from './identity-cache.ts';
import { isTrackedRef, type RefChange } from './ref-change.ts';
import type { Snapshot } from './snapshot.ts';
import type { IdentityInfo } from './storage-port.ts';

export type BatchChange = { rid: string; change: RefChange };
export type BatchDeps = DispatchDeps & { snapshot: Snapshot; identities: IdentityCache };
export type BatchStats = { enqueued: number; duplicates: number; skipped: number; retryLater: number };

type Item = { c: BatchChange; event: CiEvent | null; outcome: Prepared | Skip | null };

const isSkip = (o: Prepared | Skip | null): o is Skip => o !== null && 'skip' in o;

export async function dispatchChanges(deps: BatchDeps, changes: readonly BatchChange[]): Promise<BatchStats> {
  const stats: BatchStats = { enqueued: 0, duplicates: 0, skipped: 0, retryLater: 0 };
  const identities = new Map<string, Promise<IdentityInfo>>();
  const identityOf = (rid: string): Promise<IdentityInfo> => {
    let p = identities.get(rid);
    if (p === undefined) {
      p = deps.identities.get(rid);
      p.catch(() => {}); // each event that needs it reports the failure
      identities.set(rid, p);
    }
    return p;
  };
  const items: Item[] = changes
    .filter((c) => isTrackedRef(c.change.ref))
    .map((c) => ({ c, event: ciEventFromChange(c.rid, c.change), outcome: null }));
  const prepared = await Promise.all(items.map(async (it) => (it.event ? prepareEvent(deps.storage, identityOf(it.event.repo), it.event) : null)));
  items.forEach((it, i) => (it.outcome = prepared[i] ?? null));

  const revisions = await unchangedPatches(deps, items);
  const plans = await Promise.all(items.map(async (it) => (it.outcome !== null && !isSkip(it.outcome) ? runRequests(deps, it.outcome) : null)));
  const results = await enqueueRuns(deps, plans.flatMap((p) => p?.requests ?? []));
  for (const r of results) {
    if (r.status === 'enqueued') stats.enqueued++;
    else stats.duplicates++;
  }

  const processed: BatchChange[] = [];
  for (const it of items) {
    const o = it.outcome;
    if (isSkip(o)) {
      stats.skipped++;
      const at = { repo: it.c.rid, ref: it.c.change.ref, reason: o.skip };
      if (o.quiet === true) deps.log.debug(at, 'no CI event');
      else deps.log.warn({ ...at, retry: o.retry }, 'skipping CI event');
      // Storage failed (git died, cache.db busy, repository mid-clone): leave the ref
      // unprocessed so the next catch-up tries again; dedupe keeps that from running twice.
      if (o.retry) {
        stats.retryLater++;
        continue;
      }
    }
    processed.push(it.c);
  }
  await deps.snapshot.record(processed, revisions);
  return stats;
}

/**
 * Skips patch events whose latest revision is the one already built (a comment, a review, a
 * label); returns the revisions the others build, to remember once their runs are enqueued.
 */
async function unchangedPatches(deps: BatchDeps, items: Item[]): Promise<{ rid: string; patch: string; revision: string }[]> {
  const patches = items.filter((it) => it.outcome !== null && !isSkip(it.outcome) && it.outcome.revision !== null && it.event?.patch != null);
  if (patches.length === 0) return [];
  const ask = patches.map((it) => ({ rid: it.c.rid, patch: it.event?.patch as string }));
  const known = (await deps.patchRevisions?.getPatchRevisions(ask)) ?? ask.map(() => null);
  const inBatch = new Map<string, string>();
  const out: { rid: string; patch: string; revision: string }[] = [];
  patches.forEach((it, i) => {
    const p = it.outcome as Prepared;
    const { rid, patch } = ask[i] as { rid: string; patch: string };
    const key = `${rid}\0${patch}`;
    const before = inBatch.has(key) ? inBatch.get(key) : known[i];
    if (before === p.revision) {
      it.outcome = { skip: `latest revision ${before} of patch ${patch} unchanged (a comment, review or label)`, retry: false, quiet: true };
      return;
    }
    inBatch.set(key, p.revision as string);
    out.push({ rid, patch, revision: p.revision as string });
  });
  return out;
}
