/**
 * Pure helpers that turn stored runs into what the report pages display: status labels and CSS
 * classes, short refs and commits, times, durations, safe file names and safe links. Templates do
 * no logic of their own; everything here is plain text that handlebars escapes.
 */
import type { RunDetail } from '../../db/runs.ts';

export { runFileName } from './paths.ts';

/** The URL if it is an absolute http(s) URL, else null (never a javascript:, data: or relative link). */
export function safeHttpUrl(url: string | null): string | null {
  if (url === null) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

export type Status = { label: string; cls: string };

/** Status text and CSS class: the result for finished runs, else the state. */
export function runStatus(r: Pick<RunDetail, 'state' | 'result'>): Status {
  if (r.state === 'finished') {
    return r.result === null ? { label: 'finished', cls: 'unknown' } : { label: r.result, cls: r.result };
  }
  return { label: r.state, cls: r.state };
}

/** A short human name for a ref: `main`, `tag v1.0`, or the full name when unrecognised. */
export function shortRef(ref: string): string {
  const local = ref.replace(/^refs\/namespaces\/[^/]+\//, '');
  if (local.startsWith('refs/heads/')) return local.slice('refs/heads/'.length);
  if (local.startsWith('refs/tags/')) return `tag ${local.slice('refs/tags/'.length)}`;
  return ref;
}

/** What was built: `branch main` / `tag v1` / `patch 1a2b3c4: title`. */
export function whence(r: Pick<RunDetail, 'event_type' | 'ref' | 'patch' | 'title'>): string {
  if (r.event_type === 'patch') {
    const id = r.patch === null ? shortRef(r.ref) : r.patch.slice(0, 7);
    return r.title === null || r.title === '' ? `patch ${id}` : `patch ${id}: ${r.title}`;
  }
  const name = shortRef(r.ref);
  return name.startsWith('tag ') ? name : `branch ${name}`;
}

export function shortOid(oid: string): string {
  return oid.slice(0, 7);
}

/** `2024-08-27 17:38:26Z`, or the input if it is not a time. */
export function displayTime(isoTime: string | null): string | null {
  if (isoTime === null) return null;
  const d = new Date(isoTime);
  if (Number.isNaN(d.getTime())) return isoTime;
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** `1h 02m`, `3m 05s`, `12s`. */
export function displayDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

/**
 * How long the run took (from when it started, else was triggered, else queued), or has been going
 * so far for an unfinished run; null when nothing has started.
 */
export function runDuration(
  r: Pick<RunDetail, 'queued_at' | 'triggered_at' | 'started_at' | 'finished_at' | 'state'>,
  now: Date,
): string | null {
  const start = r.started_at ?? r.triggered_at;
  if (start === null) return null;
  const end = r.finished_at === null ? now.getTime() : Date.parse(r.finished_at);
  const ms = end - Date.parse(start);
  if (Number.isNaN(ms)) return null;
  return r.finished_at === null ? `${displayDuration(ms)} so far` : displayDuration(ms);
}

/** The trigger JSON pretty-printed when it parses, else as stored. */
export function prettyJson(text: string | null): string | null {
  if (text === null) return null;
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
