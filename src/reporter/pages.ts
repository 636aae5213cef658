/**
 * Writes the static report (paths in report-paths.ts). `writeReports` writes everything and removes
 * what is no longer published; `writeReportChanges` rewrites only what a set of changed and deleted
 * runs touches: their run pages, the list pages, JSON and badges of their repository, branch and
 * patch, and the index and status.json. Files are written atomically and only when their content
 * changed. Runs of private repositories are left out unless `reportPrivate` is set.
 */
import { readFile } from 'node:fs/promises';
import type { DatabaseSync } from 'node:sqlite';
import type { WorkerInfo } from '../shared/worker-registry.ts';
import { renderBadge } from './badge.ts';
import { listRow, pagination, runView, type ListRow } from './page-views.ts';
import { loadTemplates, STYLESHEET, type Templates } from './render-templates.ts';
import { drop, dropPagesBeyond, newOutput, put, removeUnproduced, type Output } from './report-output.ts';
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
  runPagePath,
} from './report-paths.ts';
import { displayTime, runStatus, shortOid } from './render-view.ts';
import {
  countScope,
  latestPerBranch,
  latestPerPatch,
  latestRun,
  patchesOf,
  repoSummaries,
  runsAfterRowid,
  scopeRuns,
  type RunScope,
} from './store/report-queries.ts';
import type { PrunedRun } from './store/retention.ts';
import { countRuns, countRunsByResult, countRunsByState, getRunDetail, runRecordOf, type RunDetail } from './store/runs.ts';

export type QueueCounts = { adapter: string; waiting: number; running: number };

export type ReportInfo = {
  /** cibq version, shown on pages and as `ci_broker_version`. */
  version: string;
  /** Jobs waiting in the queues (`event_queue_length`). */
  queueLength: number;
  /** The time the report is made. */
  now: Date;
  /** Publish runs of private repositories too (default false). */
  reportPrivate?: boolean;
  /** Node alias, appended to the title. */
  nodeAlias?: string;
  gitCommit?: string | null;
  brokerEventCounter?: number;
  latestBrokerEvent?: unknown;
  /** Jobs waiting and running per adapter queue, for index.html. */
  queues?: readonly QueueCounts[];
  /** Live workers, for index.html. */
  workers?: readonly WorkerInfo[];
};

/** What changed since the pages were last written. */
export type ReportChanges = {
  /** Runs created or changed. */
  runIds?: Iterable<string>;
  /** Runs deleted (retention). */
  removed?: Iterable<PrunedRun>;
};

/** Files written (created or changed) and removed, relative to the report directory. */
export type WriteStats = { written: string[]; removed: string[] };

const SITE_TITLE = 'CI for Radicle node';
const INDEX_REFRESH_SECONDS = 30;
const LIST_REFRESH_SECONDS = 60;
const WRITE_PARALLELISM = 16;
const BATCH = 500;
/** Patches shown per repository on the index page, and on the repository page. */
const INDEX_PATCHES = 5;
const REPO_PATCHES = 20;
const JSON_RUNS = 50;

type Site = {
  db: DatabaseSync;
  out: Output;
  t: Templates;
  info: ReportInfo;
  includePrivate: boolean;
  siteTitle: string;
};

async function site(db: DatabaseSync, reportDir: string, info: ReportInfo): Promise<Site> {
  return {
    db,
    out: newOutput(reportDir),
    t: await loadTemplates(),
    info,
    includePrivate: info.reportPrivate === true,
    siteTitle: info.nodeAlias === undefined ? SITE_TITLE : `${SITE_TITLE} ${info.nodeAlias}`,
  };
}

async function inBatches<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += WRITE_PARALLELISM) {
    await Promise.all(items.slice(i, i + WRITE_PARALLELISM).map(fn));
  }
}

function published(s: Site, r: { private: boolean }): boolean {
  return s.includePrivate || !r.private;
}

async function writeRunPage(s: Site, r: RunDetail): Promise<void> {
  const path = runPagePath(r.id);
  if (path === null) return;
  await put(s.out, path, s.t.run({ ...runView(r, path), siteTitle: s.siteTitle, version: s.info.version }));
}

/** A "latest run of a branch or patch" row, linked from `from`. */
function scopeRow(r: RunDetail, from: string) {
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
  };
}

/** A patch is left off the index once a run's trigger said it was merged or archived. */
function patchIsOpen(r: RunDetail): boolean {
  if (r.trigger === null) return true;
  return !/"status"\s*:\s*"(merged|archived)"/.test(r.trigger);
}

