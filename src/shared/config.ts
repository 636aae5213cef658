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
}>;

export type TriggerConfig = Readonly<{ adapter: string; filters: readonly Filter[] }>;

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
  redis: Readonly<{ url: string; prefix: string }>;
  node: Readonly<{ radHome: string; socket: string }>;
  worker: Readonly<{ concurrency: number }>;
}>;

