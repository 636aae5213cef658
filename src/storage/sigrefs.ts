/**
 * Signed refs (reference radicle-node.md §3): the `refs` blob of a `rad/sigrefs` commit lists
 * `<oid> <ref without namespace>` lines. The diff between two such commits is exactly the set of
 * ref changes a peer published.
 */

export type Sigrefs = { refs: Map<string, string>; parent: string | null };

export type RefsDiff = {
  created: Array<{ ref: string; oid: string }>;
  updated: Array<{ ref: string; old: string; new: string }>;
  deleted: Array<{ ref: string; oid: string }>;
};

/** Parses a `refs` blob; malformed lines are skipped. */
export function parseSigrefsBlob(content: Buffer): Map<string, string> {
  const refs = new Map<string, string>();
  for (const line of content.toString('utf8').split('\n')) {
    const m = /^([0-9a-f]{40,64}) (\S+)$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) refs.set(m[2], m[1]);
  }
  return refs;
}

/** Ref changes from `before` to `after`, each list sorted by ref name. */
export function diffRefs(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): RefsDiff {
  const diff: RefsDiff = { created: [], updated: [], deleted: [] };
  for (const [ref, oid] of after) {
    const old = before.get(ref);
    if (old === undefined) diff.created.push({ ref, oid });
    else if (old !== oid) diff.updated.push({ ref, old, new: oid });
  }
  for (const [ref, oid] of before) if (!after.has(ref)) diff.deleted.push({ ref, oid });
  const byRef = (a: { ref: string }, b: { ref: string }): number => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0);
  diff.created.sort(byRef);
  diff.updated.sort(byRef);
  diff.deleted.sort(byRef);
  return diff;
}
