/**
 * Which nodes agree about a commit (issue 9; reference trust.md §3): each node's claim — a finished
 * run with the DSSE envelope of its `Finished` change — is checked with nothing but did:keys: the
 * envelope must be signed by the change's author, its Statement must be a Test Result about this
 * repository's commit, name that node and run, and say what the change says. Valid claims are
 * grouped by (adapter, configuration digest), each node's latest claim counts, and only trusted
 * nodes count toward the threshold: `verified` (≥ T trusted PASSED, no trusted FAILED), `disputed`
 * (trusted nodes differ), `failed` (trusted nodes only FAILED), `insufficient`. Artifact digests are
 * compared per file name with rebuilderd's classes GOOD / BAD / FAIL / UNKNOWN.
 */
import { didFromNid } from '../model/node-id.ts';
import { configurationKey, TestResultStatement } from '../model/test-result.ts';
import { INTOTO_PAYLOAD_TYPE, verifyEnvelope } from './dsse.ts';

export type Claim = {
  job: string;
  /** NID of the change's author. */
  node: string;
  uuid: string;
  log: string;
  reason: 'Succeeded' | 'Failed';
  finishedAt: number;
  attestation: Buffer | null;
};

export type Verdict = 'verified' | 'disputed' | 'failed' | 'insufficient';
export type ArtifactClass = 'GOOD' | 'BAD' | 'FAIL' | 'UNKNOWN';

export type NodeResult = {
  did: string;
  trusted: boolean;
  uuid: string;
  job: string;
  result: 'PASSED' | 'FAILED';
  startedOn: string | null;
  finishedOn: string | null;
  url: string;
  log: { uri: string | null; sha256: string } | null;
  artifacts: { name: string; sha256: string }[];
};

export type InvalidClaim = { did: string; uuid: string; why: string };

export type ArtifactAgreement = { name: string; class: ArtifactClass; digests: { sha256: string; nodes: string[] }[]; trustedNodes: number };

export type GroupAgreement = {
  /** What was run: the configuration descriptors' summary. */
  configuration: string;
  adapter: string;
  verdict: Verdict;
  threshold: number;
  trustedTotal: number;
  passed: string[];
  failed: string[];
  /** Untrusted nodes, by result. */
  otherPassed: string[];
  otherFailed: string[];
  nodes: NodeResult[];
  artifacts: ArtifactAgreement[];
};

export type Agreement = {
  rid: string;
  commit: string;
  verdict: Verdict;
  trusted: string[];
  threshold: number;
  groups: GroupAgreement[];
  invalid: InvalidClaim[];
  /** Claims without any attestation (results of nodes that do not sign them). */
  unattested: number;
  badSignatures: number;
  foreignChanges: number;
};

export type AgreementInput = {
  rid: string;
  commit: string;
  claims: readonly Claim[];
  /** did:keys (or NIDs) the viewer trusts. */
  trusted: readonly string[];
  threshold: number;
  badSignatures?: number;
  foreignChanges?: number;
};

const toDid = (s: string): string => (s.startsWith('did:key:') ? s : didFromNid(s));

type Checked = { ok: true; statement: TestResultStatement } | { ok: false; why: string };

/** Checks one claim's attestation against its author (the envelope's only acceptable signer). */
export function checkClaim(c: Claim, rid: string, commit: string): Checked {
  if (c.attestation === null) return { ok: false, why: 'no attestation' };
  const line = c.attestation.toString('utf8').split('\n').find((l) => l.trim() !== '');
  let json: unknown;
  try {
    json = JSON.parse(line ?? '');
  } catch {
    return { ok: false, why: 'the attestation is not JSON' };
  }
  const did = toDid(c.node);
  const v = verifyEnvelope(json, [did]);
  if (!v.ok) return { ok: false, why: `${v.why} (the change's author ${did})` };
  if (v.payloadType !== INTOTO_PAYLOAD_TYPE) return { ok: false, why: `payloadType ${v.payloadType}` };
  let payload: unknown;
  try {
    payload = JSON.parse(v.payload.toString('utf8'));
  } catch {
    return { ok: false, why: 'the statement is not JSON' };
  }
  const st = TestResultStatement.safeParse(payload);
  if (!st.success) return { ok: false, why: 'not an in-toto Test Result statement' };
  const s = st.data;
  if (!s.subject.some((d) => d.digest?.gitCommit === commit)) return { ok: false, why: `its subject is not commit ${commit}` };
  if (!s.subject.some((d) => d.uri === rid || d.name === rid)) return { ok: false, why: `its subject is not repository ${rid}` };
  if (s.predicate.radicle.node !== did) return { ok: false, why: `it names node ${s.predicate.radicle.node}, not its signer` };
  if (s.predicate.radicle.run !== undefined && s.predicate.radicle.run !== c.uuid) return { ok: false, why: `it is about run ${s.predicate.radicle.run}` };
  const expected = c.reason === 'Succeeded' ? 'PASSED' : 'FAILED';
  if (s.predicate.result !== expected) return { ok: false, why: `it says ${s.predicate.result} but the run ${c.reason}` };
  return { ok: true, statement: s };
}

