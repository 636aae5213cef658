/**
 * This node's job COBs in the node's storage: finds the job for a (repository, commit) — this node's,
 * or one another node created and this node replicated (appended to, as radicle-job allows) — or
 * creates it, and appends `Run` and `Finished` for a run. Idempotent: the job is read back before
 * every write and an action already there is never written again, so a writer killed between
 * writing and acknowledging repeats nothing visible. Every write happens under the repository's
 * write lock, moves this node's COB ref by compare-and-swap (a lost race re-reads and retries), and
 * re-signs the namespace's sigrefs. A (repository, commit) → job id cache spares scanning every job.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Rid } from '../model/ci-event.ts';
import type { CobSigner } from './change-signature.ts';
import { GitBatch, type GitObject } from './git-batch.ts';
import { parseCommit, parseTree, tagTarget } from './git-object.ts';
import { GitPlumbing } from './git-plumbing.ts';
import { decodeJobAction, finishedAction, JOB_TYPE, requestAction, runAction, type JobAction, type JobReason } from './job-action.ts';
import { writeJobChange } from './job-change.ts';
import { evaluateJob, type JobState } from './job-cob.ts';
import { commitClaims, type CommitClaims } from './job-claims.ts';
import { signRefs } from './sigrefs-writer.ts';
import { withWriteLock } from './write-lock.ts';

/** The repository or the commit of a run is not in storage: nothing can be written for it. */
export class JobTargetMissing extends Error {
  override readonly name = 'JobTargetMissing';
  readonly what: 'repository' | 'commit';
  constructor(what: 'repository' | 'commit', message: string) {
    super(message);
    this.what = what;
  }
}

/**
 * What a run contributes to its job: started (with its log URL), and finished with a reason. `attest`
 * gives the `embeds/attestation.intoto.jsonl` of the Finished change; it learns the job id unless the
 * change creates the job (a root change cannot name its own id).
 */
export type RunStep = { uuid: string; log: string; finished: JobReason | null; attest?: (jobId: string | null) => Promise<Buffer> };

export const ATTESTATION_EMBED = 'attestation.intoto.jsonl';

export type PublishResult = { jobId: string; written: JobAction[]; sigrefs: string; created: boolean };

export type FoundJob = { id: string; state: JobState; tips: Map<string, string> };

export type JobStoreDeps = {
  radHome: string;
  /** Null for a read-only store (`cibq jobs`). */
  signer: CobSigner | null;
  log: Logger;
  /** Unix seconds (default: now). */
  now?: () => number;
  /** Test hook: runs after the COB ref moved and before the sigrefs are signed. */
  afterCobWrite?: () => Promise<void>;
};

const REF = new RegExp(`^refs/namespaces/([^/]+)/refs/cobs/${JOB_TYPE.replace(/\./g, '\\.')}/([0-9a-f]{40})$`);
/** Jobs whose requested commit is remembered before the memo starts over. */
const REQUESTED_CACHE = 100_000;

export class JobStore {
  readonly #deps: JobStoreDeps;
  readonly #batches = new Map<string, GitBatch>();
  readonly #cache = new Map<string, string>();
  /** Job id → the commit it was requested for (see #requestedCommit). */
  readonly #requested = new Map<string, string>();

  constructor(deps: JobStoreDeps) {
    this.#deps = deps;
  }

  gitDir(rid: string): string {
    if (!Rid.safeParse(rid).success) throw new Error(`not a repository id: ${JSON.stringify(rid)}`);
    return join(this.#deps.radHome, 'storage', rid.slice('rad:'.length));
  }

  #batch(rid: string): GitBatch {
    let b = this.#batches.get(rid);
    if (b === undefined) {
      b = new GitBatch(this.gitDir(rid), this.#deps.log.child({ rid }));
      this.#batches.set(rid, b);
    }
    return b;
  }

  #read(rid: string): (rev: string) => Promise<GitObject | null> {
    const b = this.#batch(rid);
    return (rev) => b.read(rev);
  }

  /** The commit `oid` names (tags peeled); throws JobTargetMissing when the repository or commit is absent. */
  async peel(rid: string, oid: string): Promise<string> {
    if (!existsSync(this.gitDir(rid))) throw new JobTargetMissing('repository', `repository ${rid} is not in storage`);
    let rev = oid;
    for (let depth = 0; depth < 8; depth++) {
      const obj = await this.#batch(rid).read(rev);
      if (obj?.type === 'commit') return obj.oid;
      const target = obj?.type === 'tag' ? tagTarget(obj.content) : null;
      if (target === null) break;
      rev = target;
    }
    throw new JobTargetMissing('commit', `commit ${oid} is not in repository ${rid}`);
  }

