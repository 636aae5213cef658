/**
 * Builds what each template shows from stored runs: plain values only (handlebars escapes them).
 * Only the index page and status.json depend on the clock; every other page is a function of the
 * database alone, so rewriting an unchanged page produces the same bytes and is skipped.
 */
import { TriggerMessage } from '../../model/trigger-message.ts';
import { ansiSegments, type LogSegment } from './ansi.ts';
import {
  badgePath,
  branchPagePath,
  href,
  patchPagePath,
  repoPagePath,
  rootOf,
  runPagePath,
} from './paths.ts';
import { displayTime, displayDuration, prettyJson, runStatus, safeHttpUrl, shortOid, whence } from './display.ts';
import type { RunDetail } from '../../db/runs.ts';

export type ListRow = ReturnType<typeof listRow>;

/** What a list row needs of a run (lists never read logs or trigger messages). */
export type Listed = Omit<RunDetail, 'trigger' | 'log'>;

/** A run as a row of a list, linked from the page at `from`. */
export function listRow(r: Listed, from: string) {
  return {
    id: r.id,
    href: href(from, runPagePath(r.id)),
    event_type: r.event_type,
    whence: whence(r),
    whenceHref: scopeHref(r, from),
    commit: r.commit,
    commitShort: shortOid(r.commit),
    adapter: r.adapter,
    status: runStatus(r),
    queuedAt: r.queued_at,
    queuedText: displayTime(r.queued_at),
    duration: r.finished_at === null ? null : finishedDuration(r),
    infoUrl: safeHttpUrl(r.info_url),
  };
}

/** The branch or patch view a run belongs to. */
function scopeHref(r: Listed, from: string): string | null {
  if (r.branch !== null) return href(from, branchPagePath(r.repo, r.branch));
  if (r.patch !== null) return href(from, patchPagePath(r.repo, r.patch));
  return null;
}

function finishedDuration(r: Listed): string | null {
  const start = r.started_at ?? r.triggered_at;
  if (start === null || r.finished_at === null) return null;
  const ms = Date.parse(r.finished_at) - Date.parse(start);
  return Number.isNaN(ms) ? null : displayDuration(ms);
}

export type Pagination = {
  page: number;
  newestHref: string | null;
  newerHref: string | null;
  olderHref: string | null;
  links: { n: number; href: string | null; current: boolean }[];
};

/**
 * Links of stable pages numbered from the oldest (`first` … `last`): the scope's index.html (the
 * newest page) and three pages either side of `page`. No page names the first or last page by
 * number, so a new page changes the links of the three pages before it only (see pagesToWrite).
 */
export function pagination(
  page: number,
  first: number,
  last: number,
  pathOf: (n?: number) => string | null,
  from: string,
): Pagination | null {
  if (last <= first) return null;
  const links: Pagination['links'] = [];
  for (let n = Math.min(last, page + 3); n >= Math.max(first, page - 3); n--) {
    links.push({ n, href: href(from, pathOf(n)), current: n === page });
  }
  const isIndex = from === pathOf();
  return {
    page,
    newestHref: isIndex ? null : href(from, pathOf()),
    newerHref: page < last ? href(from, pathOf(page + 1)) : null,
    olderHref: page > first ? href(from, pathOf(page - 1)) : null,
    links,
  };
}

type TriggerFacts = {
  pusher: string | null;
  branchRef: string | null;
  before: string | null;
  revision: string | null;
  patchState: string | null;
  patchAuthor: string | null;
};

/** Facts only the trigger message has (pusher, revision, patch state), when it parses. */
function triggerFacts(r: RunDetail): TriggerFacts | null {
  if (r.trigger === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(r.trigger);
  } catch {
    return null;
  }
  const t = TriggerMessage.safeParse(json);
  if (!t.success) return null;
  const m = t.data;
  const who = (a: { id: string; alias: string | null }) => (a.alias === null ? a.id : `${a.alias} (${a.id})`);
  if (m.event_type === 'push') {
    return { pusher: who(m.pusher), branchRef: m.branch, before: m.before, revision: null, patchState: null, patchAuthor: null };
  }
  const rev = m.patch.revisions.find((v) => v.oid === r.commit) ?? m.patch.revisions[m.patch.revisions.length - 1];
  return {
    pusher: null,
    branchRef: null,
    before: null,
    revision: rev?.id ?? null,
    patchState: m.patch.state.status,
    patchAuthor: who(m.patch.author),
  };
}

/** Lines of the log's end shown at the top of a failed run's page. */
export const LOG_TAIL_LINES = 30;

/** The last LOG_TAIL_LINES lines of a log, and whether earlier lines were left out. */
function logTail(log: string): { text: string; cut: boolean } {
  const lines = log.replace(/\n$/, '').split('\n');
  return { text: `${lines.slice(-LOG_TAIL_LINES).join('\n')}\n`, cut: lines.length > LOG_TAIL_LINES };
}

/** The run page. */
export function runView(r: RunDetail, path: string) {
  const steps: [string, string | null][] = [
    ['queued', r.queued_at],
    ['triggered', r.triggered_at],
    ['running', r.started_at],
    ['finished', r.finished_at],
  ];
  let prev: string | null = null;
  const timeline = steps.map(([step, iso]) => {
    const after = iso !== null && prev !== null ? displayDuration(Date.parse(iso) - Date.parse(prev)) : null;
    if (iso !== null) prev = iso;
    return { step, iso, time: displayTime(iso), after };
  });
  const facts = triggerFacts(r);
  const log: LogSegment[] | null = r.log === null || r.log === '' ? null : ansiSegments(r.log);
  // A failed run's page starts with why: the end of its log, where the error usually is.
  const failed = r.state === 'finished' && (r.result === 'failure' || r.result === 'error' || r.result === 'timeout');
  const tail = failed && r.log !== null && r.log !== '' ? logTail(r.log) : null;
  return {
    ...r,
    pageTitle: `CI run ${r.id}`,
    root: rootOf(path),
    refresh: r.state === 'finished' ? null : 30,
    repoName: r.repo_name === '' ? r.repo : r.repo_name,
    repoHref: href(path, repoPagePath(r.repo)),
    branchHref: r.branch === null ? null : href(path, branchPagePath(r.repo, r.branch)),
    patchHref: r.patch === null ? null : href(path, patchPagePath(r.repo, r.patch)),
    badgeHref: r.branch === null ? null : href(path, badgePath(r.repo, r.branch)),
    whence: whence(r),
    status: runStatus(r),
    infoHref: safeHttpUrl(r.info_url),
    hasExitCode: r.exit_code !== null,
    duration: finishedDuration(r),
    waited: r.triggered_at === null ? null : displayDuration(Date.parse(r.triggered_at) - Date.parse(r.queued_at)),
    timeline,
    facts,
    trigger: prettyJson(r.trigger),
    logSegments: log,
    logTailSegments: tail === null ? null : ansiSegments(tail.text),
    logTailCut: tail?.cut ?? false,
    logTailLines: LOG_TAIL_LINES,
  };
}
