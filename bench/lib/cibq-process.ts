/**
 * A cibq process started the way an operator starts it (`bin/cibq <command>`), for the bench: its
 * JSON log goes to a file (so logging costs the process what it costs in production, not a pipe
 * read by the bench), the bench can wait for a log message, and read the process's peak resident
 * set size (VmHWM) before stopping it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';

export const CIBQ = path.join(import.meta.dirname, '..', '..', 'bin', 'cibq');

export class CibqProcess {
  readonly name: string;
  readonly logFile: string;
  readonly #proc: ChildProcess;
  readonly #exited: Promise<number | null>;
  #logOffset = 0;
  #logText = '';

  private constructor(name: string, proc: ChildProcess, logFile: string) {
    this.name = name;
    this.#proc = proc;
    this.logFile = logFile;
    this.#exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
  }

  static start(name: string, args: string[], opts: { env: Record<string, string>; logFile: string; extraNodeArgs?: string[] }): CibqProcess {
    const fd = openSync(opts.logFile, 'a');
    const env = { ...opts.env, ...(opts.extraNodeArgs ? { NODE_OPTIONS: opts.extraNodeArgs.join(' ') } : {}) };
    const proc = spawn(CIBQ, args, { env, stdio: ['ignore', 'ignore', fd] });
    closeSync(fd);
    return new CibqProcess(name, proc, opts.logFile);
  }

  get pid(): number {
    if (this.#proc.pid === undefined) throw new Error(`${this.name} did not start`);
    return this.#proc.pid;
  }

  /** Peak resident set size so far, in bytes (Linux VmHWM). */
  peakRss(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const m = /^VmHWM:\s+(\d+) kB/m.exec(status);
    if (m === null) throw new Error(`no VmHWM for ${this.name}`);
    return Number(m[1]) * 1024;
  }

  /** Current resident set size, in bytes. */
  rss(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return m === null ? 0 : Number(m[1]) * 1024;
  }

  /** The first log line (parsed) with `msg` (or one of them) not yet returned, waiting until there is one. */
  async waitForLog(msg: string | readonly string[], timeoutMs = 120_000, pollMs = 20): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    const needles = (typeof msg === 'string' ? [msg] : msg).map((m) => `"msg":${JSON.stringify(m)}`);
    for (;;) {
      await this.#readLog();
      const found = needles.map((n) => this.#logText.indexOf(n)).filter((i) => i >= 0);
      const at = found.length === 0 ? -1 : Math.min(...found);
      if (at >= 0) {
        const start = this.#logText.lastIndexOf('\n', at) + 1;
        const end = this.#logText.indexOf('\n', at);
        const line = this.#logText.slice(start, end < 0 ? undefined : end);
        this.#logText = end < 0 ? '' : this.#logText.slice(end + 1);
        return JSON.parse(line) as Record<string, unknown>;
      }
      if (this.#proc.exitCode !== null) throw new Error(`${this.name} exited (${this.#proc.exitCode}) before logging "${String(msg)}"; see ${this.logFile}`);
      if (Date.now() > deadline) throw new Error(`${this.name} did not log "${String(msg)}" within ${timeoutMs} ms; see ${this.logFile}`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  async #readLog(): Promise<void> {
    const fh = await open(this.logFile, 'r');
    try {
      const buf = Buffer.alloc(1 << 20);
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, this.#logOffset);
        if (bytesRead === 0) break;
        this.#logOffset += bytesRead;
        this.#logText += buf.subarray(0, bytesRead).toString('utf8');
        // Keep only the tail: the bench waits for messages logged after it starts waiting.
        if (this.#logText.length > 4 << 20) this.#logText = this.#logText.slice(-(1 << 20));
      }
    } finally {
      await fh.close();
    }
  }

  /** Graceful stop (SIGTERM); SIGKILL after `forceAfterMs`. Resolves with the exit code. */
  async stop(forceAfterMs = 30_000): Promise<number | null> {
    if (this.#proc.exitCode !== null || this.#proc.signalCode !== null) return this.#proc.exitCode;
    this.#proc.kill('SIGTERM');
    const t = setTimeout(() => this.#proc.kill('SIGKILL'), forceAfterMs);
    const code = await this.#exited;
    clearTimeout(t);
    return code;
  }
}