function pagePath(scope: RunScope, page: number): string | null {
  if (scope.branch !== undefined) return branchPagePath(scope.repo, scope.branch, page);
  if (scope.patch !== undefined) return patchPagePath(scope.repo, scope.patch, page);
  return repoPagePath(scope.repo, page);
}

function scopeDir(scope: RunScope): string | null {
  if (scope.branch !== undefined) return branchDirPath(scope.repo, scope.branch);
  if (scope.patch !== undefined) return patchDirPath(scope.repo, scope.patch);
  return repoDirPath(scope.repo);
}

/** Writes the list pages of a repository, branch or patch, and its runs.json or badge. */
async function writeScope(s: Site, scope: RunScope): Promise<void> {
  const dir = scopeDir(scope);
  if (dir === null) return;
  const total = countScope(s.db, scope, s.includePrivate);
  const pages = Math.ceil(total / PAGE_SIZE);
  let first: RunDetail | undefined;
  for (let page = 1; page <= pages; page++) {
    const path = pagePath(scope, page) as string;
    const runs = scopeRuns(s.db, scope, s.includePrivate, (page - 1) * PAGE_SIZE, PAGE_SIZE);
    if (page === 1) first = runs[0];
    const latest = runs[0] as RunDetail;
    const isRepo = scope.branch === undefined && scope.patch === undefined;
    const scopes =
      isRepo && page === 1
        ? [
            ...latestPerBranch(s.db, scope.repo, s.includePrivate),
            ...latestPerPatch(s.db, scope.repo, s.includePrivate, REPO_PATCHES),
          ].map((r) => scopeRow(r, path))
        : [];
    const name = latest.repo_name === '' ? latest.repo : latest.repo_name;
    const badge = scope.branch === undefined ? null : badgePath(scope.repo, scope.branch);
    await put(
      s.out,
      path,
      s.t.repo({
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
        patchTitle: scope.patch === undefined ? null : latest.title,
        total,
        jsonHref: isRepo ? href(path, repoJsonPath(scope.repo)) : null,
        badgeHref: href(path, badge),
        badgePath: badge,
        scopes,
        runs: runs.map((r): ListRow => listRow(r, path)),
        pagination: pagination(page, pages, (n) => pagePath(scope, n)),
      }),
    );
  }
  await dropPagesBeyond(s.out, dir, pages);
  if (scope.branch !== undefined) {
    const badge = badgePath(scope.repo, scope.branch);
    if (badge !== null) {
      if (first === undefined) await drop(s.out, badge);
      else await put(s.out, badge, renderBadge(scope.branch, runStatus(first)));
    }
  } else if (scope.patch === undefined) {
    const json = repoJsonPath(scope.repo);
    if (json !== null) {
      if (first === undefined) await drop(s.out, json);
      else await put(s.out, json, `${JSON.stringify(repoJson(s, scope.repo, first, total), null, 2)}\n`);
    }
  }
}

function repoJson(s: Site, repo: string, first: RunDetail, total: number) {
  return {
    repo,
    repo_name: first.repo_name,
    runs_total: total,
    latest_per_branch: Object.fromEntries(
      latestPerBranch(s.db, repo, s.includePrivate).map((r) => [r.branch, runRecordOf(r)]),
    ),
    recent_runs: scopeRuns(s.db, { repo }, s.includePrivate, 0, JSON_RUNS).map(runRecordOf),
  };
}

export function buildStatus(db: DatabaseSync, info: ReportInfo): Record<string, unknown> {
  const includePrivate = info.reportPrivate === true;
  const latest = latestRun(db, includePrivate);
  return {
    timestamp: info.now.toISOString(),
    broker_event_counter: info.brokerEventCounter ?? 0,
    ci_broker_version: info.version,
    ci_broker_git_commit: info.gitCommit ?? null,
    latest_broker_event: info.latestBrokerEvent ?? null,
    latest_ci_run: latest === null ? null : runRecordOf(latest),
    event_queue_length: info.queueLength,
    runs_total: countRuns(db, { includePrivate }),
    runs_by_result: countRunsByResult(db, { includePrivate }),
    runs_by_state: countRunsByState(db, { includePrivate }),
    repos_total: repoSummaries(db, includePrivate).length,
  };
}

