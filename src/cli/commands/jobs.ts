/**
 * `cibq jobs RID COMMIT [--json]`: every node's job COBs and runs for a commit, read from the node's
 * storage — what the patch author sees in Radicle's web view and desktop app. `--json` prints the
 * shape of radicle-httpd's `GET /repos/{rid}/jobs/{sha}`: jobs without runs left out, sorted by job id.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { parseCommand, stringFlag } from '../../bootstrap/args.ts';
import { configFor, print, type CommandContext } from '../../bootstrap/context.ts';
import { Oid, Rid } from '../../model/ci-event.ts';
import { didFromNid } from '../../model/node-id.ts';
import { JobStore, JobTargetMissing, type FoundJob } from '../../storage/job-store.ts';
import { UsageError } from '../../util/errors.ts';

export const JOBS_HELP = `Usage: cibq jobs RID COMMIT [--json] [--config FILE]

Lists every node's CI runs recorded for COMMIT of repository RID in job COBs (xyz.radworks.job), as
Radicle's web view (radicle-httpd GET /repos/RID/jobs/COMMIT) and desktop app show them. Reads the
node's storage under RAD_HOME (node.rad_home of the configuration when one is given). --json prints
radicle-httpd's response shape.`;

export type HttpdRun = { runId: string; node: { id: string }; status: 'started' | 'failed' | 'succeeded'; log: string };
export type HttpdJob = { jobId: string; commit: string; runs: HttpdRun[] };

export function httpdJobs(found: readonly FoundJob[]): HttpdJob[] {
  return found
    .map((j) => ({
      jobId: j.id,
      commit: j.state.oid,
      runs: [...j.state.runs].sort(([a], [b]) => (a < b ? -1 : 1)).flatMap(([nid, runs]) =>
        [...runs].map(([uuid, r]) => ({
          runId: uuid,
          node: { id: didFromNid(nid) },
          status: r.status === 'Started' ? ('started' as const) : r.status.Finished === 'Succeeded' ? ('succeeded' as const) : ('failed' as const),
          log: r.log,
        })),
      ),
    }))
    .filter((j) => j.runs.length > 0)
    .sort((a, b) => (a.jobId < b.jobId ? -1 : 1));
}

export async function jobsMain(ctx: CommandContext): Promise<number> {
  const p = parseCommand(ctx.argv, { json: { type: 'boolean' } }, true);
  if (p.values.help) {
    print(ctx, JOBS_HELP);
    return 0;
  }
  const [rid, commit, ...extra] = p.positionals;
  if (rid === undefined || commit === undefined || extra.length > 0) throw new UsageError('usage: cibq jobs RID COMMIT [--json]');
  if (!Rid.safeParse(rid).success) throw new UsageError(`not a repository id: ${JSON.stringify(rid)}`);
  if (!Oid.safeParse(commit).success) throw new UsageError(`not a full commit id: ${JSON.stringify(commit)}`);
  const hasConfig = stringFlag(p, 'config') !== undefined || (ctx.env.CIBQ_CONFIG ?? '') !== '';
  const radHome = hasConfig ? (await configFor(ctx, p)).node.radHome : ctx.env.RAD_HOME || join(ctx.homeDir, '.radicle');
  const store = new JobStore({ radHome, signer: null, log: pino({ level: 'silent' }) });
  try {
    let jobs: HttpdJob[];
    try {
      jobs = httpdJobs(await store.jobsFor(rid, commit));
    } catch (e) {
      if (e instanceof JobTargetMissing) {
        ctx.stderr.write(`cibq: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
    if (p.values.json) {
      print(ctx, JSON.stringify(jobs, null, 2));
      return 0;
    }
    if (jobs.length === 0) print(ctx, `no job COB has runs for ${commit} in ${rid}`);
    for (const j of jobs) {
      print(ctx, `job ${j.jobId}  commit ${j.commit}`);
      for (const r of j.runs) print(ctx, `  ${r.status.padEnd(9)} ${r.runId}  ${r.node.id}  ${r.log}`);
    }
    return 0;
  } finally {
    await store.close();
  }
}