function verdictOf(passed: number, failed: number, threshold: number): Verdict {
  if (failed > 0 && passed > 0) return 'disputed';
  if (failed > 0) return 'failed';
  return passed >= threshold ? 'verified' : 'insufficient';
}

function artifactsOf(nodes: readonly NodeResult[]): ArtifactAgreement[] {
  const trusted = nodes.filter((n) => n.trusted);
  const resultsDiffer = new Set(trusted.map((n) => n.result)).size > 1;
  const names = [...new Set(nodes.flatMap((n) => n.artifacts.map((a) => a.name)))].sort();
  return names.map((name) => {
    const byDigest = new Map<string, string[]>();
    for (const n of trusted) {
      const a = n.artifacts.find((x) => x.name === name);
      if (a !== undefined) byDigest.set(a.sha256, [...(byDigest.get(a.sha256) ?? []), n.did]);
    }
    const digests = [...byDigest].map(([sha256, ns]) => ({ sha256, nodes: ns })).sort((a, b) => b.nodes.length - a.nodes.length || (a.sha256 < b.sha256 ? -1 : 1));
    const cls: ArtifactClass = resultsDiffer ? 'FAIL' : digests.length === 0 ? 'UNKNOWN' : digests.length > 1 ? 'BAD' : 'GOOD';
    return { name, class: cls, digests, trustedNodes: trusted.length };
  });
}

export function evaluateAgreement(input: AgreementInput): Agreement {
  const trusted = [...new Set(input.trusted.map(toDid))];
  const trustedSet = new Set(trusted);
  const invalid: InvalidClaim[] = [];
  let unattested = 0;
  const latest = new Map<string, { key: string; adapter: string; node: NodeResult; at: number }>();
  for (const c of input.claims) {
    const did = toDid(c.node);
    const checked = checkClaim(c, input.rid, input.commit);
    if (!checked.ok) {
      if (c.attestation === null) unattested++;
      else invalid.push({ did, uuid: c.uuid, why: checked.why });
      continue;
    }
    const p = checked.statement.predicate;
    const adapterUri = p.configuration.find((d) => d.name === 'adapter')?.uri ?? '';
    const key = configurationKey(checked.statement);
    const node: NodeResult = {
      did,
      trusted: trustedSet.has(did),
      uuid: c.uuid,
      job: c.job,
      result: p.result === 'PASSED' ? 'PASSED' : 'FAILED',
      startedOn: p.radicle.startedOn ?? null,
      finishedOn: p.radicle.finishedOn ?? null,
      url: p.url ?? c.log,
      log: p.radicle.log ? { uri: p.radicle.log.uri ?? null, sha256: p.radicle.log.digest.sha256 } : null,
      artifacts: (p.radicle.artifacts ?? []).map((a) => ({ name: a.name, sha256: a.digest.sha256 })),
    };
    const slot = `${key}\0${did}`;
    const prev = latest.get(slot);
    if (prev === undefined || prev.at <= c.finishedAt) latest.set(slot, { key, adapter: decodeURIComponent(adapterUri.split('/').pop() ?? ''), node, at: c.finishedAt });
  }
  const groups = new Map<string, GroupAgreement>();
  for (const { key, adapter, node } of [...latest.values()].sort((a, b) => (a.node.did < b.node.did ? -1 : 1))) {
    let g = groups.get(key);
    if (g === undefined) {
      g = { configuration: key, adapter, verdict: 'insufficient', threshold: input.threshold, trustedTotal: trusted.length, passed: [], failed: [], otherPassed: [], otherFailed: [], nodes: [], artifacts: [] };
      groups.set(key, g);
    }
    g.nodes.push(node);
    const list = node.trusted ? (node.result === 'PASSED' ? g.passed : g.failed) : node.result === 'PASSED' ? g.otherPassed : g.otherFailed;
    list.push(node.did);
  }
  for (const g of groups.values()) {
    g.verdict = verdictOf(g.passed.length, g.failed.length, input.threshold);
    g.artifacts = artifactsOf(g.nodes);
  }
  const all = [...groups.values()].sort((a, b) => (a.configuration < b.configuration ? -1 : 1));
  const verdicts = new Set(all.map((g) => g.verdict));
  const verdict: Verdict = verdicts.has('disputed')
    ? 'disputed'
    : verdicts.has('failed')
      ? verdicts.has('verified') ? 'disputed' : 'failed'
      : verdicts.has('verified') ? 'verified' : 'insufficient';
  return {
    rid: input.rid,
    commit: input.commit,
    verdict,
    trusted,
    threshold: input.threshold,
    groups: all,
    invalid,
    unattested,
    badSignatures: input.badSignatures ?? 0,
    foreignChanges: input.foreignChanges ?? 0,
  };
}
