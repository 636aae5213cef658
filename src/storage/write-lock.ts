/**
 * One writer at a time per repository: an in-process queue plus a lock file in the repository
 * (`cibq-write.lock`, created exclusively, holding the owner's pid), so that two cibq processes
 * never write the same namespace at once. A lock left by a process that died (SIGKILL) is taken
 * over. Writers outside cibq (`rad`) do not take this lock; compare-and-swap on every ref catches them.
 */
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

const chains = new Map<string, Promise<unknown>>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function acquireFile(path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && !alive(owner)) {
      await rm(path, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`another writer holds ${path} (pid ${owner || 'unknown'})`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Runs `fn` while holding the write lock of the repository at `gitDir`. */
export async function withWriteLock<T>(gitDir: string, fn: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const prev = chains.get(gitDir) ?? Promise.resolve();
  const run = prev.catch(() => undefined).then(async () => {
    const path = join(gitDir, 'cibq-write.lock');
    await acquireFile(path, timeoutMs);
    try {
      return await fn();
    } finally {
      await rm(path, { force: true });
    }
  });
  chains.set(gitDir, run);
  try {
    return await run;
  } finally {
    if (chains.get(gitDir) === run) chains.delete(gitDir);
  }
}
