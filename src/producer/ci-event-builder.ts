/**
 * Ref change → CI event (reference cib.md §1.4, extended with tags, canonical refs and patches whose
 * kind is decided by their revisions). Patch events first carry the COB tip; `resolvePatchEvent`
 * replaces it with the head of the revision to build once the patch has been read.
 */
import type { CiEvent } from '../model/ci-event.ts';
import { classifyRef, type RefChange } from './ref-change.ts';

/** The CI event for one ref change, or null when the change starts nothing (ignored refs, deleted COBs). */
export function ciEventFromChange(rid: string, c: RefChange): CiEvent | null {
  const k = classifyRef(c.ref);
  if (k.kind === 'ignored') return null;
  if (k.kind === 'patch') {
    if (c.new === null) return null;
    return {
      kind: c.old === null ? 'PatchCreated' : 'PatchUpdated',
      repo: rid,
      author: k.author,
      fromNode: c.fromNode,
      ref: c.ref,
      name: k.id,
      tip: c.new,
      oldTip: null,
      patch: k.id,
      canonical: false,
    };
  }
  const prefix = k.kind === 'branch' ? 'Branch' : 'Tag';
  let kind: CiEvent['kind'];
  let tip: string;
  if (c.new === null) {
    if (c.old === null) return null;
    kind = `${prefix}Deleted`;
    tip = c.old;
  } else {
    kind = c.old === null ? `${prefix}Created` : `${prefix}Updated`;
    tip = c.new;
  }
  return {
    kind,
    repo: rid,
    author: k.author,
    fromNode: c.fromNode ?? k.author,
    ref: c.ref,
    name: k.name,
    tip,
    oldTip: c.new === null ? null : c.old,
    patch: null,
    canonical: k.author === null,
  };
}

/** A patch event once its state is known: Created iff the revision to build is the root revision. */
export function resolvePatchEvent(e: CiEvent, latest: { id: string; oid: string }): CiEvent {
  return { ...e, kind: latest.id === e.patch ? 'PatchCreated' : 'PatchUpdated', tip: latest.oid };
}

/**
 * The ref a run is deduplicated on: the namespace stripped, so the same commit on `main` in two
 * delegates' namespaces and the canonical `refs/heads/main` is built once per adapter.
 */
export function dedupeRef(e: CiEvent): string {
  if (e.patch !== null) return `patch/${e.patch}`;
  return e.kind.startsWith('Tag') ? `refs/tags/${e.name}` : `refs/heads/${e.name}`;
}
