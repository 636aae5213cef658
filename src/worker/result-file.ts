/**
 * The per-run file an adapter may write its report to (`CIBQ_RESULT_FILE`, issue 9): a fresh private
 * directory per attempt, so no run reads another's report. After the adapter exits the file is read
 * once and parsed at the boundary; a missing file means "no report", invalid JSON or a wrong shape
 * is logged and ignored — the run's result never depends on it. The directory is then removed.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { keptReport, RunReport } from '../model/run-report.ts';
import { parseJson } from '../util/parse-json.ts';

const MAX_BYTES = 4 * 1024 * 1024;

export type ResultFile = {
  /** The path given to the adapter as CIBQ_RESULT_FILE. */
  path: string;
  /** Reads and parses the report (null when absent or invalid) and removes the directory. */
  collect: (log: Logger) => Promise<RunReport | null>;
};

export async function createResultFile(): Promise<ResultFile> {
  const dir = await mkdtemp(join(tmpdir(), 'cibq-result-'));
  const path = join(dir, 'result.json');
  return {
    path,
    collect: async (log) => {
      try {
        let text: string;
        try {
          text = await readFile(path, 'utf8');
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ code: (e as NodeJS.ErrnoException).code }, 'cannot read CIBQ_RESULT_FILE; ignored');
          return null;
        }
        if (Buffer.byteLength(text) > MAX_BYTES) {
          log.warn({ bytes: Buffer.byteLength(text) }, 'CIBQ_RESULT_FILE is too large; ignored');
          return null;
        }
        const r = parseJson(RunReport, text);
        if (!r.success) {
          log.warn({ problem: z.prettifyError(r.error) }, 'CIBQ_RESULT_FILE is not a valid report; ignored');
          return null;
        }
        return keptReport(r.data);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
