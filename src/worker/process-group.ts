/**
 * An adapter process in a process group of its own, started with nothing but
 * `child_process.spawn` (no shell, no wrapper library): starting a run costs what a bare spawn
 * costs. Signals go to the whole group, so an adapter's descendants stop with it. Groups still
 * alive when this process exits get SIGTERM (the orphan watchdog sends SIGKILL after the grace).
 */
import { spawn, type ChildProcess } from 'node:child_process';

export type GroupEnd = {
  /** Null if killed by a signal or never started. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the command could not be started (ENOENT, EACCES, …). */
  spawnError: NodeJS.ErrnoException | null;
};

export type ProcessGroup = {
  readonly process: ChildProcess;
  /** True once the group leader (the adapter) has exited. */
  readonly exited: boolean;
  /** Resolves when the adapter has exited (its output may still be open). */
  readonly exit: Promise<void>;
  /** Resolves when the adapter has exited and its stdout and stderr are closed (or it never started). */
  readonly closed: Promise<GroupEnd>;
  /** Signals the whole group; false if there is none (never started, or every member is gone). */
  kill(signal: NodeJS.Signals): boolean;
};

/** Groups of adapters this process started and that have not exited yet. */
const live = new Set<number>();
let exitHook = false;

function killLiveOnExit(): void {
  for (const pgid of live) {
    try {
      process.kill(-pgid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

/** Starts `command` (no arguments, no shell) with exactly `env`, in its own process group. */
export function spawnGroup(command: string, env: Readonly<Record<string, string>>): ProcessGroup {
  if (!exitHook) {
    exitHook = true;
    process.once('exit', killLiveOnExit);
  }
  const child = spawn(command, [], { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true, shell: false });
  const pid = child.pid;
  if (pid !== undefined) live.add(pid);
  child.stdin?.on('error', () => {}); // EPIPE: the adapter exited without reading its message
  let exited = pid === undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      if (pid !== undefined) live.delete(pid);
      resolve();
    });
    if (pid === undefined) resolve();
  });
  const closed = new Promise<GroupEnd>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (pid === undefined) resolve({ exitCode: null, signal: null, spawnError: err });
    });
    child.once('close', (code, signal) => resolve({ exitCode: code, signal, spawnError: null }));
  });
  return {
    process: child,
    get exited() {
      return exited;
    },
    exit,
    closed,
    kill(signal) {
      if (pid === undefined) return false;
      try {
        return process.kill(-pid, signal);
      } catch {
        // The group is gone (or not ours to signal): fall back to the adapter itself.
        return child.kill(signal);
      }
    },
  };
}
