/**
 * Applying patch COB actions to an evaluation state (mirrors `Patch::from_root`, `Patch::op` and
 * `Patch::authorization` in heartwood's `cob/patch.rs`, reference radicle-node.md §4). Comments,
 * reviews and reactions do not affect what the broker needs and are ignored, as are unknown types.
 * Any thrown error means the change is rejected (and the caller prunes it with its descendants).
 */
import { z } from 'zod';
import { Oid } from '../model/ci-event.ts';
import type { PatchState } from '../model/trigger-message.ts';
import type { RevisionInfo } from './patch-info.ts';

export type PatchEvalState = {
  title: string;
  author: string;
  state: PatchState;
  labels: string[];
  assignees: string[];
  revisions: Map<string, RevisionInfo | null>;
  timeline: string[];
  merges: Map<string, { revision: string; commit: string }>;
};

/** One change (commit) of the COB, already authenticated. */
export type ChangeCtx = { id: string; author: string; timestamp: number };
export type AuthCtx = { delegates: ReadonlySet<string>; threshold: number };

const RevisionAction = z.looseObject({ type: z.literal('revision'), description: z.string(), base: Oid, oid: Oid });
const EditAction = z.looseObject({ type: z.literal('edit'), title: z.string() });
const LabelAction = z.looseObject({ type: z.literal('label'), labels: z.array(z.string()) });
const AssignAction = z.looseObject({ type: z.literal('assign'), assignees: z.array(z.string()) });
const LifecycleAction = z.looseObject({
  type: z.literal('lifecycle'),
  state: z.looseObject({ status: z.enum(['open', 'draft', 'archived']) }),
});
const MergeAction = z.looseObject({ type: z.literal('merge'), revision: Oid, commit: Oid });
const RevisionEditAction = z.looseObject({ type: z.literal('revision.edit'), revision: Oid, description: z.string() });
const RevisionRedactAction = z.looseObject({ type: z.literal('revision.redact'), revision: Oid });

/** The state after the root change: it must start with `revision` and then `edit`. */
export function createPatchState(change: ChangeCtx, actions: readonly unknown[], auth: AuthCtx): PatchEvalState {
  const first = RevisionAction.parse(actions[0]);
  const root: RevisionInfo = {
    id: change.id,
    author: change.author,
    description: first.description,
    base: first.base,
    oid: first.oid,
    timestamp: change.timestamp,
  };
  const state: PatchEvalState = {
    title: '',
    author: change.author,
    state: { status: 'open', conflicts: [] },
    labels: [],
    assignees: [],
    revisions: new Map([[change.id, root]]),
    timeline: [change.id],
    merges: new Map(),
  };
  for (const action of actions.slice(1)) applyAction(state, change, action, auth);
  return state;
}

/** Applies one action in place; throws when it is invalid or not authorized. */
export function applyAction(s: PatchEvalState, change: ChangeCtx, action: unknown, auth: AuthCtx): void {
  const type = (action as { type?: unknown } | null)?.type;
  const isDelegate = auth.delegates.has(change.author);
  const deny = (): never => {
    throw new Error(`${change.author} may not ${String(type)} in change ${change.id}`);
  };
  const revisionOf = (id: string): RevisionInfo => {
    const r = s.revisions.get(id);
    if (r === undefined || r === null) throw new Error(`unknown or redacted revision ${id}`);
    return r;
  };
  switch (type) {
    case 'revision': {
      const a = RevisionAction.parse(action);
      if (!s.revisions.has(change.id)) s.timeline.push(change.id);
      s.revisions.set(change.id, {
        id: change.id,
        author: change.author,
        description: a.description,
        base: a.base,
        oid: a.oid,
        timestamp: change.timestamp,
      });
      return;
    }
    case 'edit': {
      const a = EditAction.parse(action);
      if (!isDelegate && change.author !== s.author) deny();
      s.title = a.title;
      return;
    }
    case 'label':
      if (!isDelegate) deny();
      s.labels = [...new Set(LabelAction.parse(action).labels)].sort();
      return;
    case 'assign':
      if (!isDelegate) deny();
      s.assignees = [...new Set(AssignAction.parse(action).assignees)].sort();
      return;
    case 'lifecycle': {
      const a = LifecycleAction.parse(action);
      if (!isDelegate && change.author !== s.author) deny();
      if (s.state.status === 'merged') return;
      s.state = a.state.status === 'open' ? { status: 'open', conflicts: [] } : { status: a.state.status };
      return;
    }
    case 'merge': {
      const a = MergeAction.parse(action);
      if (!isDelegate) deny();
      revisionOf(a.revision);
      s.merges.set(change.author, { revision: a.revision, commit: a.commit });
      s.state = mergeState(s, auth.threshold);
      return;
    }
    case 'revision.edit': {
      const a = RevisionEditAction.parse(action);
      const r = revisionOf(a.revision);
      if (!isDelegate && change.author !== r.author) deny();
      r.description = a.description;
      return;
    }
    case 'revision.redact': {
      const a = RevisionRedactAction.parse(action);
      const r = revisionOf(a.revision);
      if (!isDelegate && change.author !== r.author) deny();
      if (a.revision === s.timeline[0]) throw new Error('the root revision cannot be redacted');
      if ([...s.merges.values()].some((m) => m.revision === a.revision)) throw new Error('revision is merged');
      s.revisions.set(a.revision, null);
      return;
    }
    default:
      return; // comments, reviews, reactions and unknown actions do not change what we report
  }
}

/** Merged when exactly one (revision, commit) pair has `threshold` merges; open with conflicts if several. */
function mergeState(s: PatchEvalState, threshold: number): PatchState {
  const votes = new Map<string, number>();
  for (const m of s.merges.values()) {
    const key = `${m.revision} ${m.commit}`;
    votes.set(key, (votes.get(key) ?? 0) + 1);
  }
  const reached = [...votes].filter(([, n]) => n >= threshold).map(([k]) => k.split(' ') as [string, string]);
  const [only] = reached;
  if (reached.length === 1 && only !== undefined) return { status: 'merged', revision: only[0], commit: only[1] };
  if (reached.length > 1) return { status: 'open', conflicts: reached.sort() };
  return s.state;
}
