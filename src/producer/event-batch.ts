/**
 * Node events waiting in a row → the ref changes they announce, in order, for one batch (see
 * change-batch.ts). A canonical ref's old tip is what the snapshot holds once the changes before
 * it are recorded, so when an earlier change of the batch touched the same ref, those changes are
 * dispatched first: the result is what handling the events one by one would give.
 */
import type { NodeEvent } from '../node/node-event.ts';
import type { BatchChange } from './change-batch.ts';
import { refChangeFromUpdate, type RefChange } from './ref-change.ts';

/**
 * Events waiting behind the first are handled with it (never waited for) up to this many ref
 * changes, so a burst costs a few round trips per batch rather than per event.
 */
export const MAX_BATCH_CHANGES = 500;

/** How many ref changes an event carries, for sizing batches (a local push or canonical ref: one). */
export function changeCount(e: NodeEvent): number {
  return e.type === 'refsFetched' ? e.updated.length : 1;
}

export type EventBatchDeps = {
  /** What a local push changed (storage failures reported and taken as no change). */
  sigrefsChanges(rid: string, nid: string, at: string): Promise<RefChange[]>;
  /** The oid the snapshot holds for a ref. */
  snapshotRef(rid: string, ref: string): Promise<string | null>;
  dispatch(changes: readonly BatchChange[]): Promise<void>;
};

export async function changesOfEvents(events: readonly NodeEvent[], deps: EventBatchDeps): Promise<void> {
  // Sigrefs of local pushes are read together; the rest needs nothing from storage here.
  const announced = await Promise.all(events.map(async (ev) => (ev.type === 'localRefsAnnounced' ? deps.sigrefsChanges(ev.rid, ev.refs.remote, ev.refs.at) : null)));
  let changes: BatchChange[] = [];
  const touched = new Set<string>();
  const add = (rid: string, cs: readonly RefChange[]): void => {
    for (const change of cs) {
      changes.push({ rid, change });
      touched.add(`${rid}\0${change.ref}`);
    }
  };
  for (const [i, ev] of events.entries()) {
    switch (ev.type) {
      case 'refsFetched':
        add(ev.rid, ev.updated.map((u) => refChangeFromUpdate(u, ev.remote)).filter((c) => c !== null));
        break;
      case 'localRefsAnnounced':
        add(ev.rid, announced[i] ?? []);
        break;
      case 'canonicalRefUpdated': {
        if (touched.has(`${ev.rid}\0${ev.refname}`)) {
          await deps.dispatch(changes);
          changes = [];
          touched.clear();
        }
        const old = await deps.snapshotRef(ev.rid, ev.refname);
        add(ev.rid, [{ ref: ev.refname, old, new: ev.target, fromNode: null }]);
        break;
      }
      case 'other':
        break;
    }
  }
  await deps.dispatch(changes);
}
