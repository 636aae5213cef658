/** `cibq reporter`: wiring only — config, logger, Redis, SQLite, signals — around `Reporter`. */
import type { Logger } from 'pino';
import { parseCommand } from '../bootstrap/args.ts';
import { configFor, humanOutput, loggerFor, print, type CommandContext } from '../bootstrap/context.ts';
import { jobCobOptions } from '../bootstrap/job-cobs.ts';
import { startSummary } from '../bootstrap/start-summary.ts';
import { runUntilSignal, type Service } from '../bootstrap/lifecycle.ts';
import type { Config } from '../config/config.ts';
import { connectRedis, redisKeys } from '../queue/redis.ts';
import { RunQueues } from '../queue/run-queues.ts';
import { readLiveStatus } from './live-status.ts';
import { openDb } from '../db/open-db.ts';
import { Reporter } from './run-reporter.ts';
import { AgreementReader } from './commit-agreement.ts';

export const REPORTER_HELP = `Usage: cibq reporter [--config FILE] [--log-level LEVEL]

Writes every run state change to the SQLite database (db), deletes finished runs beyond keep_runs
per repository, and rewrites the HTML reports, JSON files and badges in report_dir that each change
touches, shortly after it (every page at start only when templates, version or page settings
changed, or report_dir lost its pages). A finished run's page also shows what
every node that ran the commit signed (read from the node's storage, node.rad_home), judged against
trust.nodes and trust.threshold, with the run's log.txt and signed attestation beside it.`;

export function startReporter(config: Config, log: Logger, version: string): Service & { reporter: Reporter } {
  const redis = connectRedis(config.redis, log, 'reporter');
  const queueRedis = connectRedis(config.redis, log, 'reporter-queues');
  const keys = redisKeys(config.redis.prefix);
  const queues = new RunQueues(queueRedis, keys);
  const db = openDb(config.db);
  const agreement = new AgreementReader({ radHome: config.node.radHome, trustNodes: config.trust.nodes, threshold: config.trust.threshold, log });
  const reporter = new Reporter({
    db,
    redis,
    keys,
    log,
    reportDir: config.reportDir,
    version,
    agreementFor: (repo, commit) => agreement.forCommit(repo, commit),
    reportPrivate: config.reportPrivate,
    jobCobs: jobCobOptions(config).jobCobs,
    keepRuns: config.keepRuns,
    // What pages show besides runs: a change regenerates every page at the next start.
    pageSettings: {
      jobCobs: config.jobCobs,
      adapterJobCobs: Object.keys(config.adapters).sort().map((a) => [a, jobCobOptions(config).jobCobs(a)]),
      trust: config.trust,
      radHome: config.node.radHome,
    },
    liveStatus: () => readLiveStatus(queues, Object.keys(config.adapters), queueRedis, keys),
  });
  reporter.start();
  // Catches up on changes made while stopped (retention, runs whose pages a crash left unwritten);
  // every page is regenerated only when templates, schema, version or page settings changed.
  void reporter.startPages();
  let stopped: Promise<void> | null = null;
  return {
    reporter,
    stop: () =>
      (stopped ??= (async () => {
        await reporter.close();
        await queues.close();
        await agreement.close();
        redis.disconnect();
        queueRedis.disconnect();
        db.close();
      })()),
  };
}

export async function reporterMain(ctx: CommandContext): Promise<number> {
  const p = parseCommand(ctx.argv, {});
  if (p.values.help) {
    print(ctx, REPORTER_HELP);
    return 0;
  }
  const config = await configFor(ctx, p);
  const log = loggerFor(ctx, p, 'cibq-reporter');
  if (humanOutput(ctx)) ctx.stderr.write(startSummary(config, ctx, 'reporter'));
  return runUntilSignal(log, startReporter(config, log, ctx.version));
}
