/**
 * Where each report file lives, as a path relative to the report directory, and how one page links
 * to another. Every path segment that comes from a peer (branch names, patch ids, run ids, rids) is
 * validated or encoded here so that no name can point outside its directory:
 *
 *   index.html, status.json, style.css
 *   runs/<run id>.html
 *   repos/<rid without rad:>/index.html, page-1.html, page-2.html, …, runs.json
 *   repos/<rid>/branches/<branch slug>/index.html, page-1.html, …
 *   repos/<rid>/patches/<patch id>/index.html, page-1.html, …
 *   (page-1.html holds the 50 oldest runs, page-2.html the next 50, …; index.html shows the newest page)
 *   badges/<rid>/<branch>.svg, one directory per `/` in the branch (see branchSegments)
 */
import { createHash } from 'node:crypto';

const RID = /^rad:(z[1-9A-HJ-NP-Za-km-z]+)$/;
const PATCH_ID = /^[0-9A-Za-z]{1,64}$/;
const MAX_SLUG = 180;

/** Runs per list page. */
export const PAGE_SIZE = 50;

export { runFileName, runPagePath } from '../../model/run-page.ts';

/** The directory name of a repository (`<rid without rad:>`), or null for a malformed rid. */
export function repoDirName(rid: string): string | null {
  const m = RID.exec(rid);
  return m?.[1] ?? null;
}

/**
 * One path segment naming a branch: letters, digits, `_`, `-` and `.` stay as they are (`main`,
 * `v1.2`); every other byte, a leading `.` included, becomes `%XX` (`feature/x` → `feature%2Fx`).
 * The encoding is one-to-one, so two branches never share a file. A name too long for a file
 * becomes `~` and a hash (`~` is always encoded otherwise, so these cannot collide either).
 */
export function branchSlug(branch: string): string {
  let out = '';
  for (const byte of Buffer.from(branch, 'utf8')) {
    const c = String.fromCharCode(byte);
    const keep = /[A-Za-z0-9_-]/.test(c) || (c === '.' && out !== '');
    out += keep ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  if (out === '') return '%';
  if (out.length > MAX_SLUG) return `~${createHash('sha256').update(branch).digest('hex').slice(0, 32)}`;
  return out;
}

/** The directory name of a patch's pages, or null for an id unsafe in a path. */
export function patchDirName(patch: string): string | null {
  return PATCH_ID.test(patch) ? patch : null;
}

/** A list's index.html (its newest runs), or its stable page `page` (1 holds the oldest runs). */
function listPage(dir: string, page?: number): string {
  return page === undefined ? `${dir}/index.html` : `${dir}/page-${page}.html`;
}

export function repoDirPath(rid: string): string | null {
  const d = repoDirName(rid);
  return d === null ? null : `repos/${d}`;
}

export function repoPagePath(rid: string, page?: number): string | null {
  const d = repoDirPath(rid);
  return d === null ? null : listPage(d, page);
}

export function repoJsonPath(rid: string): string | null {
  const d = repoDirPath(rid);
  return d === null ? null : `${d}/runs.json`;
}

export function branchDirPath(rid: string, branch: string): string | null {
  const d = repoDirPath(rid);
  return d === null ? null : `${d}/branches/${branchSlug(branch)}`;
}

export function branchPagePath(rid: string, branch: string, page?: number): string | null {
  const d = branchDirPath(rid, branch);
  return d === null ? null : listPage(d, page);
}

export function patchDirPath(rid: string, patch: string): string | null {
  const d = repoDirPath(rid);
  const p = patchDirName(patch);
  return d === null || p === null ? null : `${d}/patches/${p}`;
}

export function patchPagePath(rid: string, patch: string, page?: number): string | null {
  const d = patchDirPath(rid, patch);
  return d === null ? null : listPage(d, page);
}

/**
 * A branch as nested path segments, one per `/`-separated component, so that `feature/x` is
 * `feature/x`. Each component is encoded like branchSlug (which leaves a name made of letters,
 * digits, `_`, `-` and inner `.` as it is, and encodes an empty, `.`, `..` or dot-led component).
 * A component that is not the last and ends in `.svg` gets its dot encoded, so that no directory
 * has the name of another branch's badge file (`a.svg/b` and `a`).
 */
export function branchSegments(branch: string): string {
  const parts = branch.split('/');
  return parts
    .map((part, i) => {
      const slug = branchSlug(part);
      return i < parts.length - 1 && slug.endsWith('.svg') ? `${slug.slice(0, -4)}%2Esvg` : slug;
    })
    .join('/');
}

/** `badges/<rid>/<branch>.svg`, the branch in nested directories (`badges/<rid>/feature/x.svg`). */
export function badgePath(rid: string, branch: string): string | null {
  const d = repoDirName(rid);
  return d === null ? null : `badges/${d}/${branchSegments(branch)}.svg`;
}

/** The URL path of a report file below the report's base URL (each segment URL-encoded). */
export function urlPath(path: string | null): string | null {
  return path === null ? null : path.split('/').map(encodeURIComponent).join('/');
}

/** `../` once per directory `fromPath` is in: the way back to the report root. */
export function rootOf(fromPath: string): string {
  return '../'.repeat(fromPath.split('/').length - 1);
}

/** A relative URL from the page at `fromPath` to the file at `toPath` (each segment URL-encoded). */
export function href(fromPath: string, toPath: string | null): string | null {
  if (toPath === null) return null;
  const from = fromPath.split('/').slice(0, -1);
  const to = toPath.split('/');
  let common = 0;
  while (common < from.length && common < to.length - 1 && from[common] === to[common]) common++;
  return '../'.repeat(from.length - common) + to.slice(common).map(encodeURIComponent).join('/');
}