/** index.html, status.json and style.css: written on every pass. */
async function writeIndex(s: Site): Promise<void> {
  const { info } = s;
  const status = buildStatus(s.db, info);
  const statusJson = JSON.stringify(status, null, 2);
  const repos = repoSummaries(s.db, s.includePrivate).map((sum) => {
    const patches = latestPerPatch(s.db, sum.repo, s.includePrivate, INDEX_PATCHES * 4).filter(patchIsOpen);
    const latest = [...latestPerBranch(s.db, sum.repo, s.includePrivate), ...patches.slice(0, INDEX_PATCHES)];
    return {
      name: sum.name,
      rid: sum.repo,
      runs: sum.runs,
      href: href('index.html', repoPagePath(sum.repo)),
      latest: latest.map((r) => scopeRow(r, 'index.html')),
    };
  });
  const queues = info.queues ?? [];
  const workers = (info.workers ?? []).map((w) => ({
    name: w.name,
    host: w.host,
    adapters: w.adapters.join(', '),
    running: w.running.length,
    concurrency: w.concurrency,
    state: w.state,
    seenAt: w.seen_at,
    seenText: displayTime(w.seen_at),
  }));
  const index = s.t.index({
    siteTitle: s.siteTitle,
    version: info.version,
    pageTitle: s.siteTitle,
    root: '',
    refresh: INDEX_REFRESH_SECONDS,
    nowIso: info.now.toISOString(),
    nowText: displayTime(info.now.toISOString()),
    gitCommit: info.gitCommit ?? null,
    waiting: info.queues === undefined ? info.queueLength : queues.reduce((n, q) => n + q.waiting, 0),
    running: queues.reduce((n, q) => n + q.running, 0),
    queues,
    workers,
    runsTotal: status['runs_total'],
    repos,
    statusJson,
  });
  await put(s.out, 'style.css', await readFile(STYLESHEET, 'utf8'));
  await put(s.out, 'status.json', `${statusJson}\n`);
  await put(s.out, 'index.html', index);
}

function stats(s: Site): WriteStats {
  return { written: [...s.out.written].sort(), removed: [...s.out.removed].sort() };
}

/** Writes every page and removes every file no longer published: a full regeneration. */
export async function writeReports(db: DatabaseSync, reportDir: string, info: ReportInfo): Promise<WriteStats> {
  const s = await site(db, reportDir, info);
  let after = 0;
  for (;;) {
    const batch = runsAfterRowid(db, after, BATCH, s.includePrivate);
    if (batch.length === 0) break;
    after = batch[batch.length - 1]?.rowid ?? after;
    await inBatches(batch, (b) => writeRunPage(s, b.run));
  }
  for (const sum of repoSummaries(db, s.includePrivate)) {
    await writeScope(s, { repo: sum.repo });
    for (const r of latestPerBranch(db, sum.repo, s.includePrivate)) {
      if (r.branch !== null) await writeScope(s, { repo: sum.repo, branch: r.branch });
    }
    for (const patch of patchesOf(db, sum.repo, s.includePrivate)) await writeScope(s, { repo: sum.repo, patch });
  }
  await writeIndex(s);
  for (const sub of ['runs', 'repos', 'badges']) await removeUnproduced(s.out, sub);
  return stats(s);
}

/** Rewrites only what `changes` touch, plus index.html and status.json. */
export async function writeReportChanges(
  db: DatabaseSync,
  reportDir: string,
  info: ReportInfo,
  changes: ReportChanges,
): Promise<WriteStats> {
  const s = await site(db, reportDir, info);
  const scopes = new Map<string, RunScope>();
  const touch = (r: { repo: string; branch: string | null; patch: string | null }): void => {
    scopes.set(JSON.stringify([r.repo]), { repo: r.repo });
    if (r.branch !== null) scopes.set(JSON.stringify([r.repo, 'b', r.branch]), { repo: r.repo, branch: r.branch });
    if (r.patch !== null) scopes.set(JSON.stringify([r.repo, 'p', r.patch]), { repo: r.repo, patch: r.patch });
  };
  for (const id of new Set(changes.runIds ?? [])) {
    const r = getRunDetail(db, id);
    const path = runPagePath(id);
    if (r !== null && published(s, r)) await writeRunPage(s, r);
    else if (path !== null) await drop(s.out, path);
    if (r !== null) touch(r);
  }
  for (const p of changes.removed ?? []) {
    const path = runPagePath(p.id);
    if (path !== null) await drop(s.out, path);
    touch(p);
  }
  for (const scope of scopes.values()) await writeScope(s, scope);
  await writeIndex(s);
  return stats(s);
}
