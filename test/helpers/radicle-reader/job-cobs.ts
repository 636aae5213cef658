/**
 * Every `xyz.radworks.job` COB of a repository in a node's storage, read as Radicle reads it: the tips
 * are all `refs/namespaces/<nid>/refs/cobs/xyz.radworks.job/<id>` (`radicle-cob` `list`/`objects`), the
 * graph is loaded by walking parents from those tips (`ChangeGraph::load`), and each job is evaluated
 * (`job-evaluate.ts`). Each change is decoded and checked (`cob-change.ts`), the job-level rules are
 * checked here, and attestation embeds are verified against the change's signer (`job-attestations.ts`).
 */
import { join } from 'node:path';
import { decodeChange, type DecodedChange } from './cob-change.ts';
import { isAncestor, listRefs, objectType, OID_RE, preloadObjects, readObjects, resolveRef } from './git.ts';
import { checkAttestations, type AttestationCheck } from './job-attestations.ts';
import { evaluateJob, type JobState } from './job-evaluate.ts';
import { Violations, type Violation } from './violations.ts';

export const JOB_TYPE_NAME = 'xyz.radworks.job';

export interface JobTip {
  readonly namespace: string;
  readonly oid: string;
}

export interface JobReading {
  /** COB object id: the OID of the root change. */
  readonly id: string;
  readonly tips: readonly JobTip[];
  /** Every change reached from the tips, keyed by OID. */
  readonly changes: ReadonlyMap<string, DecodedChange>;
  /** Radicle's evaluated state, or `null` when Radicle shows no such job. */
  readonly state: JobState | null;
  readonly invisibleReason: string | null;
  readonly applied: readonly string[];
  readonly pruned: readonly string[];
  readonly attestations: readonly AttestationCheck[];
  /** Violations of this job and all its changes. */
  readonly violations: readonly Violation[];
}

export interface JobCobsReading {
  readonly rid: string;
  readonly gitDir: string;
  readonly jobs: readonly JobReading[];
  readonly violations: readonly Violation[];
}

/** The bare repository of `rid` (`rad:z…` or `z…`) under a node's storage directory. */
export function repoPath(storagePath: string, rid: string): string {
  return join(storagePath, rid.replace(/^rad:/, ''));
}

const REF_RE = /^refs\/namespaces\/([^/]+)\/refs\/cobs\/xyz\.radworks\.job\/(.+)$/;

/** Reads and checks every job COB of `rid` in `storagePath` (`$RAD_HOME/storage`). */
export function readJobCobs(storagePath: string, rid: string): JobCobsReading {
  const gitDir = repoPath(storagePath, rid);
  preloadObjects(gitDir);
  const v = new Violations();
  const byId = new Map<string, JobTip[]>();
  for (const ref of listRefs(gitDir, 'refs/namespaces/')) {
    const m = REF_RE.exec(ref.name);
    if (m === null) continue;
    const [, namespace = '', id = ''] = m;
    if (!OID_RE.test(id)) {
      v.nonstandard('job-ref-name', `${ref.name} does not end in a COB object id`);
      continue;
    }
    byId.set(id, [...(byId.get(id) ?? []), { namespace, oid: ref.oid }]);
  }
  const cache = new Map<string, DecodedChange>();
  const jobs = [...byId].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, tips]) => readJob(gitDir, rid, id, tips, cache));
  return { rid, gitDir, jobs, violations: [...v.list, ...jobs.flatMap((j) => j.violations)] };
}

/** The jobs Radicle lists for `commit` (`Jobs::find_by_commit`), i.e. visible jobs whose oid matches. */
export function jobsForCommit(reading: JobCobsReading, commit: string): JobReading[] {
  return reading.jobs.filter((j) => j.state?.oid === commit);
}

