/**
 * The reporter's window on the other nodes (issue 9): for a commit it shows, every namespace's job
 * COBs are read from the node's storage and evaluated with `evaluateAgreement` against the trusted
 * nodes (`trust.nodes`, else the repository's delegates). This node's own attestations come along,
 * so the run page can publish `runs/<id>.intoto.jsonl` from what was really signed into storage. Each
 * commit's result is cached for a short time: a full regeneration writes many pages of one commit.
 * So is each repository's list of refs: listing them starts a git process, and a burst of runs of
 * one repository (each on its own commit) would otherwise start one per run page.
 */
import type { Logger } from 'pino';
import { didFromNid, nidFromPublicKey } from '../model/node-id.ts';
import { evaluateAgreement } from '../signing/agreement.ts';
import { readNodePublicKey } from '../signing/node-signer.ts';
import { JobStore, JobTargetMissing } from '../storage/job-store.ts';
import { coerceError } from '../util/coerce-error.ts';
import type { CommitAgreement } from './pages/report-info.ts';

/** How long a repository's list of refs is reused: new job COBs show within this time. */
const REFS_TTL_MS = 2_000;

export type AgreementReaderOptions = {
  radHome: string;
  /** did:keys whose results count; null: the repository's delegates. */
  trustNodes: readonly string[] | null;
  threshold: number;
  /** Names (aliases) of nodes by did:key, for the pages. */
  names?: ReadonlyMap<string, string>;
  log: Logger;
  /** How long a commit's agreement is reused (default 10 s). */
  ttlMs?: number;
  now?: () => number;
};

export class AgreementReader {
  readonly #opts: AgreementReaderOptions;
  readonly #store: JobStore;
  readonly #log: Logger;
  readonly #cache = new Map<string, { at: number; value: Promise<CommitAgreement | null> }>();
  readonly #refs = new Map<string, { at: number; value: Promise<Map<string, string>> }>();
  #self: Promise<string | null> | null = null;

  constructor(opts: AgreementReaderOptions) {
    this.#opts = opts;
    this.#log = opts.log.child({ component: 'agreement' });
    this.#store = new JobStore({ radHome: opts.radHome, signer: null, log: this.#log });
  }

  /** This node's NID (from its public key), or null without a readable key. */
  #selfNid(): Promise<string | null> {
    this.#self ??= readNodePublicKey(this.#opts.radHome).then((k) => (k === null ? null : nidFromPublicKey(k)));
    return this.#self;
  }

  /** What the nodes say about `commit`, or null when the repository or commit is not in storage. */
  forCommit(rid: string, commit: string): Promise<CommitAgreement | null> {
    const now = (this.#opts.now ?? Date.now)();
    const ttl = this.#opts.ttlMs ?? 10_000;
    const key = `${rid}\0${commit}`;
    const hit = this.#cache.get(key);
    if (hit !== undefined && now - hit.at < ttl) return hit.value;
    for (const [k, v] of this.#cache) if (now - v.at >= ttl) this.#cache.delete(k);
    for (const [k, v] of this.#refs) if (now - v.at >= Math.min(ttl, REFS_TTL_MS)) this.#refs.delete(k);
    const value = this.#read(rid, commit, now);
    this.#cache.set(key, { at: now, value });
    return value;
  }

  /** The repository's refs, listed at most once per REFS_TTL_MS (a failed listing is not kept). */
  #refsOf(rid: string, now: number): Promise<Map<string, string>> {
    const hit = this.#refs.get(rid);
    if (hit !== undefined) return hit.value;
    const value = this.#store.namespaceRefs(rid);
    this.#refs.set(rid, { at: now, value });
    value.catch(() => this.#refs.delete(rid));
    return value;
  }

  async #read(rid: string, commit: string, now: number): Promise<CommitAgreement | null> {
    try {
      const claims = await this.#store.claimsFor(rid, commit, (r) => this.#refsOf(r, now));
      const self = await this.#selfNid();
      const agreement = evaluateAgreement({
        rid,
        commit: claims.commit,
        claims: claims.claims,
        trusted: this.#opts.trustNodes ?? claims.delegates,
        threshold: this.#opts.threshold,
        badSignatures: claims.badSignatures,
        foreignChanges: claims.foreignChanges,
      });
      const envelopes = new Map<string, string>();
      for (const c of claims.claims) {
        if (self !== null && c.node === self && c.attestation !== null) envelopes.set(c.uuid, c.attestation.toString('utf8'));
      }
      return { agreement, self: self === null ? null : didFromNid(self), names: this.#opts.names ?? new Map(), envelopes };
    } catch (e) {
      if (!(e instanceof JobTargetMissing)) this.#log.warn({ err: coerceError(e), rid, commit }, 'cannot read the job COBs of a commit');
      return null;
    }
  }

  async close(): Promise<void> {
    await this.#store.close();
  }
}
