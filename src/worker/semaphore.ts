/** A counting semaphore: the worker process's total concurrency across its adapter queues. */
export class Semaphore {
  #free: number;
  readonly #waiters: (() => void)[] = [];

  constructor(size: number) {
    this.#free = size;
  }

  /** A release function once a slot is free, or null if `signal` aborts first (no slot taken). */
  async acquire(signal?: AbortSignal): Promise<(() => void) | null> {
    if (signal?.aborted) return null;
    if (this.#free > 0) this.#free--;
    else {
      const got = await new Promise<boolean>((resolve) => {
        const waiter = (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve(true);
        };
        const onAbort = (): void => {
          const i = this.#waiters.indexOf(waiter);
          if (i >= 0) this.#waiters.splice(i, 1);
          resolve(false);
        };
        this.#waiters.push(waiter);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      if (!got) return null;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiters.shift();
      if (next) next();
      else this.#free++;
    };
  }

  get available(): number {
    return this.#free;
  }
}
