/**
 * CI events: what the producer derives from node events (reference cib.md §1.4, extended with
 * tags and canonical refs). Filters are evaluated on these; `cibq event ci` prints them.
 */
import { z } from 'zod';

export const CI_EVENT_KINDS = [
  'BranchCreated',
  'BranchUpdated',
  'BranchDeleted',
  'TagCreated',
  'TagUpdated',
  'TagDeleted',
  'PatchCreated',
  'PatchUpdated',
] as const;

export const Oid = z.string().regex(/^[0-9a-f]{40}$/, 'expected a 40-hex git object id');
export const Nid = z.string().regex(/^z[1-9A-HJ-NP-Za-km-z]{40,60}$/, 'expected a node id (z6Mk…)');
export const Rid = z.string().regex(/^rad:z[1-9A-HJ-NP-Za-km-z]+$/, 'expected a repository id (rad:z…)');

export const CiEvent = z
  .object({
    kind: z.enum(CI_EVENT_KINDS),
    /** Repository id, `rad:z…`. */
    repo: Rid,
    /** The namespace the ref lives in (the author), or null for a top-level canonical ref. */
    author: Nid.nullable(),
    /** The node the data came from (`remote` of the node event); for local pushes, the author. */
    fromNode: Nid.nullable(),
    /** Full ref name as stored, e.g. `refs/namespaces/<nid>/refs/heads/main` or `refs/heads/main`. */
    ref: z.string().min(1),
    /** Branch or tag name (`main`, `v1.0`), or the patch id for patch events. */
    name: z.string().min(1),
    /** New tip (for deletions: the tip that was deleted). For tags: the ref's direct target. */
    tip: Oid,
    /** Previous tip, when known (updates only). */
    oldTip: Oid.nullable(),
    /** Patch id for patch events, else null. */
    patch: Oid.nullable(),
    /** True when the event is about a top-level canonical ref (`refs/heads/<default>`, canonical tags). */
    canonical: z.boolean(),
  })
  .strict();
export type CiEvent = z.infer<typeof CiEvent>;
export type CiEventKind = CiEvent['kind'];

export function isBranchEvent(e: CiEvent): boolean {
  return e.kind === 'BranchCreated' || e.kind === 'BranchUpdated' || e.kind === 'BranchDeleted';
}
export function isTagEvent(e: CiEvent): boolean {
  return e.kind === 'TagCreated' || e.kind === 'TagUpdated' || e.kind === 'TagDeleted';
}
export function isPatchEvent(e: CiEvent): boolean {
  return e.kind === 'PatchCreated' || e.kind === 'PatchUpdated';
}
export function isDeletion(e: CiEvent): boolean {
  return e.kind === 'BranchDeleted' || e.kind === 'TagDeleted';
}
