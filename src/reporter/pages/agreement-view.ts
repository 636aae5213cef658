/**
 * The agreement section of a run page (issue 9), built from what the reporter read from storage:
 * per (adapter, configuration) group the verdict badge and line (`verdictLine`, `verdictBadge`), a
 * row per node — name, trusted or not, result, times, its log with the hash check this node can make
 * (its own log, published beside the page), a valid signature mark — the artifact lines, and the
 * claims whose attestation did not verify: counted and listed with why, never with a result. Every
 * string here may come from a peer; templates escape them and links pass `safeHttpUrl` or `href`.
 */
import { createHash } from 'node:crypto';
import { runLogPath } from '../../model/run-page.ts';
import type { GroupAgreement, NodeResult } from '../../signing/agreement.ts';
import { artifactLine, nodeName, verdictBadge, verdictLine } from '../../signing/agreement-text.ts';
import { displayTime, safeHttpUrl } from './display.ts';
import { href } from './paths.ts';
import type { CommitAgreement } from './report-info.ts';

/** The run the page is about: its id and its final log as stored. */
export type PageRun = { id: string; log: string | null };

export type AgreementView = ReturnType<typeof agreementView>;

const SELF_NAME = 'this node';

/** Node names: the configured aliases, and "this node" for this node whatever its alias says. */
function namesOf(c: CommitAgreement): Map<string, string> {
  const names = new Map(c.names);
  if (c.self !== null) names.set(c.self, SELF_NAME);
  return names;
}

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

type LogCheck = { cls: 'log-ok' | 'log-bad' | 'log-unchecked' | 'log-none'; label: string };

function logCheck(n: NodeResult, self: string | null, run: PageRun): LogCheck {
  if (n.log === null) return { cls: 'log-none', label: 'no log attested' };
  if (n.did !== self || n.uuid !== run.id || run.log === null) return { cls: 'log-unchecked', label: 'sha256 not checked here (cibq verify --fetch-logs)' };
  return sha256(run.log) === n.log.sha256
    ? { cls: 'log-ok', label: '✓ sha256 matches' }
    : { cls: 'log-bad', label: '✗ sha256 differs from the attested one' };
}

function nodeRow(n: NodeResult, c: CommitAgreement, run: PageRun, from: string, names: ReadonlyMap<string, string>) {
  const own = n.did === c.self && n.uuid === run.id;
  return {
    name: nodeName(n.did, names),
    did: n.did,
    self: n.did === c.self,
    trusted: n.trusted,
    result: n.result,
    resultCls: n.result === 'PASSED' ? 'success' : 'failure',
    startedOn: n.startedOn,
    startedText: displayTime(n.startedOn),
    finishedOn: n.finishedOn,
    finishedText: displayTime(n.finishedOn),
    logHref: own ? href(from, runLogPath(run.id)) : (safeHttpUrl(n.log?.uri ?? null) ?? safeHttpUrl(n.url)),
    logCheck: logCheck(n, c.self, run),
  };
}

function groupView(g: GroupAgreement, c: CommitAgreement, run: PageRun, from: string, names: ReadonlyMap<string, string>) {
  return {
    adapter: g.adapter === '' ? '?' : g.adapter,
    configuration: g.configuration,
    thisRun: g.nodes.some((n) => n.did === c.self && n.uuid === run.id),
    verdict: g.verdict,
    badge: verdictBadge(g.verdict, g.threshold, g.passed.length),
    line: verdictLine(g, names),
    nodes: g.nodes.map((n) => nodeRow(n, c, run, from, names)),
    artifacts: g.artifacts.map((a) => ({ cls: a.class, line: artifactLine(a, names) })),
  };
}

/** The view of `c` on the page at `from` showing `run`. */
export function agreementView(c: CommitAgreement, run: PageRun, from: string) {
  const a = c.agreement;
  const names = namesOf(c);
  const passedMax = Math.max(0, ...a.groups.map((g) => g.passed.length));
  const ignored = [
    a.unattested > 0 ? `${a.unattested} finished run(s) without an attestation` : null,
    a.badSignatures > 0 ? `${a.badSignatures} change(s) with a bad signature` : null,
    a.foreignChanges > 0 ? `${a.foreignChanges} change(s) signed by a key that is not their namespace's` : null,
  ].filter((x) => x !== null);
  return {
    verdict: a.verdict,
    badge: verdictBadge(a.verdict, a.threshold, passedMax),
    threshold: a.threshold,
    trusted: a.trusted.map((d) => ({ name: nodeName(d, names), did: d })),
    groups: a.groups.map((g) => groupView(g, c, run, from, names)),
    invalid: a.invalid.map((i) => ({ name: nodeName(i.did, names), did: i.did, uuid: i.uuid, why: i.why })),
    invalidCount: a.invalid.length,
    ignored,
  };
}

export type AgreementBadge = { verdict: string; label: string; line: string };

/** The badge with each configuration's verdict line, for the branch and patch rows of list pages. */
export function agreementBadge(c: CommitAgreement): AgreementBadge | null {
  const a = c.agreement;
  if (a.groups.length === 0 && a.invalid.length === 0) return null;
  const names = namesOf(c);
  const passedMax = Math.max(0, ...a.groups.map((g) => g.passed.length));
  const lines = a.groups.map((g) => `${g.adapter === '' ? '?' : g.adapter}: ${verdictLine(g, names)}`);
  if (a.invalid.length > 0) lines.push(`${a.invalid.length} invalid signature(s), not counted`);
  return { verdict: a.verdict, label: verdictBadge(a.verdict, a.threshold, passedMax), line: lines.join(' | ') };
}
