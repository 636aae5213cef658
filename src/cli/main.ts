/**
 * `cibq`: one executable, subcommands for each process and the operator's tools. Usage and
 * configuration errors exit 2 with a message that names the problem; faults exit 1.
 */
import { realpathSync } from 'node:fs';
import { producerMain } from '../producer/main.ts';
import { publisherMain } from '../publisher/main.ts';
import { reporterMain } from '../reporter/main.ts';
import { NodeKeyError } from '../signing/node-signer.ts';
import { ConfigError, UsageError, issueText } from '../util/errors.ts';
import { workerMain } from '../worker/main.ts';
import { cancelMain } from './commands/cancel.ts';
import { configMain } from './commands/config-check.ts';
import { dashboardMain } from '../dashboard/main.ts';
import { eventMain } from './commands/event.ts';
import { jobsMain } from './commands/jobs.ts';
import { verifyMain } from './commands/verify.ts';
import { queueMain } from './commands/queue.ts';
import { reportMain } from './commands/report.ts';
import { runsMain } from './commands/runs.ts';
import { triggerMain } from './commands/trigger.ts';
import { upMain } from './commands/up.ts';
import { workersMain } from './commands/workers.ts';
import { defaultContext, type CommandContext } from '../bootstrap/context.ts';

export const HELP = `Usage: cibq <command> [options]

A distributed CI broker for Radicle.

Processes:
  producer      subscribe to the node, filter events, enqueue runs
  worker        run adapters for queued runs (any number, any machine)
  reporter      record runs in SQLite and write the HTML reports
  dashboard     Bull dashboard of the queues, the reports, /healthz and /metrics
  publisher     record runs as signed job COBs on the Radicle network (job_cobs)
  up            producer, worker, reporter and publisher in one process

Tools:
  config check  print the resolved configuration, or its errors
  trigger       enqueue a run by hand
  runs          list or show runs
  cancel        cancel a queued or running run
  workers       list the live workers
  queue         queue counts, oldest waiting runs, reporter backlog, workers
  event         record node events, turn them into CI events, explain filters
  report        write the HTML reports once
  jobs          every node's job COB runs for a commit, from storage
  verify        check the signed CI results of a commit: which trusted nodes agree

Every command takes --config FILE (or env CIBQ_CONFIG; default ./cibq.yaml) and --help.`;

const COMMANDS: Record<string, (ctx: CommandContext) => Promise<number>> = {
  producer: producerMain,
  worker: workerMain,
  reporter: reporterMain,
  dashboard: dashboardMain,
  publisher: publisherMain,
  up: upMain,
  config: configMain,
  trigger: triggerMain,
  runs: runsMain,
  cancel: cancelMain,
  workers: workersMain,
  queue: queueMain,
  event: eventMain,
  report: reportMain,
  jobs: jobsMain,
  verify: verifyMain,
};

export async function main(ctx: CommandContext): Promise<number> {
  const [name, ...rest] = ctx.argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    ctx.stdout.write(`${HELP}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    ctx.stdout.write(`cibq ${ctx.version}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  try {
    if (!command) throw new UsageError(`unknown command "${name}"`);
    return await command({ ...ctx, argv: rest });
  } catch (e) {
    if (e instanceof UsageError) {
      ctx.stderr.write(`cibq: ${e.message}\nRun 'cibq ${command ? `${name} ` : ''}--help' for usage.\n`);
      return 2;
    }
    if (e instanceof NodeKeyError) {
      ctx.stderr.write(`cibq: ${e.message}\n`);
      return 2;
    }
    if (e instanceof ConfigError) {
      ctx.stderr.write(`cibq: invalid configuration${e.file ? ` ${e.file}` : ''}:\n`);
      for (const i of e.issues) ctx.stderr.write(`  ${issueText(i)}\n`);
      return 2;
    }
    ctx.stderr.write(`cibq: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}

if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === import.meta.filename) {
  const code = await main(defaultContext(process.argv.slice(2)));
  process.exitCode = code;
}
