/**
 * A named pipe the bench adapters write one line to as they start: each line's arrival time is
 * when an adapter process began running its script. The bench keeps the pipe open for writing
 * too, so it never sees end-of-file between adapters.
 */
import { execFileSync } from 'node:child_process';
import { constants, openSync } from 'node:fs';
import net from 'node:net';

export class StartPipe {
  readonly path: string;
  #waiters: ((at: number) => void)[] = [];
  #arrived: number[] = [];

  constructor(path: string) {
    this.path = path;
    execFileSync('mkfifo', [path]);
    // Non-blocking, through libuv's pipe handle: no thread blocked on a read that never ends.
    const stream = new net.Socket({ fd: openSync(path, constants.O_RDWR | constants.O_NONBLOCK), readable: true, writable: false });
    stream.on('data', (chunk) => {
      const at = performance.now();
      for (const ch of chunk.toString()) {
        if (ch !== '\n') continue;
        const w = this.#waiters.shift();
        if (w) w(at);
        else this.#arrived.push(at);
      }
    });
    this.#stream = stream;
  }

  readonly #stream: net.Socket;

  /** When the next adapter started (performance.now() in this process). */
  next(timeoutMs = 30_000): Promise<number> {
    const at = this.#arrived.shift();
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no adapter started')), timeoutMs);
      this.#waiters.push((v) => {
        clearTimeout(t);
        resolve(v);
      });
    });
  }

  /** Forgets starts seen so far. */
  clear(): void {
    this.#arrived = [];
  }

  close(): void {
    this.#stream.destroy();
  }
}
