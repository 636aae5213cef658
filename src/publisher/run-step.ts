/**
 * What a run update means for the run's job COB: the adapter's report that the run started is a
 * `Run` (log = the adapter's info_url when it is an http(s) URL, else the run's page under
 * `report_url`); the end of the run is `Finished` — `Succeeded` for success, `Failed` for every other
 * end (failure, timeout, error, cancelled, superseded: the run's page says which). Queued, triggered
 * and live-log updates change nothing in the job.
 */
import type { RunUpdate } from '../model/run.ts';
import { runPageUrl } from '../model/run-page.ts';
import { jobLogUrl, UUID, type JobReason } from '../storage/job-action.ts';
import type { RunStep } from '../storage/job-store.ts';

export type PublisherOptions = {
  /** Whether runs of this adapter are published (`adapters.<name>.job_cobs`, else `job_cobs`). */
  jobCobs: (adapter: string) => boolean;
  /** The public URL report_dir is served at (`report_url`), or null. */
  reportUrl: string | null;
  /** Whether the adapter runs the commit's `.radicle/native.yaml` (its gitBlob is attested). */
  runsNativeConfig?: (adapter: string) => boolean;
};

export type StepDecision = { kind: 'publish'; step: RunStep } | { kind: 'skip'; why: string | null };

export function runStep(u: RunUpdate, opts: PublisherOptions): StepDecision {
  const s = u.subject;
  if (!opts.jobCobs(s.adapter)) return { kind: 'skip', why: null };
  const starts = u.state === 'running' && u.log === undefined;
  if (!starts && u.state !== 'finished') return { kind: 'skip', why: null };
  if (!UUID.test(s.id)) return { kind: 'skip', why: `run id ${s.id} is not a lower-case UUID` };
  const page = opts.reportUrl !== null ? runPageUrl(opts.reportUrl, s.id) : null;
  const log = (u.info_url ? jobLogUrl(u.info_url) : null) ?? (page !== null ? jobLogUrl(page) : null);
  if (log === null) return { kind: 'skip', why: 'no log URL: the adapter gave no http(s) info_url and report_url is not set' };
  let finished: JobReason | null = null;
  if (u.state === 'finished') finished = u.result === 'success' ? 'Succeeded' : 'Failed';
  return { kind: 'publish', step: { uuid: s.id, log, finished } };
}
