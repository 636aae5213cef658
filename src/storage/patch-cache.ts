/**
 * Reads a patch from the node's COB cache `$RAD_HOME/cobs/cache.db` (table `patches`, JSON as
 * printed by `rad cob show`). The database is opened read-only; a missing file or row is `null`
 * and the caller falls back to evaluating the COB from git.
 */
import { existsSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { z } from 'zod';
import { Oid } from '../model/ci-event.ts';
import { nidFromDid, isNid } from '../model/node-id.ts';
import type { PatchState } from '../model/trigger-message.ts';
import { latestByAuthor, type PatchInfo, type RevisionInfo } from './patch-info.ts';

const Actor = z.looseObject({ id: z.string() });
const Edit = z.looseObject({ body: z.string(), timestamp: z.number() });
const CachedRevision = z.looseObject({
  id: Oid,
  author: Actor,
  description: z.array(Edit).min(1),
  base: Oid,
  oid: Oid,
  timestamp: z.number(),
});
const CachedState = z.looseObject({
  status: z.enum(['open', 'draft', 'archived', 'merged']),
  conflicts: z.array(z.tuple([Oid, Oid])).optional(),
  revision: Oid.optional(),
  commit: Oid.optional(),
});
export const CachedPatch = z.looseObject({
  title: z.string(),
  author: Actor,
  state: CachedState,
  labels: z.array(z.string()).default([]),
  assignees: z.array(z.string()).default([]),
  revisions: z.record(z.string(), CachedRevision.nullable()),
  timeline: z.array(z.string()),
});
export type CachedPatch = z.infer<typeof CachedPatch>;

function toNid(didOrNid: string): string {
  return isNid(didOrNid) ? didOrNid : nidFromDid(didOrNid);
}

function toState(s: z.infer<typeof CachedState>): PatchState {
  switch (s.status) {
    case 'open':
      return { status: 'open', conflicts: s.conflicts ?? [] };
    case 'merged':
      if (s.revision === undefined || s.commit === undefined) throw new Error('merged state without revision/commit');
      return { status: 'merged', revision: s.revision, commit: s.commit };
    default:
      return { status: s.status };
  }
}

/** Converts `rad cob show` JSON into a PatchInfo; throws if it is not a valid patch. */
export function patchFromCacheJson(id: string, json: unknown): PatchInfo {
  const p = CachedPatch.parse(json);
  const author = toNid(p.author.id);
  const revisions: RevisionInfo[] = [];
  const seen = new Set<string>();
  for (const revId of p.timeline) {
    const r = p.revisions[revId];
    if (r === undefined || r === null || seen.has(revId)) continue;
    seen.add(revId);
    const lastEdit = r.description[r.description.length - 1];
    revisions.push({
      id: r.id,
      author: toNid(r.author.id),
      description: lastEdit?.body ?? '',
      base: r.base,
      oid: r.oid,
      timestamp: Math.floor(r.timestamp / 1000),
    });
  }
  const latest = latestByAuthor(author, revisions);
  if (latest === null) throw new Error(`patch ${id} has no revision by its author`);
  return { id, title: p.title, author, state: toState(p.state), labels: p.labels, assignees: p.assignees, revisions, latest };
}

/** A read-only handle on cache.db, opened lazily (the file may appear later). */
export class PatchCache {
  readonly #path: string;
  #db: DatabaseSync | null = null;

  constructor(path: string) {
    this.#path = path;
  }

  /** The raw JSON text of the cached patch, or null when the file or row is missing. */
  row(rid: string, patchId: string): string | null {
    const db = this.#open();
    if (db === null) return null;
    const row = db.prepare('SELECT patch FROM patches WHERE id = ? AND repo = ?').get(patchId, rid);
    const patch = row?.['patch'];
    return typeof patch === 'string' ? patch : null;
  }

  close(): void {
    this.#db?.close();
    this.#db = null;
  }

  #open(): DatabaseSync | null {
    if (this.#db !== null) return this.#db;
    if (!existsSync(this.#path)) return null;
    this.#db = new DatabaseSync(this.#path, { readOnly: true });
    return this.#db;
  }
}
