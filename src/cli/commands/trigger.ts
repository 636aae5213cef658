/**
 * `cibq trigger`: enqueue a run by hand (like `cibtool trigger`), filters-free, through the same
 * trigger building and queue as the producer. Manual runs are never deduplicated: asking again runs again.
 */
import { buildPatchTrigger, buildPushTrigger, isBuildError } from '../../producer/build-trigger.ts';
import type { CiEvent } from '../../model/ci-event.ts';
import { UsageError } from '../../util/errors.ts';
import { redisKeys } from '../../queue/redis.ts';
import { enqueueRun, RunQueues } from '../../queue/run-queues.ts';
import type { TriggerMessage } from '../../model/trigger-message.ts';
import { Storage } from '../../storage/storage.ts';
import { parseCommand, stringFlag } from '../../bootstrap/args.ts';
import { configFor, loggerFor, print, type CommandContext } from '../../bootstrap/context.ts';
import { connectRedisOnce } from '../redis-once.ts';
import { RedisUnavailable } from '../../util/errors.ts';

export const TRIGGER_HELP = `Usage: cibq trigger --repo RID (--branch NAME | --patch ID) [--commit OID] [--adapter NAME] [--json]

Enqueues a CI run by hand, without filters. --branch uses the canonical branch if there is one,
else the branch in a delegate's (or the only) namespace; --commit picks another commit (for a patch:
one of its revisions' heads). --adapter defaults to default_adapter. Prints the run id.`;

const FLAGS = {
  repo: { type: 'string' },
  branch: { type: 'string' },
  patch: { type: 'string' },
  commit: { type: 'string' },
  adapter: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export async function triggerMain(ctx: CommandContext): Promise<number> {
  const p = parseCommand(ctx.argv, FLAGS);
  if (p.values.help) {
    print(ctx, TRIGGER_HELP);
    return 0;
  }
  const repo = stringFlag(p, 'repo');
  const branch = stringFlag(p, 'branch');
  const patchId = stringFlag(p, 'patch');
  const commit = stringFlag(p, 'commit');
  if (repo === undefined) throw new UsageError('--repo RID (rad:z…) is required');
  if (!/^rad:z[1-9A-HJ-NP-Za-km-z]+$/.test(repo)) throw new UsageError(`--repo ${JSON.stringify(repo)} is not a repository id: expected rad:z… (as \`rad inspect\` prints it)`);
  if ((branch === undefined) === (patchId === undefined)) throw new UsageError('give exactly one of --branch NAME or --patch ID');
  if (patchId !== undefined && !/^[0-9a-f]{40}$/.test(patchId)) throw new UsageError('--patch must be a 40-hex patch id');
  if (commit !== undefined && !/^[0-9a-f]{40}$/.test(commit)) throw new UsageError('--commit must be a 40-hex commit id');
  const config = await configFor(ctx, p);
  const adapter = stringFlag(p, 'adapter') ?? config.defaultAdapter ?? (Object.keys(config.adapters).length === 1 ? Object.keys(config.adapters)[0] : undefined);
  if (adapter === undefined) throw new UsageError('no --adapter given and no default_adapter configured');
  if (!(adapter in config.adapters)) throw new UsageError(`--adapter: adapter "${adapter}" is not defined in the configuration`);

  const log = loggerFor(ctx, p, 'cibq-trigger');
  // Fail fast: with Redis down a one-shot command says so and exits 1 instead of retrying forever.
  let redis;
  try {
    redis = await connectRedisOnce(config.redis, 'trigger');
  } catch (e) {
    if (!(e instanceof RedisUnavailable)) throw e;
    print({ ...ctx, stdout: ctx.stderr }, `cibq: ${e.message}; no run was enqueued`);
    return 1;
  }
  const storage = new Storage({ radHome: config.node.radHome, log });
  const keys = redisKeys(config.redis.prefix);
  const queues = new RunQueues(redis, keys);
  try {
    const identity = await storage.identity(repo).catch(() => null);
    if (identity === null) {
      print({ ...ctx, stdout: ctx.stderr }, `repository ${repo} is not in the node's storage (${config.node.radHome})`);
      return 1;
    }
    let trigger: TriggerMessage;
    let ref: string;
    let title: string | null = null;
    if (branch !== undefined) {
      const refs = await storage.listRefs(repo);
      const top = `refs/heads/${branch}`;
      const suffix = `/refs/heads/${branch}`;
      const namespaced = [...refs.keys()].filter((r) => r.startsWith('refs/namespaces/') && r.endsWith(suffix) && r.split('/').length === 5 + branch.split('/').length);
      const delegateRef = namespaced.find((r) => identity.delegates.some((d) => r.startsWith(`refs/namespaces/${d.replace(/^did:key:/, '')}/`)));
      ref = refs.has(top) ? top : (delegateRef ?? namespaced[0] ?? top);
      const tip = commit ?? refs.get(ref);
      if (tip === undefined) {
        print({ ...ctx, stdout: ctx.stderr }, `branch "${branch}" not found in ${repo}; give --commit`);
        return 1;
      }
      const author = /^refs\/namespaces\/([^/]+)\//.exec(ref)?.[1] ?? null;
      const event: CiEvent = { kind: 'BranchUpdated', repo, author, fromNode: null, ref, name: branch, tip, oldTip: null, patch: null, canonical: author === null };
      const t = await buildPushTrigger(storage, identity, event);
      if (isBuildError(t)) {
        print({ ...ctx, stdout: ctx.stderr }, t.error);
        return 1;
      }
      trigger = t;
    } else {
      const id = patchId as string;
      const info = await storage.patch(repo, id);
      if (info === null) {
        print({ ...ctx, stdout: ctx.stderr }, `patch ${id} not found in ${repo}`);
        return 1;
      }
      const revision = commit === undefined ? info.latest : info.revisions.find((r) => r.oid === commit);
      if (revision === undefined) {
        print({ ...ctx, stdout: ctx.stderr }, `no revision of patch ${id} has head ${commit}`);
        return 1;
      }
      ref = `refs/namespaces/${info.author}/refs/cobs/xyz.radicle.patch/${id}`;
      const event: CiEvent = { kind: 'PatchUpdated', repo, author: info.author, fromNode: null, ref, name: id, tip: revision.oid, oldTip: null, patch: id, canonical: false };
      const t = await buildPatchTrigger(storage, identity, event, { ...info, latest: revision });
      if (isBuildError(t)) {
        print({ ...ctx, stdout: ctx.stderr }, t.error);
        return 1;
      }
      trigger = t;
      title = info.title;
    }
    const r = await enqueueRun(
      { queues, redis, keys, log, now: () => new Date() },
      {
        adapter,
        trigger,
        subject: {
          repo,
          repo_name: identity.name,
          event_type: trigger.event_type,
          ref,
          patch: patchId ?? null,
          title,
          author: trigger.event_type === 'push' ? trigger.pusher.id : trigger.patch.author.id,
          commit: trigger.event_type === 'push' ? trigger.after : trigger.patch.after,
          private: identity.private,
        },
        dedupe: null,
      },
    );
    print(ctx, p.values.json ? JSON.stringify({ run_id: r.runId, adapter }) : r.runId);
    return 0;
  } finally {
    await queues.close();
    await storage.close();
    redis.disconnect();
  }
}
