/**
 * Writing the report directory. Each file is written atomically (a temporary file in the same
 * directory, then rename), so a web server never serves half a page; a file whose content is
 * unchanged is not rewritten (its mtime stays). Every path is relative to the report directory and
 * is refused if any segment is empty, `.` or `..`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rmdir, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export type Output = {
  readonly dir: string;
  /** Files written (created or changed), relative to dir. */
  readonly written: string[];
  /** Files removed, relative to dir. */
  readonly removed: string[];
  /** Every file this pass produced, written or found unchanged. */
  readonly produced: Set<string>;
  readonly madeDirs: Set<string>;
};

export function newOutput(dir: string): Output {
  return { dir, written: [], removed: [], produced: new Set(), madeDirs: new Set() };
}

function checked(rel: string): string {
  if (rel.split('/').some((s) => s === '' || s === '.' || s === '..' || s.includes('\\') || s.includes('\0'))) {
    throw new Error(`refusing report path ${JSON.stringify(rel)}`);
  }
  return rel;
}

/** Writes `content` to `rel` unless it already has exactly that content. */
export async function put(out: Output, rel: string, content: string): Promise<void> {
  const path = join(out.dir, checked(rel));
  out.produced.add(rel);
  const parent = dirname(path);
  if (!out.madeDirs.has(parent)) {
    await mkdir(parent, { recursive: true });
    out.madeDirs.add(parent);
  }
  const existing = await readFile(path, 'utf8').catch(() => null);
  if (existing === content) return;
  const tmp = join(parent, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    await writeFile(tmp, content, 'utf8');
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  out.written.push(rel);
}

/** Removes `rel` if it exists. */
export async function drop(out: Output, rel: string): Promise<void> {
  try {
    await unlink(join(out.dir, checked(rel)));
    out.removed.push(rel);
  } catch {
    // already gone
  }
}

/** Removes the list pages of `dirRel` beyond `pages` (all of them, and the dir if empty, when 0). */
export async function dropPagesBeyond(out: Output, dirRel: string, pages: number): Promise<void> {
  const names = await readdir(join(out.dir, checked(dirRel))).catch(() => [] as string[]);
  for (const name of names) {
    const m = /^page-(\d+)\.html$/.exec(name);
    const n = name === 'index.html' ? 1 : m === null ? null : Number(m[1]);
    if (n !== null && n > pages) await drop(out, `${dirRel}/${name}`);
  }
  if (pages === 0) await rmdir(join(out.dir, dirRel)).catch(() => undefined);
}

/** Recursively removes files under `sub` that this pass did not produce, and then-empty directories. */
export async function removeUnproduced(out: Output, sub: string): Promise<void> {
  const walk = async (rel: string): Promise<boolean> => {
    const entries = await readdir(join(out.dir, rel), { withFileTypes: true }).catch(() => null);
    if (entries === null) return false;
    let empty = true;
    for (const e of entries) {
      const child = `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (await walk(child)) await rmdir(join(out.dir, child)).catch(() => undefined);
        else empty = false;
      } else if (!out.produced.has(child)) {
        await drop(out, child);
      } else {
        empty = false;
      }
    }
    return empty;
  };
  await walk(checked(sub));
}
