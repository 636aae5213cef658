/**
 * One attempt of a run, start to end: publish `triggered`, drive the adapter with the worker's own
 * command and environment for it (never the job's), stream its log, and publish the final update
 * through the caller (which publishes it only while it holds the run's lock).
 */
import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import type { RunJobData } from '../queue/run-job.ts';
import type { RunResult, RunSubject, RunUpdate } from '../model/run.ts';
import { adapterBaseEnv } from './adapter-env.ts';
import { runAdapter, type AdapterOutcome } from './adapter-process.ts';
import type { Attempt } from './attempt.ts';
import type { GroupWatchdog } from './group-watchdog.ts';
import { createResultFile } from './result-file.ts';
import type { LogGate } from './log-gate.ts';
import { RunLog } from './run-log.ts';

export type ExecuteDeps = {
  config: Config;
  processEnv: Readonly<Record<string, string | undefined>>;
  /** The worker's name, recorded with every update. */
  worker: string;
  log: Logger;
  watchdog: GroupWatchdog;
  publish: (u: RunUpdate) => Promise<void>;
  /** Publishes the final update (once, and only while the worker holds the run's lock). */
  finish: (u: RunUpdate & { result: RunResult }) => Promise<void>;
  killGraceMs?: number;
  logLimitBytes?: number;
  /** One large log update at a time across the worker's runs (see log-gate.ts). */
  logGate?: LogGate;
  /** Appends lines to the run's job log in one call (instead of job.log per line). */
  appendJobLog?: (lines: readonly string[]) => Promise<unknown>;
};

/** Environment variables adapters never see: they carry cibq's own credentials. */

export async function executeRun(
  deps: ExecuteDeps,
  job: Job,
  subject: RunSubject,
  trigger: RunJobData['trigger'],
  attempt: Attempt,
): Promise<Pick<AdapterOutcome, 'result'>> {
  const log = deps.log.child({ runId: subject.id, adapter: subject.adapter });
  const attempts = job.attemptsMade + job.stalledCounter + 1;
  const base = { subject, attempts, worker: deps.worker } as const;
  const adapter = deps.config.adapters[subject.adapter];
  if (!adapter) {
    const now = new Date().toISOString();
    const reason = `adapter "${subject.adapter}" is not configured on worker ${deps.worker}`;
    await deps.finish({ ...base, state: 'finished', at: now, result: 'error', reason });
    log.error(reason);
    return { result: 'error' };
  }
  const triggeredAt = new Date().toISOString();
  await deps.publish({ ...base, state: 'triggered', at: triggeredAt, trigger: JSON.stringify(trigger) });
  const resultFile = await createResultFile();
  const env = adapterBaseEnv(
    deps.processEnv,
    { CIBQ_RUN_ID: subject.id, CIBQ_ADAPTER: subject.adapter, RAD_HOME: deps.config.node.radHome, CIBQ_RESULT_FILE: resultFile.path },
  );
  log.info({ repo: subject.repo, ref: subject.ref, commit: subject.commit }, 'run started');
  let live: 'triggered' | 'running' = 'triggered'; // the state live log updates carry
  const runLog = new RunLog({
    secrets: Object.values(adapter.sensitiveEnv),
    limitBytes: deps.logLimitBytes ?? deps.config.logLimitBytes,
    job: deps.appendJobLog ? { log: (line: string) => job.log(line), append: deps.appendJobLog } : job,
    log,
    ...(deps.logGate ? { gate: deps.logGate } : {}),
    publish: (text) => deps.publish({ ...base, state: live, at: new Date().toISOString(), log: text }),
  });
  const outcome = await runAdapter({
    adapter,
    message: trigger,
    env,
    timeoutMs: adapter.timeoutMs,
    killGraceMs: deps.killGraceMs ?? adapter.killGraceMs,
    signal: attempt.controller.signal,
    onSpawn: (pid) => {
      attempt.pgid = pid;
      deps.watchdog.watch(pid, deps.killGraceMs ?? adapter.killGraceMs);
    },
    log,
    onStderr: (chunk) => runLog.write(chunk),
    redact: runLog.redact,
    onTriggered: async (t) => {
      live = 'running';
      await deps.publish({ ...base, state: 'running', at: t.at, adapter_run_id: t.adapterRunId, info_url: t.infoUrl });
    },
  });
  const redact = runLog.redact;
  await runLog.close();
  const report = await resultFile.collect(log);
  const finish = (): Promise<void> => deps.finish({
    ...base,
    state: 'finished',
    at: outcome.finishedAt,
    result: outcome.result,
    reason: outcome.reason === null ? null : redact(outcome.reason),
    exit_code: outcome.exitCode,
    adapter_run_id: outcome.adapterRunId,
    info_url: outcome.infoUrl,
    log: runLog.text,
    ...(report !== null ? { report } : {}),
    started_at: triggeredAt,
  });
  await (deps.logGate ? deps.logGate.pass(runLog.keptBytes, finish) : finish());
  log.info({ result: outcome.result, reason: outcome.reason === null ? null : redact(outcome.reason), exitCode: outcome.exitCode }, 'run finished');
  return outcome;
}
