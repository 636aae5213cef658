/** `cibq up`: producer, worker and reporter in one process — the one-machine default. */
import { startProducer } from '../../producer/main.ts';
import { startPublisher } from '../../publisher/main.ts';
import { startReporter } from '../../reporter/main.ts';
import { startWorker, workerOptions, WORKER_FLAGS } from '../../worker/main.ts';
import { parseCommand } from '../../bootstrap/args.ts';
import { configFor, humanOutput, loggerFor, print, type CommandContext } from '../../bootstrap/context.ts';
import { startSummary } from '../../bootstrap/start-summary.ts';
import { runUntilSignal } from '../../bootstrap/lifecycle.ts';

export const UP_HELP = `Usage: cibq up [--config FILE] [--concurrency N] [--adapters A,B] [--name NAME] [--lock-duration D]

Runs the producer, a worker, the reporter and the job-COB publisher in one process (the publisher
needs the node key only when job_cobs is on for some adapter). Stops in order on SIGTERM/SIGINT:
the producer stops enqueueing, the worker drains, the reporter and the publisher write what is left.`;

export async function upMain(ctx: CommandContext): Promise<number> {
  const p = parseCommand(ctx.argv, WORKER_FLAGS);
  if (p.values.help) {
    print(ctx, UP_HELP);
    return 0;
  }
  const config = await configFor(ctx, p);
  const opts = workerOptions(config, p);
  const log = loggerFor(ctx, p, 'cibq');
  if (humanOutput(ctx)) ctx.stderr.write(startSummary(config, ctx, 'up: producer, worker, reporter and publisher in one process'));
  // The node key (job_cobs on) is opened first: a missing or unopenable key stops `up` before anything runs.
  const publisher = await startPublisher(config, log.child({ process: 'publisher' }), ctx.env);
  const reporter = startReporter(config, log.child({ process: 'reporter' }), ctx.version);
  const worker = startWorker(config, log.child({ process: 'worker' }), ctx.env, opts);
  const producer = startProducer(config, log.child({ process: 'producer' }));
  return runUntilSignal(log, {
    stop: async (force) => {
      await producer.stop(force);
      await worker.stop(force);
      await reporter.stop(force);
      await publisher.stop(force);
    },
  });
}
