/**
 * What radicle-httpd answers for `GET /repos/{rid}/jobs/{sha}` (radicle-explorer
 * `crates/radicle-httpd/src/api/v1/repos/job.rs`, trust.md §1.3), computed from the reader's evaluation,
 * so tests of `cibq jobs RID COMMIT --json` can compare against Radicle's own shape.
 *
 * Per job `{jobId, commit, runs: [{runId, node: {id: did, alias?}, status, log}]}`; status is the
 * camelCase of radicle-job's status (`started` | `failed` | `succeeded`); jobs are sorted by `jobId`;
 * jobs without runs are dropped (explorer `524ff5df`). httpd iterates nodes in `HashMap` order, which is
 * unspecified: this view sorts nodes by NID (runs of a node keep radicle-job's insertion order), so
 * compare runs as a set or sort both sides. `alias` comes from the node's alias store and is omitted here.
 */
import { jobsForCommit, type JobCobsReading } from './job-cobs.ts';
import type { RunStatus } from './job-evaluate.ts';

export interface HttpdRun {
  readonly runId: string;
  readonly node: { readonly id: string };
  readonly status: 'started' | 'failed' | 'succeeded';
  readonly log: string;
}

export interface HttpdJob {
  readonly jobId: string;
  readonly commit: string;
  readonly runs: readonly HttpdRun[];
}

export function httpdStatus(status: RunStatus): HttpdRun['status'] {
  if (status === 'Started') return 'started';
  return status.Finished === 'Succeeded' ? 'succeeded' : 'failed';
}

export function httpdJobs(reading: JobCobsReading, commit: string): HttpdJob[] {
  return jobsForCommit(reading, commit)
    .map((job) => {
      const runs = Object.entries(job.state?.runs ?? {})
        .sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
        .flatMap(([nid, byUuid]) =>
          Object.entries(byUuid).map(([runId, run]) => ({
            runId,
            node: { id: `did:key:${nid}` },
            status: httpdStatus(run.status),
            log: run.log,
          })),
        );
      return { jobId: job.id, commit, runs };
    })
    .filter((job) => job.runs.length > 0)
    .sort((a, b) => (a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0));
}
