/**
 * Why a CI event would (not) start runs, for `cibq event filter`: the producer's own adapter
 * selection (global `filters` → default_adapter, each trigger → its adapter) evaluated against
 * real storage (default branch, delegates, files at the commit), with every filter's decision.
 */
import { filterContext } from '../producer/dispatch.ts';
import { selectAdapters, type Selection } from '../producer/select-adapters.ts';
import type { StoragePort } from '../producer/storage-port.ts';
import { isDeletion, type CiEvent } from '../model/ci-event.ts';
import type { Config } from '../config/config.ts';
import { coerceError } from '../util/coerce-error.ts';
import type { Decision } from '../config/filter-eval.ts';
import { printable } from './printable.ts';

export type Explanation = {
  event: CiEvent;
  /** Adapters whose filters allow the event. */
  allowed_by: string[];
  /** Adapters a run would be queued for (none for deletions or unusable events). */
  starts: string[];
  /** Why runs are not started although filters allow them, or why nothing was evaluated. */
  note: string | null;
  decisions: Selection['decisions'];
};

export async function explainEvent(
  config: Pick<Config, 'filters' | 'defaultAdapter' | 'triggers'>,
  storage: StoragePort,
  event: CiEvent,
): Promise<Explanation> {
  let identity;
  try {
    identity = await storage.identity(event.repo);
  } catch (e) {
    const note = `cannot read the repository's identity (${coerceError(e).message}): the producer would skip this event`;
    return { event, allowed_by: [], starts: [], note, decisions: [] };
  }
  const selection = await selectAdapters(config, event, filterContext(storage, identity, event));
  const deleted = isDeletion(event);
  let note: string | null = null;
  if (deleted) note = 'the ref was deleted: there is nothing to build, so no run starts';
  else if (selection.decisions.length === 0) note = 'no filters or triggers are configured';
  return {
    event,
    allowed_by: selection.adapters,
    starts: deleted ? [] : selection.adapters,
    note,
    decisions: selection.decisions,
  };
}

function mark(allowed: boolean): string {
  return allowed ? '✓' : '✗';
}

function tree(d: Decision, depth: number, out: string[]): void {
  out.push(`${'  '.repeat(depth)}${mark(d.allowed)} ${d.filter}`);
  for (const c of d.children ?? []) tree(c, depth + 1, out);
}

/** The event's one-line summary. */
export function eventLine(e: CiEvent): string {
  const what = e.patch !== null ? `patch ${e.patch}` : printable(e.name);
  return `${e.kind} ${what} in ${e.repo} at ${e.tip.slice(0, 12)} (${printable(e.ref)})`;
}

/** Human text: the event, the adapters it starts, and each filter list's decision tree. */
export function formatExplanation(x: Explanation, index: number): string {
  const out = [`#${index} ${eventLine(x.event)}`];
  out.push(`  starts: ${x.starts.length > 0 ? x.starts.join(', ') : 'no run'}`);
  if (x.note !== null) out.push(`  note: ${x.note}${x.allowed_by.length > 0 ? ` (filters allow: ${x.allowed_by.join(', ')})` : ''}`);
  for (const d of x.decisions) {
    out.push(`  ${mark(d.decision.allowed)} ${d.source} → ${d.adapter}: ${d.decision.allowed ? 'allowed' : 'not allowed'}`);
    const children = d.decision.children ?? [];
    if (children.length === 0) out.push('    (an empty filter list allows nothing)');
    for (const c of children) tree(c, 2, out);
  }
  return out.join('\n');
}
