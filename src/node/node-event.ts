/**
 * Node events as they arrive on the control socket (reference radicle-node.md §2). Parsed at the
 * boundary: a line that is not JSON, or an event whose fields are wrong, is reported, never thrown.
 * Unknown event types are kept as `other` so newer nodes do not break us.
 */
import { z } from 'zod';

const Oid = z.string().regex(/^[0-9a-f]{40}$/);
const Name = z.string().min(1).max(4096);

export const RefUpdate = z.union([
  z.object({ updated: z.object({ name: Name, old: Oid, new: Oid }) }),
  z.object({ created: z.object({ name: Name, oid: Oid }) }),
  z.object({ deleted: z.object({ name: Name, oid: Oid }) }),
  z.object({ skipped: z.object({ name: Name, oid: Oid }) }),
]);
export type RefUpdate = z.infer<typeof RefUpdate>;

export const RefsFetched = z.object({
  type: z.literal('refsFetched'),
  remote: z.string(),
  rid: z.string(),
  updated: z.array(RefUpdate),
});
export type RefsFetched = z.infer<typeof RefsFetched>;

export const LocalRefsAnnounced = z.object({
  type: z.literal('localRefsAnnounced'),
  rid: z.string(),
  refs: z.object({ remote: z.string(), at: Oid }),
  timestamp: z.number().optional(),
});
export type LocalRefsAnnounced = z.infer<typeof LocalRefsAnnounced>;

export const CanonicalRefUpdated = z.object({
  type: z.literal('canonicalRefUpdated'),
  rid: z.string(),
  refname: Name,
  target: Oid,
});
export type CanonicalRefUpdated = z.infer<typeof CanonicalRefUpdated>;

export type NodeEvent =
  | RefsFetched
  | LocalRefsAnnounced
  | CanonicalRefUpdated
  | { type: 'other'; originalType: string };

export type ParsedLine =
  | { ok: true; event: NodeEvent }
  | { ok: false; reason: string };

const HANDLED: Record<string, z.ZodType<NodeEvent>> = {
  refsFetched: RefsFetched,
  localRefsAnnounced: LocalRefsAnnounced,
  canonicalRefUpdated: CanonicalRefUpdated,
};

/** Parses one line from the socket. */
export function parseNodeEventLine(line: string): ParsedLine {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { ok: false, reason: 'not a JSON object' };
  const type = (json as Record<string, unknown>).type;
  if (typeof type !== 'string') {
    const err = (json as Record<string, unknown>).error;
    return { ok: false, reason: typeof err === 'string' ? `node error: ${err}` : 'no "type" field' };
  }
  const schema = HANDLED[type];
  if (!schema) return { ok: true, event: { type: 'other', originalType: type } };
  const r = schema.safeParse(json);
  if (!r.success) return { ok: false, reason: `malformed ${type}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
  return { ok: true, event: r.data };
}
