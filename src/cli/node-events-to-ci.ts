/**
 * Recorded node events → CI events, for `cibq event ci`, the same way the producer derives them:
 * `refsFetched` entries and `canonicalRefUpdated` directly, `localRefsAnnounced` through the diff of
 * the namespace's sigrefs in storage, patch events resolved to the revision to build from the patch
 * in storage. The producer knows a canonical ref's previous value from its snapshot; here it is the
 * value seen earlier in the same recording, or unknown (then the event is a …Created one).
 */
import type { NodeEvent } from '../node/node-event.ts';
import { ciEventFromChange, resolvePatchEvent } from '../producer/ci-event-builder.ts';
import { isTrackedRef, refChangeFromUpdate, type RefChange } from '../producer/ref-change.ts';
import { sigrefsChanges } from '../producer/sigrefs-changes.ts';
import type { StoragePort } from '../producer/storage-port.ts';
import type { CiEvent } from '../model/ci-event.ts';
import { coerceError } from '../util/coerce-error.ts';

export type Conversion = { events: CiEvent[]; problems: string[] };

/** Converts recorded events in order, remembering the ref values seen so far. */
export class NodeEventConverter {
  readonly #storage: Pick<StoragePort, 'sigrefs' | 'patch'>;
  /** `<rid> <ref>` → oid, from the events converted so far. */
  readonly #known = new Map<string, string>();

  constructor(storage: Pick<StoragePort, 'sigrefs' | 'patch'>) {
    this.#storage = storage;
  }

  async convert(ev: NodeEvent): Promise<Conversion> {
    const problems: string[] = [];
    let rid: string;
    let changes: RefChange[];
    switch (ev.type) {
      case 'refsFetched':
        rid = ev.rid;
        changes = ev.updated.map((u) => refChangeFromUpdate(u, ev.remote)).filter((c) => c !== null);
        break;
      case 'localRefsAnnounced':
        rid = ev.rid;
        try {
          changes = await sigrefsChanges(this.#storage, ev.rid, ev.refs.remote, ev.refs.at);
        } catch (e) {
          return { events: [], problems: [`cannot read sigrefs ${ev.refs.at} of ${ev.refs.remote} in ${ev.rid}: ${coerceError(e).message}`] };
        }
        break;
      case 'canonicalRefUpdated':
        rid = ev.rid;
        changes = [{ ref: ev.refname, old: this.#known.get(`${ev.rid} ${ev.refname}`) ?? null, new: ev.target, fromNode: null }];
        break;
      case 'other':
        return { events: [], problems };
    }
    const events: CiEvent[] = [];
    for (const c of changes) {
      if (!isTrackedRef(c.ref)) continue;
      const key = `${rid} ${c.ref}`;
      if (c.new === null) this.#known.delete(key);
      else this.#known.set(key, c.new);
      const raw = ciEventFromChange(rid, c);
      if (raw === null) continue;
      if (raw.patch === null) {
        events.push(raw);
        continue;
      }
      try {
        const patch = await this.#storage.patch(rid, raw.patch);
        if (patch === null) problems.push(`patch ${raw.patch} not found in ${rid}; its event starts nothing`);
        else events.push(resolvePatchEvent(raw, patch.latest));
      } catch (e) {
        problems.push(`cannot read patch ${raw.patch} in ${rid}: ${coerceError(e).message}`);
      }
    }
    return { events, problems };
  }
}
