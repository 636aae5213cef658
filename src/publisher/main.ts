/**
 * `cibq publisher`: wiring only — config, node key, logger, Redis, storage, node socket, signals —
 * around `runPublisher`. The node key is opened before anything else: a missing or unopenable key
 * is a NodeKeyError, which `cibq` reports naming the file and exits 2.
 */
import type { Logger } from 'pino';
import { parseCommand } from '../bootstrap/args.ts';
import { configFor, loggerFor, print, type CommandContext } from '../bootstrap/context.ts';
import { jobCobOptions } from '../bootstrap/job-cobs.ts';
import { runUntilSignal, type Service } from '../bootstrap/lifecycle.ts';
import type { Config } from '../config/config.ts';
import { Announcer } from '../node/announcer.ts';
import { connectRedis, redisKeys } from '../queue/redis.ts';
import { loadNodeSigner, type Signer } from '../signing/node-signer.ts';
import { JobStore } from '../storage/job-store.ts';
import { coerceError } from '../util/coerce-error.ts';
import { runPublisher } from './run-publisher.ts';
import type { PublisherOptions } from './run-step.ts';

export const PUBLISHER_HELP = `Usage: cibq publisher [--config FILE] [--log-level LEVEL] [--check-key]

Tells patch authors on the Radicle network how their commits fared: records the start and end of
every run (of the adapters with job_cobs on) in the commit's job COB (xyz.radworks.job) in the
node's storage, signed with the node key ($RAD_HOME/keys/radicle: through ssh-agent when
SSH_AUTH_SOCK holds it, else opened with RAD_PASSPHRASE), re-signs the node's refs and asks the node
to announce them. Run it where the node's storage and key are. With job_cobs off for every
adapter it needs no key and only acknowledges run updates.

  --check-key   open the node key as the publisher would, print its node id and exit (0), or
                exit 2 naming what is wrong (missing key, RAD_PASSPHRASE missing or wrong)`;

/**
 * The adapters that run the commit's `.radicle/native.yaml` (radicle-native-ci and cibq's native
 * adapter): named `native`, or whose command's program name says native.
 */
function runsNativeConfig(config: Config, adapter: string): boolean {
  const a = config.adapters[adapter];
  if (adapter === 'native') return true;
  const program = String(a?.command ?? '').trim().split(/\s+/)[0] ?? '';
  return /native/.test(program.split('/').pop() ?? '');
}

export function publisherOptions(config: Config): PublisherOptions {
  return { ...jobCobOptions(config), runsNativeConfig: (adapter) => runsNativeConfig(config, adapter) };
}

/** Whether any configured adapter publishes job COBs (`cibq up` starts the publisher only then). */
export function publishesJobCobs(config: Config): boolean {
  const o = publisherOptions(config);
  return Object.keys(config.adapters).some((a) => o.jobCobs(a));
}

function openKey(config: Config, env: CommandContext['env']): Promise<Signer> {
  return loadNodeSigner({ radHome: config.node.radHome, passphrase: env.RAD_PASSPHRASE ?? null, agentSocket: env.SSH_AUTH_SOCK ?? null });
}

/**
 * Starts the publisher. With job_cobs on for some adapter the node key is opened first (a
 * NodeKeyError when it cannot be); with it off everywhere no key is needed: updates are only
 * acknowledged, so the run-updates stream does not grow for a group nobody reads.
 */
export async function startPublisher(config: Config, log: Logger, env: CommandContext['env']): Promise<Service> {
  const options = publisherOptions(config);
  const signer = publishesJobCobs(config) ? await openKey(config, env) : null;
  if (signer === null) log.warn('job_cobs is off for every adapter: acknowledging run updates without publishing');
  else log.info({ nid: signer.nid, via: signer.via }, 'publisher signing as the node');
  const redis = connectRedis(config.redis, log, 'publisher');
  const keys = redisKeys(config.redis.prefix);
  const store = new JobStore({ radHome: config.node.radHome, signer, log: log.child({ component: 'job-store' }) });
  const announcer = new Announcer({
    socketPath: config.node.socket,
    nid: signer?.nid ?? '',
    log: log.child({ component: 'announcer' }),
    onPending: (n) => {
      redis.set(keys.publisherPendingAnnounces, String(n)).catch((e: unknown) => log.debug({ err: coerceError(e) }, 'cannot record pending announces'));
    },
  });
  const abort = new AbortController();
  const loop = runPublisher({ redis, keys, log, store, announcer, options, signer }, abort.signal);
  let stopped: Promise<void> | null = null;
  return {
    stop: () =>
      (stopped ??= (async () => {
        abort.abort();
        await loop;
        announcer.close();
        await store.close();
        redis.disconnect();
      })()),
  };
}

export async function publisherMain(ctx: CommandContext): Promise<number> {
  const p = parseCommand(ctx.argv, { 'check-key': { type: 'boolean' } });
  if (p.values.help) {
    print(ctx, PUBLISHER_HELP);
    return 0;
  }
  const config = await configFor(ctx, p);
  if (p.values['check-key']) {
    const signer = await openKey(config, ctx.env);
    print(ctx, `the node key opens (${signer.via === 'ssh-agent' ? 'through ssh-agent' : 'from the key file'}): ${signer.nid}`);
    return 0;
  }
  const log = loggerFor(ctx, p, 'cibq-publisher');
  return runUntilSignal(log, await startPublisher(config, log, ctx.env), { forceAfterMs: 30_000 });
}
