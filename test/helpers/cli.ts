/** Runs the real `cibq` executable, as an operator would. */
import path from 'node:path';
import { execa } from 'execa';

export const CIBQ = path.join(import.meta.dirname, '..', '..', 'bin', 'cibq');

export async function cibq(args: string[], env: Record<string, string> = {}, input?: string) {
  const r = await execa(CIBQ, args, {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
    extendEnv: false,
    reject: false,
    timeout: 60_000,
    ...(input !== undefined ? { input } : {}),
  });
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}
