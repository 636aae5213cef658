/**
 * CI event + storage → the adapter's trigger message (seed 002 §4.1/§4.2; reference cib.md §4.2),
 * exactly in the seed's shape and key order. Ids are did:key DIDs; `branch` is the full ref name;
 * `before` is the previous tip (the tip itself for a new ref); commits are newest first.
 */
import type { CiEvent } from '../model/ci-event.ts';
import { Did, type PatchTrigger, type PushTrigger, type RepositoryInfo, type TriggerMessage } from '../model/trigger-message.ts';
import type { IdentityInfo, PatchInfo, StoragePort } from './storage-port.ts';

const did = (nid: string) => (nid.startsWith('did:key:') ? nid : `did:key:${nid}`);

/** The DID of a NID (or DID) when it is one the adapter protocol accepts, else null. */
function validDid(nid: string | null | undefined): string | null {
  if (nid === null || nid === undefined || nid === '') return null;
  const d = did(nid);
  return Did.safeParse(d).success ? d : null;
}

export function repositoryInfo(id: IdentityInfo): RepositoryInfo {
  return {
    id: id.rid,
    name: id.name,
    description: id.description,
    private: id.private,
    default_branch: id.defaultBranch,
    delegates: id.delegates.map(did),
  };
}

/** `missing`: an object the event names is not (yet) in storage, so a later attempt may succeed. */
export type BuildError = { error: string; missing?: boolean };

export async function buildPushTrigger(
  storage: StoragePort,
  identity: IdentityInfo,
  e: CiEvent,
  /** The commit of `e.tip` when the caller already asked storage for it. */
  peeled: Promise<string | null> = storage.peelToCommit(e.repo, e.tip),
): Promise<PushTrigger | BuildError> {
  const after = await peeled;
  if (after === null) return { error: `commit ${e.tip} of ${e.ref} is not in storage`, missing: true };
  const before = e.oldTip === null ? after : ((await storage.peelToCommit(e.repo, e.oldTip)) ?? e.oldTip);
  // A new ref: the commit itself (what commitsBetween gives without an old tip), without reading it again.
  const commits = e.oldTip === null ? [after] : await storage.commitsBetween(e.repo, after, before);
  // The worker rejects a message with an invalid DID, so never send one: the namespace, else the
  // node it came from, else the first delegate; with none of them valid the event is skipped.
  const pusher = validDid(e.author) ?? validDid(e.fromNode) ?? validDid(identity.delegates[0]);
  if (pusher === null) return { error: `no valid pusher for ${e.ref}: no author, source node or delegate with a did:key` };
  return {
    request: 'trigger',
    version: 1,
    event_type: 'push',
    repository: repositoryInfo(identity),
    pusher: { id: pusher, alias: null },
    before,
    after,
    branch: e.ref,
    commits: commits.length > 0 ? commits : [after],
  };
}

export async function buildPatchTrigger(
  storage: StoragePort,
  identity: IdentityInfo,
  e: CiEvent,
  patch: PatchInfo,
): Promise<PatchTrigger | BuildError> {
  const latest = patch.latest;
  const author = validDid(patch.author);
  if (author === null) return { error: `patch ${patch.id} has no valid author id` };
  if (patch.revisions.some((r) => validDid(r.author) === null)) return { error: `patch ${patch.id} has a revision without a valid author id` };
  const commits = await storage.commitsBetween(e.repo, latest.oid, latest.base);
  const target = (await storage.resolveRef(e.repo, `refs/heads/${identity.defaultBranch}`)) ?? latest.base;
  return {
    request: 'trigger',
    version: 1,
    event_type: 'patch',
    repository: repositoryInfo(identity),
    action: latest.id === patch.id ? 'Created' : 'Updated',
    patch: {
      id: patch.id,
      author: { id: author, alias: null },
      title: patch.title,
      state: patch.state,
      before: latest.base,
      after: latest.oid,
      commits: commits.length > 0 ? commits : [latest.oid],
      target,
      labels: patch.labels,
      assignees: patch.assignees.map(validDid).filter((d) => d !== null),
      revisions: patch.revisions.map((r) => ({
        id: r.id,
        author: { id: did(r.author), alias: null },
        description: r.description,
        base: r.base,
        oid: r.oid,
        timestamp: r.timestamp,
      })),
    },
  };
}

export function isBuildError(x: TriggerMessage | BuildError): x is BuildError {
  return 'error' in x;
}
