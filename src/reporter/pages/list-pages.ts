/**
 * The list pages of a repository, branch or patch (stable pages numbered from the oldest run), and
 * a repository's runs.json and a branch's badge.
 */
import type { DatabaseSync } from 'node:sqlite';
import { renderBadge } from './badge.ts';
import { agreementBadge, type AgreementBadge } from './agreement-view.ts';
import { listRow, pagination, type ListRow } from './page-views.ts';
import type { ReportInfo } from './report-info.ts';
import type { Templates } from './templates.ts';
import { drop, existingPages, put, removeDirIfEmpty, type Output } from './output-dir.ts';
import {
  badgePath,
  branchDirPath,
  branchPagePath,
  href,
  PAGE_SIZE,
  patchDirPath,
  patchPagePath,
  repoDirPath,
  repoJsonPath,
  repoPagePath,
  rootOf,
  urlPath,
} from './paths.ts';
import { runStatus, shortOid } from './display.ts';
import {
  countScope,
  latestPerBranch,
  latestPerPatch,
  newestRuns,
  scopeRunsBySeq,
  scopeSeqRange,
  type RunScope,
} from '../../db/report-queries.ts';
import { runRecordOf, type RunSummary } from '../../db/runs.ts';

const LIST_REFRESH_SECONDS = 60;
/** Patches shown on the repository page. */
const REPO_PATCHES = 20;
const JSON_RUNS = 50;

/** What one pass of writing the report works with. */
export type Site = {
  db: DatabaseSync;
  out: Output;
  t: Templates;
  info: ReportInfo;
  includePrivate: boolean;
  siteTitle: string;
  /** Finished runs published as job COBs whose attestation was not in storage yet (see WriteStats). */
  awaitingAttestation: string[];
};

/** A "latest run of a branch or patch" row, linked from `from`, with what other nodes say of its commit. */
export function scopeRow(r: RunSummary, from: string, agreement: AgreementBadge | null = null) {
  const isBranch = r.branch !== null;
  const label = isBranch
    ? `branch ${r.branch}`
    : `patch ${shortOid(r.patch ?? '')}${r.title === null || r.title === '' ? '' : `: ${r.title}`}`;
  return {
    kind: isBranch ? 'branch' : 'patch',
    kindLabel: isBranch ? 'Branch' : 'Patch',
    label,
    scopeHref: isBranch ? href(from, branchPagePath(r.repo, r.branch ?? '')) : href(from, patchPagePath(r.repo, r.patch ?? '')),
    run: listRow(r, from),
    agreement,
  };
}

/** The agreement badge of each distinct commit of `rows`, when the reporter reads other nodes' runs. */
async function agreementBadges(s: Site, rows: readonly RunSummary[]): Promise<Map<string, AgreementBadge>> {
  const out = new Map<string, AgreementBadge>();
  const read = s.info.agreementFor;
  if (read === undefined) return out;
  for (const r of rows) {
    const key = `${r.repo}\0${r.commit}`;
    if (out.has(key)) continue;
    const c = await read(r.repo, r.commit);
    const badge = c === null ? null : agreementBadge(c);
    if (badge !== null) out.set(key, badge);
  }
  return out;
}

/**
 * A patch is left off the index once a run's trigger said it was merged or archived: the state is
 * as of the patch's latest run (a patch merged since stays listed until it runs again).
 */
export function patchIsOpen(r: RunSummary): boolean {
  return r.patch_status !== 'merged' && r.patch_status !== 'archived';
}

/** The scope's list page `page`, or its index.html (the newest page) when `page` is undefined. */
function pagePath(scope: RunScope, page?: number): string | null {
  if (scope.branch !== undefined) return branchPagePath(scope.repo, scope.branch, page);
  if (scope.patch !== undefined) return patchPagePath(scope.repo, scope.patch, page);
  return repoPagePath(scope.repo, page);
}

function scopeDir(scope: RunScope): string | null {
  if (scope.branch !== undefined) return branchDirPath(scope.repo, scope.branch);
  if (scope.patch !== undefined) return patchDirPath(scope.repo, scope.patch);
  return repoDirPath(scope.repo);
}

function isRepoScope(scope: RunScope): boolean {
  return scope.branch === undefined && scope.patch === undefined;
}

/** The stable page holding run number `seq` of a scope. */
export function pageOf(seq: number): number {
  return Math.ceil(seq / PAGE_SIZE);
}

/**
 * Which of a scope's pages to write: the newest, and `changed`, the pages holding changed or deleted
 * runs ('all': every page). When the first or last page moved since the files on disk were
 * written, the pages whose links change (within three of either end) are rewritten too, and a
 * missing page is written.
 */
function pagesToWrite(first: number, last: number, onDisk: readonly number[], changed: ReadonlySet<number> | 'all'): number[] {
  if (changed === 'all' || onDisk.length === 0) return range(first, last);
  const want = new Set<number>([last]);
  for (const p of changed) if (p >= first && p <= last) want.add(p);
  const have = new Set(onDisk);
  const oldFirst = Math.min(...onDisk);
  const oldLast = Math.max(...onDisk);
  // Page k links k-3 … k+3 and its neighbours, where they exist.
  if (oldLast !== last) for (const p of range(Math.max(first, Math.min(oldLast, last) - 2), last)) want.add(p);
  if (oldFirst !== first) for (const p of range(first, Math.min(last, Math.max(oldFirst, first) + 2))) want.add(p);
  for (const p of range(first, last)) if (!have.has(p)) want.add(p);
  return [...want].sort((a, b) => a - b);
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let n = from; n <= to; n++) out.push(n);
  return out;
}