function readJob(gitDir: string, rid: string, id: string, tips: JobTip[], cache: Map<string, DecodedChange>): JobReading {
  const v = new Violations({ job: id });
  const changes = new Map<string, DecodedChange>();
  const stack = tips.map((t) => t.oid);
  while (stack.length > 0) {
    readObjects(gitDir, stack); // batch-load this frontier's commits
    const oid = stack.pop() as string;
    if (changes.has(oid)) continue;
    const change = cache.get(oid) ?? decodeChange(gitDir, oid, { typeName: JOB_TYPE_NAME });
    cache.set(oid, change);
    changes.set(oid, change);
    // heartwood only learns a change's parents when it loads; an unloadable change ends the walk.
    if (change.loadable) stack.push(...change.parents);
  }
  for (const c of changes.values()) v.add(c.violations);

  const commitExists = (oid: string) => objectType(gitDir, oid) === 'commit';
  const evaluation = evaluateJob(changes, id, commitExists);
  if (evaluation.invisibleReason !== null) v.reject('job-invisible', evaluation.invisibleReason);
  for (const oid of evaluation.pruned) v.reject('change-pruned', `change ${oid} and its descendants are dropped`);
  checkJobShape(gitDir, id, tips, changes, evaluation.applied, evaluation.pruned, v);
  const attestations = checkAttestations(rid, changes, evaluation.applied, evaluation.state?.oid ?? null);
  for (const a of attestations) v.add(a.violations);
  return {
    id,
    tips,
    changes,
    state: evaluation.state,
    invisibleReason: evaluation.invisibleReason,
    applied: evaluation.applied,
    pruned: evaluation.pruned,
    attestations,
    violations: v.list,
  };
}

/** Job-level rules: the root's shape, the identity resource, tips, reachability, redundant parents. */
function checkJobShape(
  gitDir: string,
  id: string,
  tips: JobTip[],
  changes: ReadonlyMap<string, DecodedChange>,
  applied: readonly string[],
  pruned: readonly string[],
  v: Violations,
): void {
  const root = changes.get(id);
  const request = root?.actions[0];
  if (root !== undefined && request?.type === 'Request') {
    if (root.parents.length > 0) v.reject('root-has-parents', `root ${id} has COB parents ${root.parents.join(',')}; no graph root`);
    if (!root.related.includes(request.oid)) v.reject('root-related', `root lacks "Rad-Related: ${request.oid}"`);
    if (!root.gitParents.includes(request.oid)) v.nonstandard('root-commit-parent', `requested commit ${request.oid} is not a git parent`);
  }
  const identityHead = resolveRef(gitDir, 'refs/rad/id');
  const inIdentity = new Map<string, boolean>();
  const isIdentity = (oid: string, head: string): boolean => {
    if (!inIdentity.has(oid)) inIdentity.set(oid, isAncestor(gitDir, oid, head));
    return inIdentity.get(oid) === true;
  };
  for (const c of changes.values()) {
    const isRoot = c.oid === id;
    if (!isRoot && c.actions.some((a) => a?.type === 'Request')) v.nonstandard('late-request', `change ${c.oid} repeats Request (ignored)`);
    if (!isRoot && c.related.length > 0) v.nonstandard('related-on-update', `change ${c.oid} has Rad-Related; Run/Finished have none`);
    if (c.resource !== null && identityHead !== null && !isIdentity(c.resource, identityHead)) {
      v.nonstandard('resource-not-identity', `change ${c.oid} Rad-Resource ${c.resource} is not in refs/rad/id's history`);
    }
    if (c.loadable && !applied.includes(c.oid) && !pruned.includes(c.oid) && applied.length > 0) {
      v.nonstandard('change-unreachable', `change ${c.oid} is never reached from the root`);
    }
    const ancestors = (start: string): Set<string> => {
      const seen = new Set<string>();
      const todo = [start];
      while (todo.length > 0) {
        for (const p of changes.get(todo.pop() as string)?.parents ?? []) {
          if (!seen.has(p)) {
            seen.add(p);
            todo.push(p);
          }
        }
      }
      return seen;
    };
    for (const p of c.parents) {
      if (c.parents.some((q) => q !== p && ancestors(q).has(p))) v.nonstandard('redundant-parent', `change ${c.oid}: parent ${p} is not a tip`);
    }
  }
  for (const t of tips) {
    const signer = changes.get(t.oid)?.signer?.nid;
    if (signer !== undefined && signer !== t.namespace) {
      v.nonstandard('tip-signer-not-namespace', `namespace ${t.namespace} points at a change signed by ${signer}`);
    }
  }
}
