/**
 * What the producer needs from node storage. `src/storage/storage.ts` implements it; keeping the
 * port small keeps the producer's dependencies explicit and lets tests stand in for storage.
 */
import type { Identity } from '../storage/identity.ts';
import type { PatchInfo } from '../storage/patch-info.ts';

export type { Identity as IdentityInfo } from '../storage/identity.ts';
export type { PatchInfo, RevisionInfo } from '../storage/patch-info.ts';

export interface StoragePort {
  listRepositories(): Promise<string[]>;
  identity(rid: string): Promise<Identity>;
  resolveRef(rid: string, ref: string): Promise<string | null>;
  listRefs(rid: string): Promise<Map<string, string>>;
  peelToCommit(rid: string, oid: string): Promise<string | null>;
  commitsBetween(rid: string, tip: string, old: string | null, limit?: number): Promise<string[]>;
  hasFile(rid: string, commit: string, path: string): Promise<boolean>;
  sigrefs(rid: string, sigrefsCommit: string): Promise<{ refs: Map<string, string>; parent: string | null }>;
  patch(rid: string, patchId: string): Promise<PatchInfo | null>;
}
