/**
 * A counting semaphore without waiting: the worker process's total concurrency across its adapter
 * queues. A run that finds no free slot is not held (it goes back to its queue for another worker),
 * so there is nothing to wait for; `onChange` tells the worker when to stop and resume fetching.
 */
export class Semaphore {
  #free: number;
  readonly #onChange: (available: number) => void;

  constructor(size: number, onChange: (available: number) => void = () => {}) {
    this.#free = size;
    this.#onChange = onChange;
  }

  /** A release function (idempotent) if a slot is free now, else null. */
  tryAcquire(): (() => void) | null {
    if (this.#free <= 0) return null;
    this.#free--;
    this.#onChange(this.#free);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#free++;
      this.#onChange(this.#free);
    };
  }

  get available(): number {
    return this.#free;
  }
}
