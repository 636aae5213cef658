/**
 * The adapter protocol's trigger request (seed 002 §4.1/§4.2, reference cib.md §4.2).
 * Key order here is the order on the wire: the seed's samples are the golden shapes.
 */
import { z } from 'zod';
import { Oid, Rid } from './ci-event.ts';

export const Did = z.string().regex(/^did:key:z[1-9A-HJ-NP-Za-km-z]+$/, 'expected a did:key DID');

export const Author = z.object({ id: Did, alias: z.string().nullable() }).strict();
export type Author = z.infer<typeof Author>;

export const RepositoryInfo = z
  .object({
    id: Rid,
    name: z.string(),
    description: z.string(),
    private: z.boolean(),
    default_branch: z.string(),
    delegates: z.array(Did),
  })
  .strict();
export type RepositoryInfo = z.infer<typeof RepositoryInfo>;

export const PatchState = z.union([
  z.object({ status: z.literal('open'), conflicts: z.array(z.tuple([Oid, Oid])) }).strict(),
  z.object({ status: z.literal('draft') }).strict(),
  z.object({ status: z.literal('archived') }).strict(),
  z.object({ status: z.literal('merged'), revision: Oid, commit: Oid }).strict(),
]);
export type PatchState = z.infer<typeof PatchState>;

export const Revision = z
  .object({
    id: Oid,
    author: Author,
    description: z.string(),
    base: Oid,
    oid: Oid,
    /** Seconds since the epoch. */
    timestamp: z.number().int(),
  })
  .strict();
export type Revision = z.infer<typeof Revision>;

export const PushTrigger = z
  .object({
    request: z.literal('trigger'),
    version: z.literal(1),
    event_type: z.literal('push'),
    repository: RepositoryInfo,
    pusher: Author,
    before: Oid,
    after: Oid,
    /** Full ref name, e.g. `refs/namespaces/<nid>/refs/heads/main` or a tag ref. */
    branch: z.string().min(1),
    /** Newest first. */
    commits: z.array(Oid).min(1),
  })
  .strict();
export type PushTrigger = z.infer<typeof PushTrigger>;

export const PatchTrigger = z
  .object({
    request: z.literal('trigger'),
    version: z.literal(1),
    event_type: z.literal('patch'),
    repository: RepositoryInfo,
    action: z.enum(['Created', 'Updated']),
    patch: z
      .object({
        id: Oid,
        author: Author,
        title: z.string(),
        state: PatchState,
        before: Oid,
        after: Oid,
        commits: z.array(Oid).min(1),
        target: Oid,
        labels: z.array(z.string()),
        assignees: z.array(Did),
        revisions: z.array(Revision).min(1),
      })
      .strict(),
  })
  .strict();
export type PatchTrigger = z.infer<typeof PatchTrigger>;

export const TriggerMessage = z.discriminatedUnion('event_type', [PushTrigger, PatchTrigger]);
export type TriggerMessage = z.infer<typeof TriggerMessage>;

/** The commit an adapter builds: `commits[0]` (cib's `Request::commit()`). */
export function triggerCommit(m: TriggerMessage): string {
  const c = m.event_type === 'push' ? m.commits[0] : m.patch.commits[0];
  if (c === undefined) throw new Error('trigger message has no commits');
  return c;
}
