/**
 * What a run leaves for others to check: `result.json` in the run directory, and the same JSON in
 * the file named by CIBQ_RESULT_FILE when the broker sets it (cibq's worker reads it for the run's
 * attestation: artifacts with their digests, the log's digest, the run spec's blob). Brokers that
 * set no such variable (cib) lose nothing: the run directory has it all.
 */
import { writeFile } from 'node:fs/promises';
import type { Artifact } from './artifacts.ts';

export const RESULT_FILE_ENV = 'CIBQ_RESULT_FILE';

export type RunResultFile = {
  version: 1;
  adapter: { name: 'cibq-native'; version: string };
  /** The same version where cibq's worker reads it (src/model/run-report.ts). */
  adapter_version: string;
  run_id: string;
  repository: string;
  commit: string;
  /** `error` when the adapter could not run the commit's CI at all (no `finished` line then). */
  result: 'success' | 'failure' | 'error';
  reason: string | null;
  exit_code: number | null;
  timed_out: boolean;
  sandbox: { kind: 'bwrap' | 'none'; network: boolean };
  /** The run spec that ran: its path and git blob id in the commit. */
  runspec: { path: string; git_blob: string } | null;
  source_date_epoch: number | null;
  started_at: string;
  finished_at: string;
  duration_ms: number;
  /** log.txt: where it is served (null without base_url), its sha256 and size. */
  log: { url: string | null; info_url: string | null; sha256: string; size: number };
  artifacts: Artifact[];
};

/** Writes the JSON (pretty, one trailing newline) to each path; the run directory's first. */
export async function writeResult(result: RunResultFile, paths: readonly string[]): Promise<void> {
  const text = `${JSON.stringify(result, null, 2)}\n`;
  for (const p of paths) await writeFile(p, text, { mode: 0o644 });
}
