/**
 * The evaluated state of a patch as the broker needs it, whether read from the node's COB cache
 * or evaluated from the COB in git.
 */
import type { PatchState } from '../model/trigger-message.ts';

export type RevisionInfo = {
  id: string;
  /** Bare NID of the revision's author. */
  author: string;
  /** Current description (the last edit's body). */
  description: string;
  base: string;
  /** The revision's head commit. */
  oid: string;
  /** Seconds since the epoch. */
  timestamp: number;
};

export type PatchInfo = {
  id: string;
  title: string;
  /** Bare NID of the patch author. */
  author: string;
  /** `open` always carries `conflicts` (empty when there are none). */
  state: PatchState;
  labels: string[];
  /** DIDs. */
  assignees: string[];
  /** Timeline order, redacted revisions removed. */
  revisions: RevisionInfo[];
  /** Newest revision by the patch author: what to build (Rust's `Patch::latest()`). */
  latest: RevisionInfo;
};

/** Rust's `Patch::latest()`: the newest revision (timeline order) authored by the patch author. */
export function latestByAuthor(author: string, revisions: readonly RevisionInfo[]): RevisionInfo | null {
  for (let i = revisions.length - 1; i >= 0; i--) {
    const r = revisions[i];
    if (r !== undefined && r.author === author) return r;
  }
  return null;
}
