/**
 * cibq's configuration: cib's YAML (reference cib.md §2–3) plus cibq's own keys.
 * Parsed once at start-up into a read-only object; nothing reads process.env afterwards.
 */
import type { Filter } from './filter.ts';

export type AdapterConfig = Readonly<{
  name: string;
  command: string;
  env: Readonly<Record<string, string>>;
  sensitiveEnv: Readonly<Record<string, string>>;
  /** Inline adapter configuration (`config`), written to a file whose path goes in `config_env`. */
  config: unknown;
  configEnv: string | null;
  /** Per-adapter time limit; defaults to max_run_time. */
  timeoutMs: number;
  /** Grace between SIGTERM and SIGKILL; defaults to the global kill_grace. */
  killGraceMs: number;
  /** Runs of this adapter at once across all workers (BullMQ global concurrency), or null for no cap. */
  concurrency: number | null;
  /** Whether a newer commit cancels older runs of this adapter; null inherits the global setting. */
  supersede: boolean | null;
}>;

export type TriggerConfig = Readonly<{
  adapter: string;
  filters: readonly Filter[];
  /** Overrides the adapter's and the global supersede setting for runs this trigger starts. */
  supersede: boolean | null;
}>;

export type Config = Readonly<{
  /** Absolute path of the file the config came from, or null. */
  path: string | null;
  /** Absolute path of the SQLite database. */
  db: string;
  /** Absolute path of the report directory, or null for no reports. */
  reportDir: string | null;
  defaultAdapter: string | null;
  adapters: Readonly<Record<string, AdapterConfig>>;
  filters: readonly Filter[];
  triggers: readonly TriggerConfig[];
  maxRunTimeMs: number;
  queueLenIntervalMs: number;
  /** A newer commit for the same repository and branch or patch cancels older runs of the same adapter. */
  supersede: boolean;
  /** Grace between SIGTERM and SIGKILL when a run is stopped (default 10s). */
  killGraceMs: number;
  /** How long a draining worker lets running runs go on before cancelling them (default max_run_time). */
  drainTimeoutMs: number;
  /** Attempts of a run whose worker was lost before it ends with error (default 2). */
  maxAttempts: number;
  /** Bytes of adapter log kept per run, head and tail (default 1 MiB). */
  logLimitBytes: number;
  /** Runs kept per repository in the database, or null to keep all. */
  keepRuns: number | null;
  /** Publish runs of private repositories in the reports (default false). */
  reportPrivate: boolean;
  redis: Readonly<{ url: string; prefix: string }>;
  node: Readonly<{ radHome: string; socket: string }>;
  /** Runs at once per worker process; how long a run stays locked to its worker without a renewal. */
  worker: Readonly<{ concurrency: number; lockDurationMs: number }>;
}>;

