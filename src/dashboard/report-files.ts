/**
 * The static reports (report_dir) under `/reports/`: files as they are, `index.html` for a
 * directory, never a directory listing, nothing outside report_dir (no `..`, no symlink out of it)
 * and no dot-files (the reporter's half-written temporaries).
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Context } from 'hono';
import { getMimeType } from 'hono/utils/mime';

export const REPORTS_PATH = '/reports/';

/** The file below `root` that a request path names, or null if it names none that may be served. */
export function reportFilePath(root: string, urlPath: string): string | null {
  if (!urlPath.startsWith(REPORTS_PATH)) return null;
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath.slice(REPORTS_PATH.length));
  } catch {
    return null;
  }
  if (rel.includes('\0') || rel.includes('\\')) return null;
  const segments = rel.split('/');
  // Empty segments only at the end (a directory); ".", ".." and dot-files never.
  if (segments.some((s, i) => (s === '' && i !== segments.length - 1) || s.startsWith('.'))) return null;
  const file = path.resolve(root, ...segments);
  return file === root || file.startsWith(`${root}${path.sep}`) ? file : null;
}

async function within(root: string, file: string): Promise<boolean> {
  try {
    const [r, f] = await Promise.all([realpath(root), realpath(file)]);
    return f === r || f.startsWith(`${r}${path.sep}`);
  } catch {
    return false;
  }
}

async function statOrNull(file: string) {
  try {
    return await stat(file);
  } catch {
    return null;
  }
}

/** A Hono handler for `/reports/*`; `reportDir` null means reports are not configured. */
export function reportFiles(reportDir: string | null) {
  const root = reportDir === null ? null : path.resolve(reportDir);
  return async (c: Context): Promise<Response> => {
    if (root === null) return c.text('no report_dir is configured, so there are no reports\n', 404);
    let file = reportFilePath(root, c.req.path);
    if (file === null) return c.text('not found\n', 404);
    let st = await statOrNull(file);
    if (st?.isDirectory()) {
      // Relative links in the pages need the trailing slash.
      if (!c.req.path.endsWith('/')) return c.redirect(`${c.req.path}/`, 301);
      file = path.join(file, 'index.html');
      st = await statOrNull(file);
    }
    if (!st?.isFile() || !(await within(root, file))) {
      const what = c.req.path === REPORTS_PATH ? 'no reports yet: the reporter has not written any\n' : 'not found\n';
      return c.text(what, 404);
    }
    const body = await readFile(file);
    return c.body(body, 200, {
      'Content-Type': getMimeType(file) ?? 'application/octet-stream',
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
    });
  };
}
