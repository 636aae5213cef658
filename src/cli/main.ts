/**
 * `cibq`: one executable, subcommands for each process and the operator's tools. Usage and
 * configuration errors exit 2 with a message that names the problem; faults exit 1.
 */
import { realpathSync } from 'node:fs';
import { NodeKeyError } from '../signing/node-signer.ts';
import { ConfigError, UsageError, issueText } from '../util/errors.ts';
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

type Command = (ctx: CommandContext) => Promise<number>;

/**
 * Each command's module is loaded only when it runs: a producer does not carry the reporter's
 * templates, the dashboard's HTTP server or the worker's adapter runner in its memory, and `cibq up`
 * does not carry the dashboard.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  producer: async () => (await import('../producer/main.ts')).producerMain,
  worker: async () => (await import('../worker/main.ts')).workerMain,
  reporter: async () => (await import('../reporter/main.ts')).reporterMain,
  dashboard: async () => (await import('../dashboard/main.ts')).dashboardMain,
  publisher: async () => (await import('../publisher/main.ts')).publisherMain,
  up: async () => (await import('./commands/up.ts')).upMain,
  config: async () => (await import('./commands/config-check.ts')).configMain,
  trigger: async () => (await import('./commands/trigger.ts')).triggerMain,
  runs: async () => (await import('./commands/runs.ts')).runsMain,
  cancel: async () => (await import('./commands/cancel.ts')).cancelMain,
  workers: async () => (await import('./commands/workers.ts')).workersMain,
  queue: async () => (await import('./commands/queue.ts')).queueMain,
  event: async () => (await import('./commands/event.ts')).eventMain,
  report: async () => (await import('./commands/report.ts')).reportMain,
  jobs: async () => (await import('./commands/jobs.ts')).jobsMain,
  verify: async () => (await import('./commands/verify.ts')).verifyMain,
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
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  try {
    if (!command) throw new UsageError(`unknown command "${name}"`);
    return await (await command())({ ...ctx, argv: rest });
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
