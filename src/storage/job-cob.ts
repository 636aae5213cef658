/**
 * Evaluates a job COB from its tips in every namespace, as radicle-job 0.6 over radicle-cob does
 * (reference trust.md §1.1–1.2): load the change DAG (git parents minus `Rad-Related`/`Rad-Resource`
 * ones), drop changes that are unsigned, badly signed, of another type or undecodable (with their
 * descendants), apply the root's `Request` and then every action in topological order:
 * `runs[signer][uuid]`, a duplicate `Run` ignored, a `Finished` for an unknown run ignored,
 * timestamps in milliseconds. The publisher uses it to read a job back before appending; `cibq jobs`
 * to show every node's runs. (The tests check the written bytes with an independent reader.)
 */
import type { GitObject } from './git-batch.ts';
import { parseCommit, parseTree, trailerValues } from './git-object.ts';
import { parseSshSig, verifyChangeSignature } from './change-signature.ts';
import { decodeJobAction, JOB_TYPE, type JobAction, type JobReason } from './job-action.ts';
import { nidFromPublicKey } from '../model/node-id.ts';

export type JobRunStatus = 'Started' | { Finished: JobReason };
export type JobRun = { status: JobRunStatus; log: string; timestamp: number };
/** radicle-job's `Job`: `{oid, runs: {nid: {uuid: run}}}` (runs in insertion order). */
export type JobState = { oid: string; runs: Map<string, Map<string, JobRun>> };

type Change = { id: string; parents: string[]; author: string; timestamp: number; actions: JobAction[] };

type Read = (rev: string) => Promise<GitObject | null>;

async function loadChange(read: Read, id: string): Promise<Change | null> {
  const obj = await read(id);
  if (obj?.type !== 'commit') return null;
  const c = parseCommit(obj.content);
  const gpgsig = c.headers.get('gpgsig');
  if (gpgsig === undefined) return null;
  let author: string;
  try {
    const sig = parseSshSig(gpgsig);
    if (!verifyChangeSignature(sig, c.tree)) return null;
    author = nidFromPublicKey(sig.publicKey);
  } catch {
    return null;
  }
  const resources = trailerValues(c.message, 'Rad-Resource');
  if (resources.length > 1) return null;
  const skip = new Set([...resources, ...trailerValues(c.message, 'Rad-Related')]);
  const tree = await read(c.tree);
  if (tree?.type !== 'tree') return null;
  const entries = parseTree(tree.content);
  const manifest = entries.find((e) => e.name === 'manifest');
  const manifestBlob = manifest ? await read(manifest.oid) : null;
  try {
    const m = JSON.parse(manifestBlob?.content.toString('utf8') ?? 'null') as { typeName?: unknown; typename?: unknown } | null;
    if ((m?.typeName ?? m?.typename) !== JOB_TYPE) return null;
  } catch {
    return null;
  }
  const numbered = entries
    .filter((e) => e.mode === '100644' && /^-?\d+$/.test(e.name) && Number(e.name) >= -128 && Number(e.name) <= 127)
    .sort((a, b) => Number(a.name) - Number(b.name));
  if (numbered.length === 0) return null;
  const actions: JobAction[] = [];
  for (const e of numbered) {
    const blob = await read(e.oid);
    const action = blob?.type === 'blob' ? decodeJobAction(blob.content) : null;
    if (action === null) return null;
    actions.push(action);
  }
  return { id, parents: c.parents.filter((p) => !skip.has(p)), author, timestamp: c.committerTime * 1000, actions };
}

function apply(state: JobState, author: string, timestamp: number, action: JobAction): void {
  if ('Run' in action) {
    let runs = state.runs.get(author);
    if (runs === undefined) state.runs.set(author, (runs = new Map()));
    if (!runs.has(action.Run.uuid)) runs.set(action.Run.uuid, { status: 'Started', log: action.Run.log, timestamp });
  } else if ('Finished' in action) {
    const run = state.runs.get(author)?.get(action.Finished.uuid);
    if (run !== undefined) {
      run.status = { Finished: action.Finished.reason };
      run.timestamp = timestamp;
    }
  }
}

/**
 * The state of job `id` from `tips`; null when the root is missing or invalid (readers would not
 * show the job). `commitExists` says whether the requested commit is in the repository.
 */
export async function evaluateJob(read: Read, id: string, tips: readonly string[], commitExists: (oid: string) => Promise<boolean>): Promise<JobState | null> {
  const changes = new Map<string, Change | null>();
  const pending = [...new Set(tips)];
  while (pending.length > 0) {
    const oid = pending.pop() as string;
    if (changes.has(oid)) continue;
    const change = await loadChange(read, oid);
    changes.set(oid, change);
    if (change !== null && oid !== id) for (const p of change.parents) if (!changes.has(p)) pending.push(p);
  }
  const root = changes.get(id);
  const first = root?.actions[0];
  if (!root || root.parents.length > 0 || first === undefined || !('Request' in first)) return null;
  if (!(await commitExists(first.Request.oid))) return null;
  // A change is valid when it and all its ancestors up to the root are valid.
  const valid = new Map<string, boolean>();
  const isValid = (oid: string, seen = new Set<string>()): boolean => {
    const known = valid.get(oid);
    if (known !== undefined) return known;
    const c = changes.get(oid);
    let ok = c !== null && c !== undefined && !seen.has(oid);
    if (ok && c && oid !== id) {
      seen.add(oid);
      ok = c.parents.length > 0 && c.parents.every((p) => isValid(p, seen));
    }
    valid.set(oid, ok);
    return ok;
  };
  const ordered = [...changes.keys()].filter((oid) => isValid(oid)).map((oid) => changes.get(oid) as Change);
  // Kahn's algorithm; among ready changes the smaller (timestamp, oid) goes first.
  const children = new Map<string, string[]>();
  const waiting = new Map<string, number>();
  for (const c of ordered) {
    waiting.set(c.id, c.id === id ? 0 : c.parents.length);
    for (const p of c.id === id ? [] : c.parents) children.set(p, [...(children.get(p) ?? []), c.id]);
  }
  const state: JobState = { oid: first.Request.oid, runs: new Map() };
  const ready = [root];
  while (ready.length > 0) {
    ready.sort((a, b) => a.timestamp - b.timestamp || (a.id < b.id ? -1 : 1));
    const c = ready.shift() as Change;
    c.actions.forEach((a, i) => {
      if (!(c.id === id && i === 0)) apply(state, c.author, c.timestamp, a);
    });
    for (const k of children.get(c.id) ?? []) {
      const n = (waiting.get(k) ?? 0) - 1;
      waiting.set(k, n);
      if (n === 0) ready.push(changes.get(k) as Change);
    }
  }
  return state;
}

/** The state as radicle-job serializes it (`{"oid","runs":{nid:{uuid:{status,log,timestamp}}}}`). */
export function jobStateJson(state: JobState): { oid: string; runs: Record<string, Record<string, JobRun>> } {
  const runs: Record<string, Record<string, JobRun>> = {};
  for (const [nid, byUuid] of [...state.runs].sort(([a], [b]) => (a < b ? -1 : 1))) runs[nid] = Object.fromEntries(byUuid);
  return { oid: state.oid, runs };
}
