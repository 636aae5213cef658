/**
 * Whether a command can be started on this machine, found as the worker's spawn finds it (no
 * shell): a name with a `/` is a path (relative to the working directory), a bare name is looked
 * up on PATH. Used to warn about adapters whose command is missing before a run fails on it.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

export type Lookup = { ok: true; path: string } | { ok: false; problem: string };

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function findExecutable(command: string, pathEnv: string | undefined, cwd: string): Lookup {
  if (command.includes('/')) {
    const path = resolve(cwd, command);
    try {
      statSync(path);
    } catch {
      return { ok: false, problem: `${path} does not exist` };
    }
    return executable(path) ? { ok: true, path } : { ok: false, problem: `${path} is not an executable file` };
  }
  for (const dir of (pathEnv ?? '').split(delimiter)) {
    if (dir === '') continue;
    const path = join(dir, command);
    if (executable(path)) return { ok: true, path };
  }
  return { ok: false, problem: `${command} is not found on PATH` };
}
