/**
 * Which adapters' runs are published as job COBs (`job_cobs` at the top level, `adapters.<name>.job_cobs`
 * winning) and the public URL of the reports (`report_url`), read from the configuration once for
 * both the publisher (what to write) and the reporter (run pages that point at their job). The
 * configuration schema gains these keys separately; until then they read as off / unset.
 */
import type { Config } from '../config/config.ts';

type JobCobSettings = {
  jobCobs?: boolean;
  reportUrl?: string | null;
  adapters: Readonly<Record<string, { jobCobs?: boolean | null }>>;
};

export type JobCobOptions = {
  /** Whether runs of this adapter are published. */
  jobCobs: (adapter: string) => boolean;
  /** The public URL `report_dir` is served at, or null. */
  reportUrl: string | null;
};

export function jobCobOptions(config: Config): JobCobOptions {
  const c = config as Config & JobCobSettings;
  return {
    jobCobs: (adapter) => c.adapters[adapter]?.jobCobs ?? c.jobCobs ?? false,
    reportUrl: c.reportUrl ?? null,
  };
}
