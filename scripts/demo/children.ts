/**
 * The processes the demo starts (redis-server, `cibq up`, `cibq dashboard`): each in a process
 * group of its own, so that Ctrl-C reaches only the demo, which then stops each of them exactly
 * once and in order; their output goes to a log file in the demo directory. Should the demo die,
 * whatever it started is killed with it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

export type Child = {
  name: string;
  proc: ChildProcess;
  exited: Promise<number | null>;
  /** One signal to the process; after `forceAfterMs`, SIGKILL to its whole group. Resolves once it exited. */
  stop: (signal: NodeJS.Signals, forceAfterMs: number) => Promise<void>;
};

const running = new Set<Child>();

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // gone
  }
}

// The last resort: if the demo exits for any reason, nothing it started lives on.
process.on('exit', () => {
  for (const c of running) killGroup(c.proc.pid, 'SIGKILL');
});

export function startChild(name: string, command: string, args: string[], opts: { env: NodeJS.ProcessEnv; logFile: string; cwd?: string }): Child {
  const fd = openSync(opts.logFile, 'a');
  const proc = spawn(command, args, { env: opts.env, cwd: opts.cwd, detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let exitCode: number | null = null;
  const exited = new Promise<number | null>((resolve) => {
    proc.once('error', () => resolve(null));
    proc.once('exit', (code) => {
      exitCode = code;
      resolve(code);
    });
  });
  const child: Child = {
    name,
    proc,
    exited,
    stop: async (signal, forceAfterMs) => {
      if (proc.exitCode !== null || proc.signalCode !== null || exitCode !== null) return;
      proc.kill(signal);
      const timer = setTimeout(() => killGroup(proc.pid, 'SIGKILL'), forceAfterMs);
      await exited;
      clearTimeout(timer);
      // Anything it left in its group (adapters, a watchdog) goes with it.
      killGroup(proc.pid, 'SIGKILL');
    },
  };
  running.add(child);
  void exited.then(() => running.delete(child));
  return child;
}

/** Stops every child still running, forcefully. */
export function killAll(): void {
  for (const c of running) killGroup(c.proc.pid, 'SIGKILL');
}
