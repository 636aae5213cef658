/**
 * Which adapters' runs are published as job COBs (`job_cobs` at the top level, `adapters.<name>.job_cobs`
 * winning) and the public URL of the reports (`report_url`), read from the configuration once for
 * both the publisher (what to write) and the reporter (run pages that point at their job).
 */
import type { Config } from '../config/config.ts';

export type JobCobOptions = {
  /** Whether runs of this adapter are published. */
  jobCobs: (adapter: string) => boolean;
  /** The public URL `report_dir` is served at, or null. */
  reportUrl: string | null;
};

export function jobCobOptions(config: Config): JobCobOptions {
  return {
    jobCobs: (adapter) => config.adapters[adapter]?.jobCobs ?? config.jobCobs,
    reportUrl: config.reportUrl,
  };
}
