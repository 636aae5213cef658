/** Runs the real `cibq` executable, as an operator would. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

export const CIBQ = path.join(import.meta.dirname, '..', '..', 'bin', 'cibq');

/** The default working directory: empty, so no ./cibq.yaml is found unless a test puts one there. */
let emptyDir: string | null = null;

export async function cibq(args: string[], env: Record<string, string> = {}, input?: string, cwd?: string) {
  if (emptyDir === null) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cibq-cwd-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    emptyDir = dir;
  }
  const r = await execa(CIBQ, args, {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
    extendEnv: false,
    reject: false,
    timeout: 60_000,
    cwd: cwd ?? emptyDir,
    ...(input !== undefined ? { input } : {}),
  });
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}