  /** Every namespace's refs of the repository (one `git for-each-ref`): what `claimsFor` reads jobs from. */
  namespaceRefs(rid: string): Promise<Map<string, string>> {
    return new GitPlumbing(this.gitDir(rid)).refs('refs/namespaces/');
  }

  /**
   * Every node's finished runs of `commit` with their attestations (`cibq verify`, the agreement
   * view). `refsOf`: where to get the repository's `namespaceRefs`, when the caller keeps them a while.
   */
  async claimsFor(rid: string, commit: string, refsOf?: (rid: string) => Promise<Map<string, string>>): Promise<CommitClaims> {
    const peeled = await this.peel(rid, commit);
    const refs = await (refsOf ?? ((r: string) => this.namespaceRefs(r)))(rid);
    // Only the refs of jobs requested for this commit: the reporter asks this for every page it writes.
    const mine = new Map<string, string>();
    for (const [ref, tip] of refs) {
      const m = REF.exec(ref);
      if (m?.[2] !== undefined && (await this.#requestedCommit(rid, m[2])) === peeled) mine.set(ref, tip);
    }
    return commitClaims(this.#read(rid), rid, peeled, mine);
  }

  /** The blob at `path` in `commit`'s tree (e.g. `.radicle/native.yaml`), or null. */
  async blobAt(rid: string, commit: string, path: string): Promise<string | null> {
    if (!/^[0-9a-f]{40}$/.test(commit) || path.includes('\n')) return null;
    const obj = await this.#batch(rid).read(`${commit}:${path}`);
    return obj?.type === 'blob' ? obj.oid : null;
  }

  /** Every job COB in the repository: id → namespace → tip. */
  async #jobRefs(rid: string): Promise<Map<string, Map<string, string>>> {
    const git = new GitPlumbing(this.gitDir(rid));
    const out = new Map<string, Map<string, string>>();
    for (const [ref, oid] of await git.refs(`refs/namespaces/`)) {
      const m = REF.exec(ref);
      if (!m?.[1] || !m[2]) continue;
      let byNs = out.get(m[2]);
      if (byNs === undefined) out.set(m[2], (byNs = new Map()));
      byNs.set(m[1], oid);
    }
    return out;
  }

  /** The commit a job was requested for, from its root change alone (cheap pre-filter). */
  async #requestedCommit(rid: string, id: string): Promise<string | null> {
    // A job's id is its root change's oid: what it requested never changes, so it is remembered.
    const key = `${rid}\0${id}`;
    const known = this.#requested.get(key);
    if (known !== undefined) return known;
    const commit = await this.#readRequestedCommit(rid, id);
    if (commit !== null) {
      if (this.#requested.size >= REQUESTED_CACHE) this.#requested.clear();
      this.#requested.set(key, commit);
    }
    return commit;
  }

  async #readRequestedCommit(rid: string, id: string): Promise<string | null> {
    const read = this.#read(rid);
    const obj = await read(id);
    if (obj?.type !== 'commit') return null;
    const tree = await read(parseCommit(obj.content).tree);
    if (tree?.type !== 'tree') return null;
    const first = parseTree(tree.content).find((e) => e.name === '0');
    const blob = first ? await read(first.oid) : null;
    const action = blob?.type === 'blob' ? decodeJobAction(blob.content) : null;
    return action !== null && 'Request' in action ? action.Request.oid : null;
  }

  async #evaluate(rid: string, id: string, tips: Map<string, string>): Promise<JobState | null> {
    const read = this.#read(rid);
    return evaluateJob(read, id, [...tips.values()], async (oid) => (await read(oid))?.type === 'commit');
  }

