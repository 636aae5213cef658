/**
 * Every node's finished runs of a commit, read from the job COBs of every namespace in storage, with
 * what each claim rests on (issue 9): the author of the `Finished` change (its signature verified)
 * and the change's `embeds/attestation.intoto.jsonl`. A change counts only when its author's own
 * namespace holds it — a change signed by one key and published only in another node's namespace
 * is ignored and counted, as are changes whose signature does not verify. The repository's
 * delegates come along: they are the default trusted set. Envelopes are checked by the caller.
 */
import type { GitObject } from './git-batch.ts';
import { parseCommit, parseTree, trailerValues } from './git-object.ts';
import { parseSshSig, verifyChangeSignature } from './change-signature.ts';
import { parseIdentityDoc } from './identity.ts';
import { decodeJobAction, JOB_TYPE, type JobAction, type JobReason } from './job-action.ts';
import { nidFromPublicKey } from '../model/node-id.ts';

export const ATTESTATION_EMBED_NAME = 'attestation.intoto.jsonl';

/** One finished run, as its node's signed changes tell it. */
export type RunClaimRecord = {
  job: string;
  /** The NID that signed the Run and Finished changes. */
  node: string;
  uuid: string;
  log: string;
  reason: JobReason;
  /** Unix milliseconds of the Finished change. */
  finishedAt: number;
  finishedChange: string;
  /** The Finished change's attestation bundle, or null when it has none. */
  attestation: Buffer | null;
};

export type CommitClaims = {
  rid: string;
  commit: string;
  claims: RunClaimRecord[];
  /** Changes whose signature is missing or does not verify. */
  badSignatures: number;
  /** Validly signed changes that are not in their author's own namespace. */
  foreignChanges: number;
  delegates: string[];
};

type Read = (rev: string) => Promise<GitObject | null>;
type Loaded = { oid: string; author: string; parents: string[]; time: number; actions: JobAction[]; embed: Buffer | null };

const REF = new RegExp(`^refs/namespaces/([^/]+)/refs/cobs/${JOB_TYPE.replace(/\./g, '\\.')}/([0-9a-f]{40})$`);

async function load(read: Read, oid: string): Promise<Loaded | 'bad-signature' | null> {
  const obj = await read(oid);
  if (obj?.type !== 'commit') return null;
  const c = parseCommit(obj.content);
  const gpgsig = c.headers.get('gpgsig');
  let author: string;
  try {
    if (gpgsig === undefined) return 'bad-signature';
    const sig = parseSshSig(gpgsig);
    if (!verifyChangeSignature(sig, c.tree)) return 'bad-signature';
    author = nidFromPublicKey(sig.publicKey);
  } catch {
    return 'bad-signature';
  }
  const skip = new Set([...trailerValues(c.message, 'Rad-Resource'), ...trailerValues(c.message, 'Rad-Related')]);
  const tree = await read(c.tree);
  if (tree?.type !== 'tree') return null;
  const entries = parseTree(tree.content);
  const actions: JobAction[] = [];
  for (const e of entries.filter((x) => /^\d+$/.test(x.name)).sort((a, b) => Number(a.name) - Number(b.name))) {
    const blob = await read(e.oid);
    const a = blob?.type === 'blob' ? decodeJobAction(blob.content) : null;
    if (a === null) return null;
    actions.push(a);
  }
  let embed: Buffer | null = null;
  const embeds = entries.find((e) => e.name === 'embeds');
  const embedsTree = embeds ? await read(embeds.oid) : null;
  if (embedsTree?.type === 'tree') {
    const file = parseTree(embedsTree.content).find((e) => e.name === ATTESTATION_EMBED_NAME);
    const blob = file ? await read(file.oid) : null;
    if (blob?.type === 'blob') embed = blob.content;
  }
  return { oid, author, parents: c.parents.filter((p) => !skip.has(p)), time: c.committerTime * 1000, actions, embed };
}

/**
 * The claims about `commit` in the repository read through `read`, from its job refs (`refs` =
 * full ref name → tip).
 */
export async function commitClaims(read: Read, rid: string, commit: string, refs: ReadonlyMap<string, string>): Promise<CommitClaims> {
  const tipsByJob = new Map<string, Map<string, string>>();
  for (const [ref, tip] of refs) {
    const m = REF.exec(ref);
    if (!m?.[1] || !m[2]) continue;
    if (!tipsByJob.has(m[2])) tipsByJob.set(m[2], new Map());
    tipsByJob.get(m[2])?.set(m[1], tip);
  }
  const out: CommitClaims = { rid, commit, claims: [], badSignatures: 0, foreignChanges: 0, delegates: [] };
  const doc = await read('refs/rad/id:embeds/radicle.json');
  if (doc?.type === 'blob') {
    try {
      out.delegates = parseIdentityDoc(rid, doc.content).delegates;
    } catch {
      out.delegates = [];
    }
  }
  for (const [job, tips] of [...tipsByJob].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const root = await load(read, job);
    const first = root !== null && root !== 'bad-signature' ? root.actions[0] : undefined;
    if (first === undefined || !('Request' in first) || first.Request.oid !== commit) continue;
    // Which namespaces hold each change.
    const changes = new Map<string, Loaded>();
    const holders = new Map<string, Set<string>>();
    for (const [ns, tip] of tips) {
      const pending = [tip];
      const seen = new Set<string>();
      while (pending.length > 0) {
        const oid = pending.pop() as string;
        if (seen.has(oid)) continue;
        seen.add(oid);
        let c = changes.get(oid);
        if (c === undefined) {
          const l = await load(read, oid);
          if (l === 'bad-signature') {
            if (!holders.has(oid)) out.badSignatures++;
            holders.set(oid, new Set());
            continue;
          }
          if (l === null) continue;
          changes.set(oid, (c = l));
        }
        if (!holders.has(oid)) holders.set(oid, new Set());
        holders.get(oid)?.add(ns);
        if (oid !== job) pending.push(...c.parents);
      }
    }
    const ordered = [...changes.values()].sort((a, b) => a.time - b.time || (a.oid < b.oid ? -1 : 1));
    const runs = new Map<string, { log: string }>();
    for (const c of ordered) {
      if (!holders.get(c.oid)?.has(c.author)) {
        out.foreignChanges++;
        continue;
      }
      const finished = c.actions.filter((a) => 'Finished' in a);
      for (const a of c.actions) {
        if (c.oid === job && a === first) continue;
        if ('Run' in a) {
          const key = `${c.author}/${a.Run.uuid}`;
          if (!runs.has(key)) runs.set(key, { log: a.Run.log });
        } else if ('Finished' in a) {
          const run = runs.get(`${c.author}/${a.Finished.uuid}`);
          if (run === undefined) continue;
          out.claims.push({
            job,
            node: c.author,
            uuid: a.Finished.uuid,
            log: run.log,
            reason: a.Finished.reason,
            finishedAt: c.time,
            finishedChange: c.oid,
            attestation: finished.length === 1 ? c.embed : null,
          });
        }
      }
    }
  }
  return out;
}
