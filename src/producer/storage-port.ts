/**
 * What the producer needs from node storage. `src/storage/storage.ts` implements it; keeping the
 * port small keeps the producer's dependencies explicit.
 */
import type { PatchState } from '../shared/trigger-message.ts';

export type IdentityInfo = {
  rid: string;
  name: string;
  description: string;
  defaultBranch: string;
  delegates: string[];
  threshold: number;
  private: boolean;
};

export type RevisionInfo = {
  id: string;
  author: string;
  description: string;
  base: string;
  oid: string;
  timestamp: number;
};

export type PatchInfo = {
  id: string;
  title: string;
  author: string;
  state: PatchState;
  labels: string[];
  assignees: string[];
  revisions: RevisionInfo[];
  latest: RevisionInfo;
};

export interface StoragePort {
  listRepositories(): Promise<string[]>;
  identity(rid: string): Promise<IdentityInfo>;
  resolveRef(rid: string, ref: string): Promise<string | null>;
  listRefs(rid: string): Promise<Map<string, string>>;
  peelToCommit(rid: string, oid: string): Promise<string | null>;
  commitsBetween(rid: string, tip: string, old: string | null, limit?: number): Promise<string[]>;
  hasFile(rid: string, commit: string, path: string): Promise<boolean>;
  sigrefs(rid: string, sigrefsCommit: string): Promise<{ refs: Map<string, string>; parent: string | null }>;
  patch(rid: string, patchId: string): Promise<PatchInfo | null>;
}
