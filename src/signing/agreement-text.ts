/**
 * How an agreement reads in one line (trust.md §3.2), shared by `cibq verify` and the reports:
 * `PASSED by 2/3 trusted · FAILED by 1/3 (ci-c) · 1 other node agrees`, the badge
 * `verified (t=2)` / `disputed` / `failed` / `insufficient (1 < t)`, and artifacts as
 * `mytool: reproduced by 3/3 trusted` or each digest with the nodes that produced it.
 */
import type { ArtifactAgreement, GroupAgreement, Verdict } from './agreement.ts';

/** A DID shortened for display (`did:key:z6Mkabc…wxyz`), unless `names` has a name for it. */
export function nodeName(did: string, names: ReadonlyMap<string, string> = new Map()): string {
  return names.get(did) ?? (did.length > 24 ? `${did.slice(0, 16)}…${did.slice(-4)}` : did);
}

export function verdictBadge(verdict: Verdict, threshold: number, passed: number): string {
  if (verdict === 'verified') return `verified (t=${threshold})`;
  if (verdict === 'insufficient') return `insufficient (${passed} < t=${threshold})`;
  return verdict;
}

export function verdictLine(g: GroupAgreement, names: ReadonlyMap<string, string> = new Map()): string {
  const m = g.trustedTotal;
  const list = (ds: readonly string[]) => ds.map((d) => nodeName(d, names)).join(', ');
  const parts: string[] = [];
  if (g.passed.length > 0 || g.failed.length === 0) parts.push(`PASSED by ${g.passed.length}/${m} trusted${g.passed.length > 0 ? ` (${list(g.passed)})` : ''}`);
  if (g.failed.length > 0) parts.push(`FAILED by ${g.failed.length}/${m} (${list(g.failed)})`);
  const agree = g.failed.length > 0 && g.passed.length === 0 ? g.otherFailed.length : g.otherPassed.length;
  const disagree = g.failed.length > 0 && g.passed.length === 0 ? g.otherPassed.length : g.otherFailed.length;
  if (agree > 0) parts.push(`${agree} other node${agree === 1 ? '' : 's'} agree${agree === 1 ? 's' : ''}`);
  if (disagree > 0) parts.push(`${disagree} other node${disagree === 1 ? '' : 's'} disagree${disagree === 1 ? 's' : ''}`);
  return parts.join(' · ');
}

export function artifactLine(a: ArtifactAgreement, names: ReadonlyMap<string, string> = new Map()): string {
  const agreeing = a.digests[0]?.nodes.length ?? 0;
  if (a.class === 'GOOD') return `${a.name}: ${a.class} sha256 ${a.digests[0]?.sha256.slice(0, 12)}… reproduced by ${agreeing}/${a.trustedNodes} trusted`;
  if (a.class === 'UNKNOWN') return `${a.name}: UNKNOWN (no trusted node reported it)`;
  const each = a.digests.map((d) => `${d.sha256.slice(0, 12)}… ← ${d.nodes.map((n) => nodeName(n, names)).join(', ')}`).join('; ');
  return `${a.name}: ${a.class}${a.class === 'FAIL' ? ' (results differ)' : ' (digests differ)'}: ${each}`;
}
