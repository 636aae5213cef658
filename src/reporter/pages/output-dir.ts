/**
 * Writing the report directory. Each file is written atomically (a temporary file in the same
 * directory, then rename; no fsync: a page lost to a power cut is written again), so a web server
 * never serves half a page; a file whose content is unchanged is not rewritten (its mtime stays).
 * Every path is relative to the report directory and is refused if any segment is empty, `.` or `..`.
 * Files are small, so they are written with synchronous calls (no thread-pool round trip per file);
 * callers writing many yield to the event loop between batches.
 */
import { mkdirSync, opendirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, type Dir } from 'node:fs';
import { opendir, readdir, rmdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Temporary file names: unique per process (the pid) and per write (the counter). */
let tmpCounter = 0;

export type Output = {
  readonly dir: string;
  /** Files written (created or changed), relative to dir. */
  readonly written: string[];
  /** Files removed, relative to dir. */
  readonly removed: string[];
  /** Every file this pass produced, written or found unchanged. */
  readonly produced: Set<string>;
  readonly madeDirs: Set<string>;
  /** When this pass began (ms since the epoch): files changed since were written by someone else. */
  readonly startedAt: number;
  /**
   * Directories (relative) that were missing or empty when this pass began: a file in one exists
   * only if this pass wrote it, so writing it needs no look at the old file (a full regeneration
   * into an empty report dir makes no stat call per run). A file another writer puts there meanwhile
   * is replaced or kept as removeUnproduced would.
   */
  readonly freshDirs: Set<string>;
};

export function newOutput(dir: string): Output {
  return { dir, written: [], removed: [], produced: new Set(), madeDirs: new Set(), startedAt: Date.now(), freshDirs: new Set() };
}

/** Records `dirRel` as fresh (see Output.freshDirs) if it is missing or empty now. */
export function markIfFresh(out: Output, dirRel: string): void {
  let d: Dir | null = null;
  try {
    d = opendirSync(join(out.dir, checked(dirRel)));
    if (d.readSync() === null) out.freshDirs.add(dirRel);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') out.freshDirs.add(dirRel);
  } finally {
    d?.closeSync();
  }
}

/** Whether `rel` may exist without this pass having written it. */
function mayExist(out: Output, rel: string): boolean {
  const slash = rel.lastIndexOf('/');
  return !(slash > 0 && out.freshDirs.has(rel.slice(0, slash)) && !out.produced.has(rel));
}

function checked(rel: string): string {
  if (rel.split('/').some((s) => s === '' || s === '.' || s === '..' || s.includes('\\') || s.includes('\0'))) {
    throw new Error(`refusing report path ${JSON.stringify(rel)}`);
  }
  return rel;
}

/** Whether the file at `path` has exactly `content` (its size is compared first). */
function hasContent(path: string, content: string): boolean {
  const st = statSync(path, { throwIfNoEntry: false });
  if (st === undefined || st.size !== Buffer.byteLength(content, 'utf8')) return false;
  try {
    return readFileSync(path, 'utf8') === content;
  } catch {
    return false;
  }
}

/** Writes `content` to `rel` unless it already has exactly that content. */
export function putSync(out: Output, rel: string, content: string): void {
  const path = join(out.dir, checked(rel));
  const fresh = !mayExist(out, rel);
  out.produced.add(rel);
  const parent = dirname(path);
  if (!out.madeDirs.has(parent)) {
    mkdirSync(parent, { recursive: true });
    out.madeDirs.add(parent);
  }
  if (!fresh && hasContent(path, content)) return;
  const tmp = join(parent, `.tmp-${process.pid}-${(tmpCounter++).toString(36)}`);
  try {
    try {
      writeFileSync(tmp, content, 'utf8');
    } catch (e) {
      // Another writer (`cibq report` next to the reporter) may have removed the directory as empty.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      mkdirSync(parent, { recursive: true });
      writeFileSync(tmp, content, 'utf8');
    }
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // never written
    }
    throw e;
  }
  out.written.push(rel);
}

/**
 * Writing pages is synchronous (no thread-pool round trip per file), so a long run of writes would
 * hold the event loop that `cibq up` shares with the worker and the producer: an adapter waiting to
 * start would wait for the whole page flush. The awaiting writers give the loop back every SLICE_MS.
 */
const SLICE_MS = 4;
let sliceStart = performance.now();

async function yieldIfLong(): Promise<void> {
  if (performance.now() - sliceStart < SLICE_MS) return;
  await new Promise<void>((resolve) => setImmediate(resolve));
  sliceStart = performance.now();
}

/** `putSync` for callers that await; gives the event loop back now and then (see SLICE_MS). */
export async function put(out: Output, rel: string, content: string): Promise<void> {
  putSync(out, rel, content);
  await yieldIfLong();
}

/** Removes `rel` if it exists. */
export function dropSync(out: Output, rel: string): void {
  const path = join(out.dir, checked(rel));
  // (a missing file, the usual case, costs no exception, and in a fresh directory no call at all)
  if (!mayExist(out, rel) || statSync(path, { throwIfNoEntry: false }) === undefined) return;
  try {
    unlinkSync(path);
    out.removed.push(rel);
  } catch {
    // already gone
  }
}

/** `dropSync` for callers that await; gives the event loop back now and then. */
export async function drop(out: Output, rel: string): Promise<void> {
  dropSync(out, rel);
  await yieldIfLong();
}

/** The numbers N of the `page-N.html` files in `dirRel`. */
export async function existingPages(out: Output, dirRel: string): Promise<number[]> {
  const names = await readdir(join(out.dir, checked(dirRel))).catch(() => [] as string[]);
  return names.flatMap((name) => {
    const m = /^page-([1-9]\d*)\.html$/.exec(name);
    return m === null ? [] : [Number(m[1])];
  });
}

/** Removes `dirRel` if it is empty. */
export async function removeDirIfEmpty(out: Output, dirRel: string): Promise<void> {
  await rmdir(join(out.dir, checked(dirRel))).catch(() => undefined);
}

/**
 * Removes the files under `sub` that are stale: not produced by this pass, and last changed
 * before it began. Another process writing the same directory at the same time (the reporter
 * while `cibq report` runs) keeps its files: a file changed since this pass began may show a run
 * this pass did not see, and dot-files (temporary files being written) are never touched.
 * Directories left empty are removed.
 */
export async function removeUnproduced(out: Output, sub: string): Promise<void> {
  const walk = async (rel: string): Promise<boolean> => {
    // Streamed: runs/ holds a few files per run, too many to list at once.
    const entries = await opendir(join(out.dir, rel), { bufferSize: 256 }).catch(() => null);
    if (entries === null) return false;
    let empty = true;
    for await (const e of entries) {
      const child = `${rel}/${e.name}`;
      if (e.name.startsWith('.')) {
        empty = false;
      } else if (e.isDirectory()) {
        if (await walk(child)) await rmdir(join(out.dir, child)).catch(() => undefined);
        else empty = false;
      } else if (out.produced.has(child) || !(await changedBefore(out, child))) {
        empty = false;
      } else {
        await drop(out, child);
      }
    }
    return empty;
  };
  await walk(checked(sub));
}

async function changedBefore(out: Output, rel: string): Promise<boolean> {
  const st = await stat(join(out.dir, rel)).catch(() => null);
  return st !== null && st.mtimeMs < out.startedAt;
}
