/**
 * Evaluates a patch COB straight from git (reference radicle-node.md §4): load the change DAG
 * reachable from every namespace's tip, drop git parents that are `Rad-Related`/`Rad-Resource`
 * trailers, then apply changes in topological order (ties: committer time, then oid). A change
 * that is unsigned or badly signed, has unreadable actions or a rejected action is pruned with its
 * descendants; an unsigned or badly signed root means there is no patch.
 */
import { nidFromPublicKey } from '../model/node-id.ts';
import { parseSshSig, verifyChangeSignature } from './change-signature.ts';
import type { GitObject } from './git-batch.ts';
import { parseCommit, parseTree, trailerValues } from './git-object.ts';
import { applyAction, createPatchState, type AuthCtx, type PatchEvalState } from './patch-actions.ts';
import { latestByAuthor, type PatchInfo, type RevisionInfo } from './patch-info.ts';

export type ReadObject = (rev: string) => Promise<GitObject | null>;

type Change = {
  id: string;
  /** COB parents (previous tips), not related/resource commits. */
  parents: string[];
  /** Bare NID, or null when the change cannot be authenticated. */
  author: string | null;
  timestamp: number;
  /** Parsed action blobs in numeric order, or null when unreadable. */
  actions: unknown[] | null;
};

const MAX_CHANGES = 10_000;

async function loadActions(read: ReadObject, tree: string): Promise<unknown[] | null> {
  const t = await read(tree);
  if (t?.type !== 'tree') return null;
  const entries = parseTree(t.content)
    .filter((e) => /^\d+$/.test(e.name))
    .sort((a, b) => Number(a.name) - Number(b.name));
  const blobs = await Promise.all(entries.map((e) => read(e.oid)));
  try {
    return blobs.map((b) => {
      if (b?.type !== 'blob') throw new Error('action is not a blob');
      return JSON.parse(b.content.toString('utf8')) as unknown;
    });
  } catch {
    return null;
  }
}

async function loadChange(read: ReadObject, oid: string, rootId: string): Promise<Change | null> {
  const obj = await read(oid);
  if (obj?.type !== 'commit') return null;
  const c = parseCommit(obj.content);
  const related = new Set([...trailerValues(c.message, 'Rad-Related'), ...trailerValues(c.message, 'Rad-Resource')]);
  // The author is the key that signed the change, never the git author e-mail (any peer can write
  // any e-mail). Real Radicle changes are always signed: an unsigned one is pruned.
  let author: string | null = null;
  const gpgsig = c.headers.get('gpgsig');
  if (gpgsig !== undefined) {
    try {
      const sig = parseSshSig(gpgsig);
      if (verifyChangeSignature(sig, c.tree)) author = nidFromPublicKey(sig.publicKey);
    } catch {
      author = null;
    }
  }
  return {
    id: oid,
    parents: oid === rootId ? [] : c.parents.filter((p) => !related.has(p)),
    author,
    timestamp: c.committerTime,
    actions: await loadActions(read, c.tree),
  };
}

async function loadDag(read: ReadObject, tips: readonly string[], rootId: string): Promise<Map<string, Change>> {
  const changes = new Map<string, Change>();
  let frontier = [...new Set(tips)];
  while (frontier.length > 0 && changes.size < MAX_CHANGES) {
    const loaded = await Promise.all(frontier.map((oid) => loadChange(read, oid, rootId)));
    const next = new Set<string>();
    for (const ch of loaded) {
      if (ch === null) continue;
      changes.set(ch.id, ch);
      for (const p of ch.parents) if (!changes.has(p)) next.add(p);
    }
    frontier = [...next].filter((oid) => !changes.has(oid));
  }
  return changes;
}

function earliest(ready: Change[]): Change {
  let best = ready[0] as Change;
  for (const c of ready) {
    if (c.timestamp < best.timestamp || (c.timestamp === best.timestamp && c.id < best.id)) best = c;
  }
  return best;
}

/** The evaluated patch, or null when the root change is missing or invalid. */
export async function evaluatePatchCob(
  read: ReadObject,
  opts: { patchId: string; tips: readonly string[]; auth: AuthCtx },
): Promise<PatchInfo | null> {
  const changes = await loadDag(read, opts.tips, opts.patchId);
  if (!changes.has(opts.patchId)) return null;
  const children = new Map<string, string[]>();
  const waiting = new Map<string, number>();
  const pruned = new Set<string>();
  for (const ch of changes.values()) {
    waiting.set(ch.id, ch.parents.length);
    for (const p of ch.parents) {
      if (!changes.has(p)) pruned.add(ch.id);
      children.set(p, [...(children.get(p) ?? []), ch.id]);
    }
  }
  let ready = [...changes.values()].filter((c) => c.parents.length === 0);
  let state: PatchEvalState | null = null;
  while (ready.length > 0) {
    const ch = earliest(ready);
    ready = ready.filter((c) => c !== ch);
    const bad = pruned.has(ch.id) || ch.author === null || ch.actions === null || ch.parents.some((p) => pruned.has(p));
    const ctx = { id: ch.id, author: ch.author ?? '', timestamp: ch.timestamp };
    if (ch.id === opts.patchId) {
      if (bad || ch.actions === null) return null;
      try {
        state = createPatchState(ctx, ch.actions, opts.auth);
      } catch {
        return null;
      }
    } else if (bad || state === null || ch.actions === null) {
      pruned.add(ch.id);
    } else {
      const draft: PatchEvalState = structuredClone(state);
      try {
        for (const action of ch.actions) applyAction(draft, ctx, action, opts.auth);
        state = draft;
      } catch {
        pruned.add(ch.id);
      }
    }
    for (const child of children.get(ch.id) ?? []) {
      const n = (waiting.get(child) ?? 0) - 1;
      waiting.set(child, n);
      if (n === 0) ready.push(changes.get(child) as Change);
    }
  }
  if (state === null) return null;
  const final: PatchEvalState = state;
  const revisions = final.timeline
    .map((id) => final.revisions.get(id))
    .filter((r): r is RevisionInfo => r !== undefined && r !== null);
  const latest = latestByAuthor(final.author, revisions);
  if (latest === null) return null;
  return {
    id: opts.patchId,
    title: final.title,
    author: final.author,
    state: final.state,
    labels: final.labels,
    assignees: final.assignees,
    revisions,
    latest,
  };
}
