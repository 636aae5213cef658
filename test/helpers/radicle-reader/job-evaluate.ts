/**
 * The state of one `xyz.radworks.job` COB exactly as Radicle computes it, from already-decoded changes.
 *
 * Graph and order (heartwood `radicle-cob` `change_graph.rs` `evaluate`, `radicle-dag` `prune_by`):
 * - the graph holds the changes that loaded; an edge exists only when both ends loaded;
 * - the root (object id) must be present with a valid signature, and `Job::from_root` must succeed:
 *   every root action decodes, the first is `Request{oid}`, and `oid` is a commit in storage; otherwise the
 *   whole job is invisible (skipped by `list`, so by httpd, desktop and `rad job`);
 * - then a depth-first walk from the root's children in ascending OID order; each node's dependents are
 *   visited in `(timestamp, oid)` order and the result is built front-first (reverse post-order);
 * - a change with an invalid signature or an undecodable action is removed with all its descendants.
 * State (radicle-job 0.6 `Job::action`): `Run` inserts `{status: Started, log, timestamp}` under the op
 * author unless that uuid exists; `Finished` sets `{Finished: reason}` and the timestamp on an existing run
 * of the same author, else is ignored; later `Request`s are ignored. Timestamps are the committer time in ms.
 */
import type { DecodedChange } from './cob-change.ts';
import type { JobAction, Reason } from './job-action.ts';

export type RunStatus = 'Started' | { readonly Finished: Reason };

export interface RunState {
  readonly status: RunStatus;
  readonly log: string;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
}

/** radicle-job's serialized `Job`: runs keyed by node id (bare NID), then by run uuid in insertion order. */
export interface JobState {
  readonly oid: string;
  readonly runs: Readonly<Record<string, Readonly<Record<string, RunState>>>>;
}

export interface JobEvaluation {
  /** `null` when Radicle shows no job at all. */
  readonly state: JobState | null;
  readonly invisibleReason: string | null;
  /** Changes applied, in application order (root first). */
  readonly applied: readonly string[];
  /** Changes dropped by evaluation (invalid signature, undecodable action) and their descendants. */
  readonly pruned: readonly string[];
}

interface Node {
  readonly change: DecodedChange;
  readonly dependents: Set<string>;
}

function buildGraph(changes: ReadonlyMap<string, DecodedChange>): Map<string, Node> {
  const graph = new Map<string, Node>();
  for (const c of changes.values()) if (c.loadable) graph.set(c.oid, { change: c, dependents: new Set() });
  for (const node of graph.values()) {
    for (const p of node.change.parents) graph.get(p)?.dependents.add(node.change.oid);
  }
  return graph;
}

function chronological(a: DecodedChange, b: DecodedChange): number {
  return a.timestamp - b.timestamp || (a.oid < b.oid ? -1 : a.oid > b.oid ? 1 : 0);
}

/** `Dag::prune_by`'s visiting order from the given starting keys. */
function pruneOrder(graph: Map<string, Node>, starts: readonly string[]): string[] {
  const visited = new Set<string>();
  const result: string[] = [];
  const visit = (key: string): void => {
    if (visited.has(key)) return;
    visited.add(key);
    const node = graph.get(key);
    if (node !== undefined) {
      const deps = [...node.dependents].map((k) => graph.get(k)).filter((n): n is Node => n !== undefined);
      deps.sort((x, y) => chronological(x.change, y.change));
      for (const d of deps.reverse()) visit(d.change.oid);
    }
    result.unshift(key);
  };
  for (const s of starts) visit(s);
  return result;
}

function removeWithDescendants(graph: Map<string, Node>, key: string, removed: string[]): void {
  const node = graph.get(key);
  if (node === undefined) return;
  graph.delete(key);
  removed.push(key);
  for (const d of node.dependents) removeWithDescendants(graph, d, removed);
}

export function evaluateJob(
  changes: ReadonlyMap<string, DecodedChange>,
  rootId: string,
  commitExists: (oid: string) => boolean,
): JobEvaluation {
  const invisible = (reason: string): JobEvaluation => ({ state: null, invisibleReason: reason, applied: [], pruned: [] });
  const graph = buildGraph(changes);
  // ChangeGraph::load: a graph with no parentless change has no root, so the object is not found.
  if (![...graph.values()].some((n) => n.change.parents.length === 0)) return invisible('no change without COB parents');
  const root = graph.get(rootId);
  if (root === undefined) return invisible(`root change ${rootId} is missing or failed to load`);
  if (!root.change.signatureValid) return invisible('root change signature is invalid');
  if (!root.change.decodable) return invisible('a root action does not decode');
  const [first, ...rest] = root.change.actions;
  if (first?.type !== 'Request') return invisible('the root op does not begin with Request');
  if (!commitExists(first.oid)) return invisible(`the requested commit ${first.oid} is not in storage`);

  const runs = new Map<string, Map<string, RunState>>();
  const apply = (change: DecodedChange, actions: readonly (JobAction | null)[]): void => {
    const author = change.signer?.nid ?? '';
    const timestamp = change.timestamp * 1000;
    for (const a of actions) {
      if (a === null || a.type === 'Request') continue;
      if (a.type === 'Run') {
        const mine = runs.get(author) ?? new Map<string, RunState>();
        runs.set(author, mine);
        if (!mine.has(a.uuid)) mine.set(a.uuid, { status: 'Started', log: a.log, timestamp });
      } else {
        const run = runs.get(author)?.get(a.uuid);
        if (run !== undefined) runs.get(author)?.set(a.uuid, { ...run, status: { Finished: a.reason }, timestamp });
      }
    }
  };
  apply(root.change, rest);

  const applied = [rootId];
  const pruned: string[] = [];
  const children = [...root.dependents].sort();
  for (const key of pruneOrder(graph, children)) {
    const node = graph.get(key);
    if (node === undefined) continue;
    if (!node.change.signatureValid || !node.change.decodable) {
      removeWithDescendants(graph, key, pruned);
      continue;
    }
    apply(node.change, node.change.actions);
    applied.push(key);
  }
  const state: JobState = {
    oid: first.oid,
    runs: Object.fromEntries([...runs].map(([nid, m]) => [nid, Object.fromEntries(m)])),
  };
  return { state, invisibleReason: null, applied, pruned };
}
