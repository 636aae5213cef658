/**
 * Adapters run in process groups of their own, so a worker killed with SIGKILL cannot take them
 * down itself. GroupWatchdog starts a tiny companion process (watchdog-main.ts) that holds a pipe
 * from this process and kills the listed adapter groups as soon as that pipe closes: an adapter
 * outlives a crashed worker by at most its kill grace.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';

const PROGRAM = new URL('./watchdog-main.ts', import.meta.url).pathname;

export class GroupWatchdog {
  readonly #log: Logger;
  readonly #groups = new Map<number, number>();
  #proc: ChildProcess | null = null;
  #closed = false;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** The watchdog's pid (tests), or null when it is not running. */
  get pid(): number | null {
    return this.#proc?.pid ?? null;
  }

  start(): void {
    if (this.#closed || this.#proc) return;
    const proc = spawn(process.execPath, ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', PROGRAM], {
      stdio: ['pipe', 'ignore', 'ignore'],
      // Its own process group: a Ctrl-C or a signal to the worker's group does not reach it.
      detached: true,
    });
    this.#proc = proc;
    proc.on('error', (err) => this.#log.warn({ err: { message: err.message } }, 'orphan watchdog failed to start'));
    proc.stdin?.on('error', () => {}); // EPIPE after it died; the exit handler restarts it
    proc.once('exit', (code, signal) => {
      if (this.#proc === proc) this.#proc = null;
      if (this.#closed) return;
      this.#log.warn({ code, signal }, 'orphan watchdog exited; restarting it');
      this.start();
      for (const [pgid, grace] of this.#groups) this.#write(`+${pgid} ${grace}`);
    });
    proc.unref();
    (proc.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  }

  watch(pgid: number, graceMs: number): void {
    const grace = Math.max(0, Math.round(graceMs));
    this.#groups.set(pgid, grace);
    this.#write(`+${pgid} ${grace}`);
  }

  unwatch(pgid: number): void {
    if (this.#groups.delete(pgid)) this.#write(`-${pgid}`);
  }

  /** Ends the watchdog (it finds no group left to kill). */
  close(): void {
    this.#closed = true;
    this.#proc?.stdin?.end();
    this.#proc = null;
  }

  #write(line: string): void {
    const stdin = this.#proc?.stdin;
    if (stdin && !stdin.destroyed) stdin.write(`${line}\n`);
  }
}
