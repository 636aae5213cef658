/**
 * What a local push changed (`localRefsAnnounced`, reference radicle-node.md §1, §3): the diff of
 * the namespace's signed refs at the announced sigrefs commit with those of its parent. Used by the
 * producer and by `cibq event ci`. Storage errors propagate; callers decide how to report them.
 */
import { diffRefs, type RefChange } from './ref-change.ts';
import type { StoragePort } from './storage-port.ts';

export async function sigrefsChanges(
  storage: Pick<StoragePort, 'sigrefs'>,
  rid: string,
  nid: string,
  at: string,
): Promise<RefChange[]> {
  const cur = await storage.sigrefs(rid, at);
  const prev = cur.parent ? (await storage.sigrefs(rid, cur.parent)).refs : new Map<string, string>();
  const ns = (m: Map<string, string>) => new Map([...m].map(([r, o]) => [`refs/namespaces/${nid}/${r}`, o]));
  return diffRefs(ns(prev), ns(cur.refs), nid);
}
