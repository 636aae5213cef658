/**
 * Writes the static report (paths in report-paths.ts). `writeReports` writes everything and removes
 * what is no longer published; `writeReportChanges` rewrites only what a set of changed and deleted
 * runs touches: their run pages, the list pages showing them (stable pages: scope-pages.ts), the
 * index.html, JSON and badges of their repository, branch and patch, and the index and status.json.
 * Files are written atomically and only when their content changed. Runs of private repositories
 * are left out unless `reportPrivate` is set.
 */
import { readFile } from 'node:fs/promises';
import type { DatabaseSync } from 'node:sqlite';
import { runView } from './page-views.ts';
import { agreementView } from './agreement-view.ts';
import { runAttestationPath, runLogPath } from '../../model/run-page.ts';
import { loadTemplates, STYLESHEET } from './templates.ts';
import { drop, markIfFresh, newOutput, put, removeUnproduced } from './output-dir.ts';
import { href, repoPagePath, runPagePath } from './paths.ts';
import { displayTime } from './display.ts';
import type { ReportInfo } from './report-info.ts';
import { pageOf, patchIsOpen, scopeRow, writeScope, type Site } from './list-pages.ts';
import {
  latestPerBranch,
  latestPerPatch,
  latestRun,
  patchesOf,
  repoSummaries,
  runIdsAfterRowid,
  runSeqs,
  type RunScope,
  type RunSeqs,
} from '../../db/report-queries.ts';
import type { PrunedRun } from '../../db/retention.ts';
import { countRuns, countRunsByResult, countRunsByState, getRunDetail, runRecordOf, type RunDetail } from '../../db/runs.ts';

/** What changed since the pages were last written. */
export type ReportChanges = {
  /** Runs created or changed. */
  runIds?: Iterable<string>;
  /** Runs deleted (retention). */
  removed?: Iterable<PrunedRun>;
};

/** Files written (created or changed) and removed, relative to the report directory. */
export type WriteStats = {
  written: string[];
  removed: string[];
  /**
   * Finished runs published as job COBs whose page was written before this node's attestation was in
   * storage (the publisher writes the job COB at the same time): the reporter writes them again later.
   */
  awaitingAttestation: string[];
};

const SITE_TITLE = 'CI for Radicle node';
const INDEX_REFRESH_SECONDS = 30;
const BATCH = 200;
/** Patches shown per repository on the index page. */
const INDEX_PATCHES = 5;


