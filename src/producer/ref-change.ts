/**
 * A change of one ref in storage, whatever told us about it: a `refsFetched` entry, a diff of two
 * sigrefs (`localRefsAnnounced`), a `canonicalRefUpdated`, or the catch-up scan. Classifying the ref
 * name is where peer-controlled names enter: they are matched, never interpreted.
 */
import type { RefUpdate } from '../node/node-event.ts';

export type RefChange = {
  ref: string;
  old: string | null;
  new: string | null;
  /** The node the change came from, when known. */
  fromNode: string | null;
};

export type RefKind =
  | { kind: 'branch'; author: string | null; name: string }
  | { kind: 'tag'; author: string | null; name: string }
  | { kind: 'patch'; author: string; id: string }
  | { kind: 'ignored' };

const NS = /^refs\/namespaces\/(z[1-9A-HJ-NP-Za-km-z]+)\/(refs\/.+)$/;
const PATCH = /^refs\/cobs\/xyz\.radicle\.patch\/([0-9a-f]{40})$/;

/** Which refs start CI: branches, tags and patch COBs; never rad/*, tmp/*, heads/patches/* (reference §6). */
export function classifyRef(ref: string): RefKind {
  const ns = NS.exec(ref);
  const author = ns ? (ns[1] ?? null) : null;
  const rest = ns ? (ns[2] ?? '') : ref;
  if (rest.startsWith('refs/heads/')) {
    const name = rest.slice('refs/heads/'.length);
    if (name === '' || name.startsWith('patches/')) return { kind: 'ignored' };
    return { kind: 'branch', author, name };
  }
  if (rest.startsWith('refs/tags/')) {
    const name = rest.slice('refs/tags/'.length);
    return name === '' ? { kind: 'ignored' } : { kind: 'tag', author, name };
  }
  const p = PATCH.exec(rest);
  if (p && author && p[1]) return { kind: 'patch', author, id: p[1] };
  return { kind: 'ignored' };
}

/** True for the refs the producer keeps in its snapshot (the ones that can start CI). */
export function isTrackedRef(ref: string): boolean {
  return classifyRef(ref).kind !== 'ignored';
}

export function refChangeFromUpdate(u: RefUpdate, fromNode: string | null): RefChange | null {
  if ('updated' in u) return { ref: u.updated.name, old: u.updated.old, new: u.updated.new, fromNode };
  if ('created' in u) return { ref: u.created.name, old: null, new: u.created.oid, fromNode };
  if ('deleted' in u) return { ref: u.deleted.name, old: u.deleted.oid, new: null, fromNode };
  return null; // skipped: "already had it"
}

/** Differences between two ref maps (ref → oid), e.g. two sigrefs or a snapshot and storage. */
export function diffRefs(
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
  fromNode: string | null,
): RefChange[] {
  const out: RefChange[] = [];
  for (const [ref, oid] of after) {
    const prev = before.get(ref);
    if (prev !== oid) out.push({ ref, old: prev ?? null, new: oid, fromNode });
  }
  for (const [ref, oid] of before) {
    if (!after.has(ref)) out.push({ ref, old: oid, new: null, fromNode });
  }
  return out;
}