/**
 * Writes a repository's, branch's or patch's list pages and its runs.json or badge. Page k holds
 * the scope's runs numbered (k-1)*50+1 … k*50 (see migration 3), so recording a run rewrites only
 * the newest page and index.html, a state change only the page showing that run, and retention
 * only the oldest pages. `changed`: the pages to rewrite besides those ('all' for every page).
 */
export async function writeScope(s: Site, scope: RunScope, changed: ReadonlySet<number> | 'all'): Promise<void> {
  const dir = scopeDir(scope);
  if (dir === null) return;
  const seqs = scopeSeqRange(s.db, scope, s.includePrivate);
  const onDisk = await existingPages(s.out, dir);
  const first = seqs === null ? 1 : pageOf(seqs.first);
  const last = seqs === null ? 0 : pageOf(seqs.last);
  for (const p of onDisk) if (p < first || p > last) await drop(s.out, `${dir}/page-${p}.html`);
  if (seqs === null) {
    await drop(s.out, `${dir}/index.html`);
    if (isRepoScope(scope)) await drop(s.out, repoJsonPath(scope.repo) as string);
    await removeDirIfEmpty(s.out, dir);
    const badge = scope.branch === undefined ? null : badgePath(scope.repo, scope.branch);
    if (badge !== null) await drop(s.out, badge);
    return;
  }
  const total = countScope(s.db, scope, s.includePrivate);
  for (const page of pagesToWrite(first, last, onDisk, changed)) {
    const runs = scopeRunsBySeq(s.db, scope, s.includePrivate, (page - 1) * PAGE_SIZE + 1, page * PAGE_SIZE);
    const path = pagePath(scope, page) as string;
    await put(s.out, path, renderScopePage(s, scope, runs, { page, first, last, path, total: null }));
    if (page !== last) continue;
    const index = pagePath(scope) as string;
    const scopes = isRepoScope(scope)
      ? [...latestPerBranch(s.db, scope.repo, s.includePrivate), ...latestPerPatch(s.db, scope.repo, s.includePrivate, REPO_PATCHES)]
      : [];
    const badges = await agreementBadges(s, scopes);
    const rows = scopes.map((r) => scopeRow(r, index, badges.get(`${r.repo}\0${r.commit}`) ?? null));
    await put(s.out, index, renderScopePage(s, scope, runs, { page, first, last, path: index, total }, rows));
  }
  if (scope.patch !== undefined) return;
  const latest = newestRuns(s.db, scope, s.includePrivate, isRepoScope(scope) ? JSON_RUNS : 1);
  const newest = latest[0];
  if (newest === undefined) return;
  if (scope.branch !== undefined) {
    const badge = badgePath(scope.repo, scope.branch);
    if (badge !== null) await put(s.out, badge, renderBadge(scope.branch, runStatus(newest)));
  } else {
    const json = repoJsonPath(scope.repo);
    if (json !== null) await put(s.out, json, `${JSON.stringify(repoJson(s, scope.repo, newest, total, latest), null, 2)}\n`);
  }
}

type PageAt = { page: number; first: number; last: number; path: string; total: number | null };

/** One list page; index.html (`total` set) also has the run count and, for a repository, its branches and patches. */
function renderScopePage(s: Site, scope: RunScope, runs: readonly RunSummary[], at: PageAt, scopes: readonly ReturnType<typeof scopeRow>[] = []): string {
  const { path } = at;
  const latest = runs[0];
  const name = latest === undefined || latest.repo_name === '' ? scope.repo : latest.repo_name;
  const badge = scope.branch === undefined ? null : badgePath(scope.repo, scope.branch);
  return s.t.repo({
    siteTitle: s.siteTitle,
    version: s.info.version,
    pageTitle:
      scope.branch !== undefined
        ? `CI runs for ${name} branch ${scope.branch}`
        : scope.patch !== undefined
          ? `CI runs for ${name} patch ${shortOid(scope.patch)}`
          : `CI runs for ${name}`,
    root: rootOf(path),
    refresh: LIST_REFRESH_SECONDS,
    name,
    rid: scope.repo,
    repoHref: href(path, repoPagePath(scope.repo)),
    branch: scope.branch ?? null,
    patch: scope.patch ?? null,
    patchShort: scope.patch === undefined ? null : shortOid(scope.patch),
    patchTitle: scope.patch === undefined ? null : (latest?.title ?? null),
    total: at.total,
    jsonHref: isRepoScope(scope) ? href(path, repoJsonPath(scope.repo)) : null,
    badgeHref: href(path, badge),
    badgeUrlPath: urlPath(badge),
    scopes,
    runs: runs.map((r): ListRow => listRow(r, path)),
    pagination: pagination(at.page, at.first, at.last, (n) => pagePath(scope, n), path),
  });
}

function repoJson(s: Site, repo: string, newest: RunSummary, total: number, recent: readonly RunSummary[]) {
  return {
    repo,
    repo_name: newest.repo_name,
    runs_total: total,
    latest_per_branch: Object.fromEntries(
      latestPerBranch(s.db, repo, s.includePrivate).map((r) => [r.branch, runRecordOf(r)]),
    ),
    recent_runs: recent.map(runRecordOf),
  };
}
