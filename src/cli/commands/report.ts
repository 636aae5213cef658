/**
 * `cibq report`: regenerate the HTML reports and status.json once from the SQLite database (like
 * `cibtool report`), whether or not the reporter is running (it never removes files the reporter
 * wrote meanwhile: see removeUnproduced). The queue counts and live workers shown come from Redis,
 * as the reporter shows them, when it can be reached; else none are shown, with a warning.
 */
import { jobCobOptions } from '../../bootstrap/job-cobs.ts';
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { readLiveStatus, type LiveStatus } from '../../reporter/live-status.ts';
import { writeReports } from '../../reporter/pages/report-writer.ts';
import { openDb } from '../../db/open-db.ts';
import { UsageError } from '../../util/errors.ts';
import { redisKeys } from '../../queue/redis.ts';
import { RunQueues } from '../../queue/run-queues.ts';
import { parseCommand, stringFlag } from '../../bootstrap/args.ts';
import { configFor, print, type CommandContext } from '../../bootstrap/context.ts';
import { connectRedisOnce } from '../redis-once.ts';
import { errorMessage } from '../../util/coerce-error.ts';

export const REPORT_HELP = `Usage: cibq report [--output-dir DIR] [--json]

Writes the reports (index.html, the repository and run pages, status.json) once from the
database (db), into DIR or the configured report_dir, with the queue counts and live workers from
Redis when it can be reached. DIR is created if missing. Works while the reporter runs.
--json prints {"dir","db","queue_length"}.`;

const FLAGS = { 'output-dir': { type: 'string' }, json: { type: 'boolean' } } as const;

export async function reportMain(ctx: CommandContext): Promise<number> {
  const p = parseCommand(ctx.argv, FLAGS);
  if (p.values.help) {
    print(ctx, REPORT_HELP);
    return 0;
  }
  const config = await configFor(ctx, p);
  const flag = stringFlag(p, 'output-dir');
  const dir = flag !== undefined ? resolve(flag) : config.reportDir;
  if (dir === null) throw new UsageError('no report directory: pass --output-dir DIR or set report_dir in the configuration');
  if (!existsSync(config.db)) {
    print({ ...ctx, stdout: ctx.stderr }, `cibq: the database ${config.db} does not exist yet (the reporter creates it)`);
    return 1;
  }
  let live: LiveStatus = { queueLength: 0, queues: [], workers: [] };
  try {
    const redis = await connectRedisOnce(config.redis, 'report');
    const queues = new RunQueues(redis, redisKeys(config.redis.prefix));
    try {
      live = await readLiveStatus(queues, Object.keys(config.adapters), redis, redisKeys(config.redis.prefix));
    } finally {
      await queues.close();
      redis.disconnect();
    }
  } catch (e) {
    print(
      { ...ctx, stdout: ctx.stderr },
      `cibq: warning: queue length and workers unknown, shown as none (${errorMessage(e)})`,
    );
  }
  const queued = live.queueLength;
  mkdirSync(dir, { recursive: true });
  const db = openDb(config.db);
  try {
    await writeReports(db, dir, {
      version: ctx.version,
      queueLength: live.queueLength,
      queues: live.queues,
      workers: live.workers,
      now: new Date(),
      reportPrivate: config.reportPrivate,
      jobCobs: jobCobOptions(config).jobCobs,
    });
  } finally {
    db.close();
  }
  print(ctx, p.values.json === true ? JSON.stringify({ dir, db: config.db, queue_length: queued }) : `wrote the reports to ${dir}`);
  return 0;
}
