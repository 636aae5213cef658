/**
 * One long-lived `git cat-file --batch` per repository. Requests are written in order and the
 * answers come back in the same order, so a FIFO of pending promises matches them up; a burst of
 * thousands of reads is pipelined through the one process. If git dies, pending reads are
 * rejected and the next read starts a new process. Reads started together are written together.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';

export type GitObjectType = 'blob' | 'tree' | 'commit' | 'tag';
export type GitObject = { oid: string; type: GitObjectType; size: number; content: Buffer };

type Pending = { rev: string; resolve: (o: GitObject | null) => void; reject: (e: Error) => void };
type Header = { oid: string; type: GitObjectType; size: number };

const TYPES = new Set<string>(['blob', 'tree', 'commit', 'tag']);

/** Throws unless `rev` is safe to put on one line of cat-file's stdin. */
export function assertBatchRev(rev: string): void {
  if (rev.length === 0 || /[\s\0]/.test(rev)) throw new Error(`invalid git revision ${JSON.stringify(rev)}`);
}

export class GitBatch {
  readonly #gitDir: string;
  readonly #log: Logger;
  #proc: ChildProcess | null = null;
  #pending: Pending[] = [];
  #outbox = '';
  #chunks: Buffer[] = [];
  #len = 0;
  #header: Header | null = null;
  #spawns = 0;
  #closed = false;

  constructor(gitDir: string, log: Logger) {
    this.#gitDir = gitDir;
    this.#log = log;
  }

  /** How many git processes this instance has started so far. */
  get spawnCount(): number {
    return this.#spawns;
  }

  /** Process id of the running git, if any (for tests and diagnostics). */
  get pid(): number | undefined {
    return this.#proc?.pid;
  }

  /** Reads any revision git understands (`<oid>`, `refs/x`, `<rev>:<path>`, `<rev>^{tree}`); null when missing. */
  async read(rev: string): Promise<GitObject | null> {
    assertBatchRev(rev);
    if (this.#closed) throw new Error('GitBatch is closed');
    const proc = this.#ensure();
    return new Promise<GitObject | null>((resolve, reject) => {
      this.#pending.push({ rev, resolve, reject });
      if (this.#outbox === '') queueMicrotask(() => this.#flush(proc));
      this.#outbox += rev + '\n';
    });
  }

  /**
   * Writes the revisions asked for since the last write in one go: the reads of one event, started
   * together, cost one write(2) instead of one each. A microtask, not a timer: nothing waits.
   */
  #flush(proc: ChildProcess): void {
    if (this.#proc !== proc || this.#outbox === '') return; // gone: its reads were rejected
    const out = this.#outbox;
    this.#outbox = '';
    proc.stdin?.write(out);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const proc = this.#proc;
    if (proc === null) return;
    const exited = new Promise<void>((resolve) => proc.once('close', () => resolve()));
    proc.stdin?.end();
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  #ensure(): ChildProcess {
    if (this.#proc !== null) return this.#proc;
    const proc = spawn('git', ['--git-dir', this.#gitDir, 'cat-file', '--batch'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.#spawns++;
    this.#proc = proc;
    this.#outbox = '';
    this.#chunks = [];
    this.#len = 0;
    this.#header = null;
    proc.stdout?.on('data', (chunk: Buffer) => this.#onData(chunk));
    proc.stderr?.on('data', (chunk: Buffer) =>
      this.#log.warn({ gitDir: this.#gitDir, stderr: chunk.toString().trim() }, 'git cat-file stderr'),
    );
    proc.stdin?.on('error', (err) => this.#log.debug({ err, gitDir: this.#gitDir }, 'git cat-file stdin error'));
    const onGone = (why: string): void => {
      if (this.#proc !== proc) return;
      this.#proc = null;
      const pending = this.#pending;
      this.#pending = [];
      if (pending.length > 0 || !this.#closed) {
        this.#log.warn({ gitDir: this.#gitDir, why, pending: pending.length }, 'git cat-file exited');
      }
      for (const p of pending) p.reject(new Error(`git cat-file ${why} before answering ${p.rev}`));
    };
    proc.on('error', (err) => onGone(`failed: ${err.message}`));
    proc.on('close', (code, signal) => onGone(`exited (code ${code}, signal ${signal})`));
    return proc;
  }

  #onData(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#len += chunk.length;
    for (;;) {
      if (this.#header === null) {
        const buf = this.#flatten();
        const nl = buf.indexOf(10);
        if (nl < 0) return;
        const line = buf.subarray(0, nl).toString('utf8');
        this.#keep(buf.subarray(nl + 1));
        const parts = line.split(' ');
        if (parts.length === 2 && (parts[1] === 'missing' || parts[1] === 'ambiguous')) {
          this.#pending.shift()?.resolve(null);
          continue;
        }
        const [oid, type, size] = parts;
        if (parts.length !== 3 || oid === undefined || type === undefined || !TYPES.has(type) || !/^\d+$/.test(size ?? '')) {
          this.#log.error({ gitDir: this.#gitDir, line }, 'unexpected git cat-file output; restarting');
          this.#proc?.kill('SIGKILL');
          return;
        }
        this.#header = { oid, type: type as GitObjectType, size: Number(size) };
      }
      const h = this.#header;
      if (this.#len < h.size + 1) return;
      const buf = this.#flatten();
      const content = Buffer.from(buf.subarray(0, h.size));
      this.#keep(buf.subarray(h.size + 1));
      this.#header = null;
      this.#pending.shift()?.resolve({ oid: h.oid, type: h.type, size: h.size, content });
    }
  }

  #flatten(): Buffer {
    const buf = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks, this.#len);
    this.#chunks = [buf];
    return buf;
  }

  #keep(rest: Buffer): void {
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#len = rest.length;
  }
}
