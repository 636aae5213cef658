/**
 * `cibq cancel RUN_ID`: a queued run is taken out of its queue; a running one is stopped by
 * whichever worker holds it (its adapter's process group gets SIGTERM, then SIGKILL after
 * kill_grace). Either way the run ends `cancelled` with who asked, and why, in its reason.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../../util/errors.ts';
import { connectRedis, redisKeys } from '../../queue/redis.ts';
import { cancelRun, finalResult, requester } from '../../queue/run-control.ts';
import { RunQueues } from '../../queue/run-queues.ts';
import { parseCommand, stringFlag } from '../../bootstrap/args.ts';
import { configFor, loggerFor, print, type CommandContext } from '../../bootstrap/context.ts';

export const CANCEL_HELP = `Usage: cibq cancel RUN_ID [--reason TEXT]

Cancels a queued or running run. A queued run is removed from its queue; a running one is stopped
by the worker that holds it (SIGTERM to the adapter's process group, SIGKILL after kill_grace).
The run ends with result "cancelled" and the reason "cancelled by USER@HOST: TEXT".
Waits until the run has ended (up to kill_grace plus a few seconds). Exits 1 if there is no such
run, or it had already finished.`;

const FLAGS = { reason: { type: 'string' } } as const;

export async function cancelMain(ctx: CommandContext): Promise<number> {
  const p = parseCommand(ctx.argv, FLAGS, true);
  if (p.values.help) {
    print(ctx, CANCEL_HELP);
    return 0;
  }
  const [runId, ...extra] = p.positionals;
  if (runId === undefined || runId === '' || extra.length > 0) throw new UsageError('usage: cibq cancel RUN_ID [--reason TEXT]');
  const text = stringFlag(p, 'reason');
  const config = await configFor(ctx, p);
  const log = loggerFor(ctx, p, 'cibq-cancel');
  const redis = connectRedis(config.redis, log, 'cancel');
  const keys = redisKeys(config.redis.prefix);
  const queues = new RunQueues(redis, keys);
  const err = { ...ctx, stdout: ctx.stderr };
  try {
    const reason = `cancelled by ${requester()}${text !== undefined && text !== '' ? `: ${text}` : ''}`;
    const r = await cancelRun({ queues, redis, keys, log, now: () => new Date() }, Object.keys(config.adapters), runId, reason);
    switch (r.status) {
      case 'unknown':
        print(err, `no run ${runId} is queued or running`);
        return 1;
      case 'finished':
        print(err, `run ${runId} has already finished${r.result === null ? '' : ` (${r.result})`}`);
        return 1;
      case 'cancelled':
        print(ctx, `run ${runId} was queued: cancelled`);
        return 0;
      case 'requested': {
        const grace = config.adapters[r.adapter]?.killGraceMs ?? config.killGraceMs;
        const deadline = Date.now() + grace + 5000;
        for (;;) {
          const result = await finalResult(redis, keys, runId);
          if (result === 'cancelled') {
            print(ctx, `run ${runId} was running: cancelled`);
            return 0;
          }
          if (result !== null) {
            print(err, `run ${runId} finished (${result}) before it could be cancelled`);
            return 1;
          }
          if (Date.now() > deadline) {
            print(ctx, `cancel of run ${runId} requested; it has not ended yet (the worker holding it stops it, or the next worker to take it up cancels it)`);
            return 0;
          }
          await sleep(100);
        }
      }
    }
  } finally {
    await queues.close();
    redis.disconnect();
  }
}
