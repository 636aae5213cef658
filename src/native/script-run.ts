/**
 * Running the repository's script: `bash -euo pipefail -c <script>` in the checkout, with exactly
 * the environment given, in a process group of its own, under the time limit. When the limit passes
 * (or the adapter is told to stop) the whole group gets SIGTERM, then SIGKILL after a grace period;
 * whatever the script leaves running when it exits is killed too. Should cibq-native itself be
 * killed, the group still dies: a guard in it (or bwrap's --die-with-parent) notices its parent go.
 * The script text is only ever an argument to bash, never part of a command line.
 */
import { spawn } from 'node:child_process';

/**
 * The group's first process: a guard that kills the group once fd 3 (a pipe from cibq-native)
 * closes, then the script itself. `$1` is the script; nothing is interpolated into this text.
 */
const GUARD = [
  '( read -r -u 3 _; kill -KILL 0 ) </dev/null >/dev/null 2>&1 &',
  'exec 3<&-',
  'exec bash --noprofile --norc -euo pipefail -c "$1"',
].join('\n');

export type ScriptOptions = {
  script: string;
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  killGraceMs: number;
  /** bwrap's arguments (up to `--`) to run the script sandboxed, or null to run it directly. */
  sandbox: string[] | null;
  /** stdout and stderr of the script, as they come. */
  onOutput: (chunk: Buffer) => void;
  /** Aborting stops the script like the time limit does (reason: the signal's reason). */
  signal?: AbortSignal;
};

export type ScriptOutcome = {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Why the script was stopped early by the abort signal, else null. */
  stopped: string | null;
  /** Whether it ignored SIGTERM and had to be killed. */
  forced: boolean;
  durationMs: number;
};

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // the group is gone already
  }
}

export async function runScript(o: ScriptOptions): Promise<ScriptOutcome> {
  const started = Date.now();
  const [command, args] = o.sandbox === null
    ? ['bash', ['--noprofile', '--norc', '-c', GUARD, 'cibq-native', o.script]]
    : ['bwrap', [...o.sandbox, 'bash', '--noprofile', '--norc', '-euo', 'pipefail', '-c', o.script]];
  const child = spawn(command, args, {
    cwd: o.cwd,
    env: o.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', o.sandbox === null ? 'pipe' : 'ignore'],
  });
  const st = { timedOut: false, stopped: null as string | null, forced: false, exited: false };
  let forceTimer: NodeJS.Timeout | undefined;
  const stop = (): void => {
    if (child.pid === undefined || st.exited || forceTimer !== undefined) return;
    killGroup(child.pid, 'SIGTERM');
    forceTimer = setTimeout(() => {
      st.forced = true;
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
    }, o.killGraceMs);
  };
  const limit = setTimeout(() => {
    st.timedOut = true;
    stop();
  }, Math.min(o.timeoutMs, 2 ** 31 - 1));
  const onAbort = (): void => {
    const r: unknown = o.signal?.reason;
    st.stopped = typeof r === 'string' ? r : r instanceof Error ? r.message : 'stopped';
    stop();
  };
  if (o.signal?.aborted) onAbort();
  else o.signal?.addEventListener('abort', onAbort, { once: true });

  child.stdout?.on('data', (c: Buffer) => o.onOutput(c));
  child.stderr?.on('data', (c: Buffer) => o.onOutput(c));

  const outcome = await new Promise<Omit<ScriptOutcome, 'timedOut' | 'stopped' | 'forced' | 'durationMs'>>((resolve) => {
    let streamsTimer: NodeJS.Timeout | undefined;
    child.once('error', (e: NodeJS.ErrnoException) => {
      o.onOutput(Buffer.from(`cibq-native: cannot start ${command}: ${e.code ?? e.message}\n`));
      resolve({ exitCode: null, signal: null });
    });
    child.once('exit', () => {
      st.exited = true;
      // Nothing the script started outlives it; a process that left the group and still holds
      // the output open is not waited for long.
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      child.stdio[3]?.destroy();
      streamsTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, 2000);
    });
    child.once('close', (code, signal) => {
      clearTimeout(streamsTimer);
      resolve({ exitCode: code, signal });
    });
  });
  clearTimeout(limit);
  clearTimeout(forceTimer);
  o.signal?.removeEventListener('abort', onAbort);
  return { ...outcome, timedOut: st.timedOut, stopped: st.stopped, forced: st.forced, durationMs: Date.now() - started };
}