  /** Every readable job for `commit`, sorted by id (what `GET /repos/{rid}/jobs/{sha}` lists). */
  async jobsFor(rid: string, commit: string): Promise<FoundJob[]> {
    const peeled = await this.peel(rid, commit);
    const found: FoundJob[] = [];
    for (const [id, tips] of [...(await this.#jobRefs(rid))].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if ((await this.#requestedCommit(rid, id)) !== peeled) continue;
      const state = await this.#evaluate(rid, id, tips);
      if (state?.oid === peeled) found.push({ id, state, tips });
    }
    return found;
  }

  /** This node's job for the commit if it has one, else the first other node's job, else null. */
  async #find(rid: string, commit: string, refs: Map<string, Map<string, string>>, me: string): Promise<FoundJob | null> {
    const key = `${rid}\0${commit}`;
    const cached = this.#cache.get(key);
    const cachedTips = cached === undefined ? undefined : refs.get(cached);
    if (cached !== undefined && cachedTips !== undefined) {
      const state = await this.#evaluate(rid, cached, cachedTips);
      if (state?.oid === commit) return { id: cached, state, tips: cachedTips };
    }
    this.#cache.delete(key);
    let other: FoundJob | null = null;
    for (const [id, tips] of [...refs].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if ((await this.#requestedCommit(rid, id)) !== commit) continue;
      const state = await this.#evaluate(rid, id, tips);
      if (state?.oid !== commit) continue;
      const job = { id, state, tips };
      if (tips.has(me)) {
        this.#cache.set(key, id);
        return job;
      }
      other ??= job;
    }
    if (other !== null) this.#cache.set(key, other.id);
    return other;
  }

  /**
   * Records `step` of a run of `commit` (a tag is peeled) in its job: the missing ones of `Run` and
   * `Finished`, nothing when both are there. Throws JobTargetMissing for a missing repository or commit.
   */
  async publish(rid: string, commit: string, step: RunStep): Promise<PublishResult> {
    const signer = this.#deps.signer;
    if (signer === null) throw new Error('this job store cannot write: it has no signer');
    const peeled = await this.peel(rid, commit);
    const gitDir = this.gitDir(rid);
    const git = new GitPlumbing(gitDir);
    const me = signer.nid;
    return withWriteLock(gitDir, async () => {
      for (let attempt = 1; attempt <= 10; attempt++) {
        const resource = await git.revParse('refs/rad/id');
        if (resource === null) throw new JobTargetMissing('repository', `repository ${rid} has no refs/rad/id`);
        const refs = await this.#jobRefs(rid);
        const job = await this.#find(rid, peeled, refs, me);
        const mineNow = job?.state.runs.get(me)?.get(step.uuid);
        const actions: JobAction[] = [];
        if (mineNow === undefined) actions.push(runAction(step.uuid, step.log));
        if (step.finished !== null && (mineNow === undefined || mineNow.status === 'Started')) actions.push(finishedAction(step.uuid, step.finished));
        const time = this.#deps.now?.() ?? Math.floor(Date.now() / 1000);
        let jobId: string;
        let created = false;
        const finishing = actions.some((a) => 'Finished' in a);
        const embedsFor = async (id: string | null) =>
          finishing && step.attest ? [{ name: ATTESTATION_EMBED, content: await step.attest(id) }] : [];
        if (job === null) {
          const root = await writeJobChange(git, signer, {
            tips: [],
            related: [peeled],
            resource,
            actions: [requestAction(peeled), ...actions],
            message: 'Create job',
            time,
            embeds: await embedsFor(null),
          });
          if (!(await git.compareAndSwap(`refs/namespaces/${me}/refs/cobs/${JOB_TYPE}/${root}`, root, null, 'cibq: create job'))) continue;
          this.#cache.set(`${rid}\0${peeled}`, root);
          jobId = root;
          created = true;
          actions.unshift(requestAction(peeled));
        } else {
          jobId = job.id;
          if (actions.length > 0) {
            // The COB's heads: a namespace's tip that another tip already contains is not a parent.
            const tips = await git.independent([...job.tips.values()]);
            const change = await writeJobChange(git, signer, {
              tips,
              related: [],
              resource,
              actions,
              message: step.finished !== null && mineNow !== undefined ? 'Finish run' : 'Start run',
              time,
              embeds: await embedsFor(job.id),
            });
            const ref = `refs/namespaces/${me}/refs/cobs/${JOB_TYPE}/${jobId}`;
            if (!(await git.compareAndSwap(ref, change, job.tips.get(me) ?? null, 'cibq: update job'))) continue;
          }
        }
        await this.#deps.afterCobWrite?.();
        // Also when nothing was written: a crash after the COB write left the sigrefs behind.
        const signed = await signRefs({ git, signer, ...(this.#deps.now ? { now: this.#deps.now } : {}) });
        return { jobId, written: actions, sigrefs: signed.at, created };
      }
      throw new Error(`could not write the job for ${peeled} in ${rid}: its refs kept moving`);
    });
  }

  async close(): Promise<void> {
    const batches = [...this.#batches.values()];
    this.#batches.clear();
    await Promise.all(batches.map((b) => b.close()));
  }
}
