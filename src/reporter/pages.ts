/**
 * Writes the static report: `index.html`, `repos/<rid>.html`, `runs/<id>.html`, `status.json` and
 * `style.css`. Each file is written atomically (temporary file in the same directory, then
 * rename), unchanged files are not rewritten, and pages of runs and repositories that are no longer
 * published (e.g. private) are removed. Runs of private repositories are left out unless
 * `reportPrivate` is set.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { loadTemplates, STYLESHEET } from './render-templates.ts';
import {
  displayTime,
  prettyJson,
  repoFileName,
  runDuration,
  runFileName,
  runStatus,
  safeHttpUrl,
  shortOid,
  whence,
} from './render-view.ts';
import { countRunsByResult, countRunsByState, listRunDetails, runRecordOf, type RunDetail } from './store/runs.ts';

export type ReportInfo = {
  /** cibq version, shown on pages and as `ci_broker_version`. */
  version: string;
  /** Jobs waiting in the queue (`event_queue_length`). */
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
};

const SITE_TITLE = 'CI for Radicle node';
const REFRESH_SECONDS = 300;
const WRITE_PARALLELISM = 16;

/** Writes `content` to `dir/name` via a temporary file and rename, unless the file already has it. */
async function writeAtomic(dir: string, name: string, content: string): Promise<void> {
  const path = join(dir, name);
  const existing = await readFile(path, 'utf8').catch(() => null);
  if (existing === content) return;
  const tmp = join(dir, `.${name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, content, 'utf8');
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/** Removes `*.html` files in `dir` that are not in `keep`. */
async function removeStale(dir: string, keep: ReadonlySet<string>): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name.endsWith('.html') && !keep.has(name)) await unlink(join(dir, name)).catch(() => undefined);
  }
}

async function inBatches<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += WRITE_PARALLELISM) {
    await Promise.all(items.slice(i, i + WRITE_PARALLELISM).map(fn));
  }
}

/** Row fields shared by the index and repository tables; `root` is the path to the report dir. */
function runRow(r: RunDetail, root: string, now: Date) {
  const file = runFileName(r.id);
  return {
    id: r.id,
    href: file === null ? null : `${root}runs/${encodeURIComponent(file)}`,
    event_type: r.event_type,
    whence: whence(r),
    commit: r.commit,
    commitShort: shortOid(r.commit),
    adapter: r.adapter,
    status: runStatus(r),
    queuedAt: r.queued_at,
    queuedText: displayTime(r.queued_at),
    duration: runDuration(r, now),
    infoUrl: safeHttpUrl(r.info_url),
  };
}

function repoName(r: RunDetail): string {
  return r.repo_name === '' ? r.repo : r.repo_name;
}

export function buildStatus(db: DatabaseSync, runs: readonly RunDetail[], info: ReportInfo): Record<string, unknown> {
  const includePrivate = info.reportPrivate === true;
  const latest = runs[0];
  return {
    timestamp: info.now.toISOString(),
    broker_event_counter: info.brokerEventCounter ?? 0,
    ci_broker_version: info.version,
    ci_broker_git_commit: info.gitCommit ?? null,
    latest_broker_event: info.latestBrokerEvent ?? null,
    latest_ci_run: latest === undefined ? null : runRecordOf(latest),
    event_queue_length: info.queueLength,
    runs_total: runs.length,
    runs_by_result: countRunsByResult(db, { includePrivate }),
    runs_by_state: countRunsByState(db, { includePrivate }),
    repos_total: new Set(runs.map((r) => r.repo)).size,
  };
}

export async function writeReports(db: DatabaseSync, reportDir: string, info: ReportInfo): Promise<void> {
  const templates = await loadTemplates();
  const includePrivate = info.reportPrivate === true;
  // Read everything up front (synchronously) so the report is one consistent snapshot.
  const runs = listRunDetails(db, { includePrivate });
  const status = buildStatus(db, runs, info);

  const byRepo = new Map<string, RunDetail[]>();
  for (const r of runs) {
    const list = byRepo.get(r.repo);
    if (list === undefined) byRepo.set(r.repo, [r]);
    else list.push(r);
  }

  const now = info.now;
  const siteTitle = info.nodeAlias === undefined ? SITE_TITLE : `${SITE_TITLE} ${info.nodeAlias}`;
  const common = { siteTitle, version: info.version, nowIso: now.toISOString(), nowText: displayTime(now.toISOString()) };

  const reposDir = join(reportDir, 'repos');
  const runsDir = join(reportDir, 'runs');
  await mkdir(reposDir, { recursive: true });
  await mkdir(runsDir, { recursive: true });

  const statusJson = JSON.stringify(status, null, 2);
  const repoRows = [...byRepo.values()]
    .map((list) => list[0])
    .filter((r): r is RunDetail => r !== undefined)
    .sort((a, b) => repoName(a).localeCompare(repoName(b)) || a.repo.localeCompare(b.repo))
    .map((latest) => {
      const file = repoFileName(latest.repo);
      return {
        name: repoName(latest),
        rid: latest.repo,
        href: file === null ? null : `repos/${encodeURIComponent(file)}`,
        run: runRow(latest, '', now),
      };
    });
  const index = templates.index({
    ...common,
    pageTitle: siteTitle,
    root: '',
    refresh: REFRESH_SECONDS,
    gitCommit: info.gitCommit ?? null,
    queueLength: info.queueLength,
    runsTotal: runs.length,
    repos: repoRows,
    statusJson,
  });

  const repoFiles = new Set<string>();
  const repoPages: { file: string; html: string }[] = [];
  for (const [rid, list] of byRepo) {
    const file = repoFileName(rid);
    const first = list[0];
    if (file === null || first === undefined) continue;
    repoFiles.add(file);
    repoPages.push({
      file,
      html: templates.repo({
        ...common,
        pageTitle: `CI runs for ${repoName(first)}`,
        root: '../',
        refresh: REFRESH_SECONDS,
        name: repoName(first),
        rid,
        runs: list.map((r) => runRow(r, '../', now)),
      }),
    });
  }

  const runFiles = new Set<string>();
  const runPages: { file: string; html: string }[] = [];
  for (const r of runs) {
    const file = runFileName(r.id);
    if (file === null) continue;
    runFiles.add(file);
    const repoFile = repoFileName(r.repo);
    runPages.push({
      file,
      html: templates.run({
        ...r,
        siteTitle,
        version: info.version,
        pageTitle: `CI run ${r.id}`,
        root: '../',
        refresh: r.state === 'finished' ? null : REFRESH_SECONDS,
        repoHref: repoFile === null ? null : `../repos/${encodeURIComponent(repoFile)}`,
        whence: whence(r),
        status: runStatus(r),
        infoHref: safeHttpUrl(r.info_url),
        hasExitCode: r.exit_code !== null,
        duration: runDuration(r, now),
        timeline: [
          ['queued', r.queued_at],
          ['triggered', r.triggered_at],
          ['running', r.started_at],
          ['finished', r.finished_at],
        ].map(([step, iso]) => ({ step, iso, time: displayTime(iso ?? null) })),
        trigger: prettyJson(r.trigger),
        // `log` is a handlebars built-in helper name, so the log goes in as logText.
        logText: r.log,
      }),
    });
  }

  await writeAtomic(reportDir, 'style.css', await readFile(STYLESHEET, 'utf8'));
  await inBatches(runPages, (p) => writeAtomic(runsDir, p.file, p.html));
  await inBatches(repoPages, (p) => writeAtomic(reposDir, p.file, p.html));
  await writeAtomic(reportDir, 'status.json', `${statusJson}\n`);
  await writeAtomic(reportDir, 'index.html', index);
  await removeStale(runsDir, runFiles);
  await removeStale(reposDir, repoFiles);
}