async function site(db: DatabaseSync, reportDir: string, info: ReportInfo): Promise<Site> {
  return {
    db,
    out: newOutput(reportDir),
    t: await loadTemplates(),
    info,
    includePrivate: info.reportPrivate === true,
    siteTitle: info.nodeAlias === undefined ? SITE_TITLE : `${SITE_TITLE} ${info.nodeAlias}`,
    awaitingAttestation: [],
  };
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function published(s: Site, r: { private: boolean }): boolean {
  return s.includePrivate || !r.private;
}

/**
 * A run's page and, once it finished, its files beside it: `<id>.log.txt`, the final log exactly as
 * stored (the text whose sha256 the run's attestation records), and `<id>.intoto.jsonl`, the envelope
 * this node signed into the job COB, read back from storage with the other nodes' runs of the commit.
 */
async function writeRunPage(s: Site, r: RunDetail): Promise<void> {
  const path = runPagePath(r.id);
  if (path === null) return;
  const jobCob = s.info.jobCobs?.(r.adapter) === true ? `cibq jobs ${r.repo} ${r.commit}` : null;
  const logPath = runLogPath(r.id);
  const attestationPath = runAttestationPath(r.id);
  const finished = r.state === 'finished' && r.log !== null;
  if (logPath !== null) {
    if (finished) await put(s.out, logPath, r.log ?? '');
    else await drop(s.out, logPath);
  }
  const commit = finished && s.info.agreementFor !== undefined ? await s.info.agreementFor(r.repo, r.commit) : null;
  const envelope = commit?.envelopes.get(r.id) ?? null;
  if (finished && envelope === null && s.info.agreementFor !== undefined && s.info.jobCobs?.(r.adapter) === true) s.awaitingAttestation.push(r.id);
  if (attestationPath !== null) {
    if (envelope !== null) await put(s.out, attestationPath, envelope.endsWith('\n') ? envelope : `${envelope}\n`);
    else await drop(s.out, attestationPath);
  }
  await put(
    s.out,
    path,
    s.t.run({
      ...runView(r, path),
      jobCob,
      logTxtHref: finished ? href(path, logPath) : null,
      attestationHref: envelope !== null ? href(path, attestationPath) : null,
      agreement: commit === null ? null : agreementView(commit, r, path),
      siteTitle: s.siteTitle,
      version: s.info.version,
    }),
  );
}

/** Removes a run's page and the files beside it. */
async function dropRunFiles(s: Site, id: string): Promise<void> {
  for (const p of [runPagePath(id), runLogPath(id), runAttestationPath(id)]) if (p !== null) await drop(s.out, p);
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

type IndexRows = ReturnType<typeof scopeRow>[];

/**
 * The latest runs per branch and patch that index.html shows for each repository, by database handle
 * and `${includePrivate}\0${repo}`: they change only with a run of that repository, so a pass reads
 * again only the repositories its changes touch (`forgetIndexRows`) instead of every repository.
 */
const indexRowsCache = new WeakMap<DatabaseSync, Map<string, IndexRows>>();

/** Forgets the cached index rows of `repos` (every repository when null). */
function forgetIndexRows(db: DatabaseSync, repos: Iterable<string> | null): void {
  const cache = indexRowsCache.get(db);
  if (cache === undefined) return;
  if (repos === null) return cache.clear();
  for (const repo of repos) for (const p of ['true', 'false']) cache.delete(`${p}\0${repo}`);
}

function indexRows(s: Site, repo: string): IndexRows {
  let cache = indexRowsCache.get(s.db);
  if (cache === undefined) indexRowsCache.set(s.db, (cache = new Map()));
  const key = `${s.includePrivate}\0${repo}`;
  let rows = cache.get(key);
  if (rows === undefined) {
    const patches = latestPerPatch(s.db, repo, s.includePrivate, INDEX_PATCHES * 4).filter(patchIsOpen);
    const latest = [...latestPerBranch(s.db, repo, s.includePrivate), ...patches.slice(0, INDEX_PATCHES)];
    rows = latest.map((r) => scopeRow(r, 'index.html'));
    cache.set(key, rows);
  }
  return rows;
}

/** index.html, status.json and style.css: written on every pass. */
async function writeIndex(s: Site): Promise<void> {
  const { info } = s;
  const status = buildStatus(s.db, info);
  const statusJson = JSON.stringify(status, null, 2);
  const repos = repoSummaries(s.db, s.includePrivate).map((sum) => ({
    name: sum.name,
    rid: sum.repo,
    runs: sum.runs,
    href: href('index.html', repoPagePath(sum.repo)),
    latest: indexRows(s, sum.repo),
  }));
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
  return { written: [...s.out.written].sort(), removed: [...s.out.removed].sort(), awaitingAttestation: [...s.awaitingAttestation] };
}

/** Writes every page and removes every file no longer published: a full regeneration. */
export async function writeReports(db: DatabaseSync, reportDir: string, info: ReportInfo): Promise<WriteStats> {
  const s = await site(db, reportDir, info);
  forgetIndexRows(db, null);
  markIfFresh(s.out, 'runs');
  let after = 0;
  for (;;) {
    const batch = runIdsAfterRowid(db, after, BATCH, s.includePrivate);
    if (batch.length === 0) break;
    after = batch[batch.length - 1]?.rowid ?? after;
    // One run (with its log) in memory at a time, not a whole batch of them.
    for (const b of batch) {
      const r = getRunDetail(db, b.id);
      if (r !== null && published(s, r)) await writeRunPage(s, r);
    }
    // Files are written synchronously: let Redis reads and timers run between batches.
    await yieldToEventLoop();
  }
  for (const sum of repoSummaries(db, s.includePrivate)) {
    await writeScope(s, { repo: sum.repo }, 'all');
    for (const r of latestPerBranch(db, sum.repo, s.includePrivate)) {
      if (r.branch !== null) await writeScope(s, { repo: sum.repo, branch: r.branch }, 'all');
    }
    for (const patch of patchesOf(db, sum.repo, s.includePrivate)) await writeScope(s, { repo: sum.repo, patch }, 'all');
  }
  await writeIndex(s);
  for (const sub of ['runs', 'repos', 'badges']) await removeUnproduced(s.out, sub);
  return stats(s);
}

/** A scope and the pages in it that hold changed runs. */
type Touched = { scope: RunScope; pages: Set<number> };

/** Rewrites only what `changes` touch, plus index.html and status.json. */
export async function writeReportChanges(
  db: DatabaseSync,
  reportDir: string,
  info: ReportInfo,
  changes: ReportChanges,
): Promise<WriteStats> {
  const s = await site(db, reportDir, info);
  const scopes = new Map<string, Touched>();
  const touch = (key: string, scope: RunScope, seq: number | null): void => {
    const t = scopes.get(key) ?? { scope, pages: new Set<number>() };
    scopes.set(key, t);
    if (seq !== null) t.pages.add(pageOf(seq));
  };
  const touchAll = (r: { repo: string; branch: string | null; patch: string | null }, seqs: RunSeqs): void => {
    touch(JSON.stringify([r.repo]), { repo: r.repo }, seqs.repo_seq);
    if (r.branch !== null) touch(JSON.stringify([r.repo, 'b', r.branch]), { repo: r.repo, branch: r.branch }, seqs.branch_seq);
    if (r.patch !== null) touch(JSON.stringify([r.repo, 'p', r.patch]), { repo: r.repo, patch: r.patch }, seqs.patch_seq);
  };
  const repos = new Set<string>();
  let unknownRepo = false;
  for (const id of new Set(changes.runIds ?? [])) {
    const r = getRunDetail(db, id);
    if (r !== null && published(s, r)) await writeRunPage(s, r);
    else await dropRunFiles(s, id);
    const seqs = r === null ? null : runSeqs(db, id);
    if (r !== null && seqs !== null) touchAll(r, seqs);
    if (r !== null) repos.add(r.repo);
    else unknownRepo = true;
  }
  for (const p of changes.removed ?? []) {
    await dropRunFiles(s, p.id);
    touchAll(p, p);
    repos.add(p.repo);
  }
  forgetIndexRows(db, unknownRepo ? null : repos);
  for (const t of scopes.values()) await writeScope(s, t.scope, t.pages);
  await writeIndex(s);
  return stats(s);
}
