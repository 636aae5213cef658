/**
 * One attempt of a run, as the worker that holds it tracks it: how to stop it, whether the worker
 * still holds its lock, and the adapter's process group while it runs.
 */
/** One attempt of a run held by this worker (it holds one of the worker's slots until it ends). */
export type Attempt = {
  runId: string;
  adapter: string;
  /** BullMQ's lock token of this attempt. */
  token: string;
  since: string;
  /** Aborted to stop the run: cancel, supersede, drain timeout, or loss of the lock. */
  controller: AbortController;
  /**
   * `held` while the worker holds the run's lock; `lost` once it no longer does (this attempt
   * must then not report a result: another attempt will).
   */
  lock: 'held' | 'lost';
  /** The adapter's process group, while it runs. */
  pgid: number | null;
};
