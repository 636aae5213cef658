/**
 * The producer against a real redis-server, storage laid out as a node lays it out and a fake node
 * on a Unix socket (no worker: enqueued jobs are inspected in their queue). Covers each node event
 * alone, refs that start nothing, tags, patches whose built revision does not change, and storage
 * faults that must not lose a change.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { pino } from 'pino';
import { Producer } from '../../src/producer/run-producer.ts';
import type { StoragePort } from '../../src/producer/storage-port.ts';
import { parseConfig } from '../../src/config/config-load.ts';
import { connectRedis, redisKeys } from '../../src/queue/redis.ts';
import { RunQueues } from '../../src/queue/run-queues.ts';
import type { TriggerMessage } from '../../src/model/trigger-message.ts';
import { Storage } from '../../src/storage/storage.ts';
import { FakeNode } from '../fixtures/fake-node.ts';
import { FakeStorage, makeNodeKey } from '../fixtures/radicle-storage.ts';
import { waitFor } from '../helpers/pipeline.ts';
import { RedisServer } from '../helpers/redis-server.ts';

const alice = makeNodeKey(51); // delegate
const bob = makeNodeKey(52);
const PATCH = 'xyz.radicle.patch';
const ns = (nid: string, rest: string) => `refs/namespaces/${nid}/${rest}`;

/** Storage whose identity() fails while `failures` > 0 (a repository mid-clone, git dying). */
class FlakyStorage {
  failures = 0;
  /** Runs (once) inside the next listRepositories, before storage is read: storage changing under a scan. */
  duringNextList: (() => Promise<void>) | null = null;
  readonly real: Storage;
  constructor(real: Storage) {
    this.real = real;
  }
  port(): StoragePort {
    const r = this.real;
    return {
      listRepositories: async () => {
        const during = this.duringNextList;
        this.duringNextList = null;
        await during?.();
        return r.listRepositories();
      },
      identity: async (rid) => {
        if (this.failures > 0) {
          this.failures--;
          throw new Error('git cat-file exited (signal SIGKILL) before answering');
        }
        return r.identity(rid);
      },
      resolveRef: (rid, ref) => r.resolveRef(rid, ref),
      listRefs: (rid) => r.listRefs(rid),
      peelToCommit: (rid, oid) => r.peelToCommit(rid, oid),
      commitsBetween: (rid, tip, old, limit) => r.commitsBetween(rid, tip, old, limit),
      hasFile: (rid, c, p) => r.hasFile(rid, c, p),
      sigrefs: (rid, c) => r.sigrefs(rid, c),
      patch: (rid, id) => r.patch(rid, id),
    };
  }
}

type SetupContext = { fake: FakeStorage; node: FakeNode; storage: FlakyStorage; rid: string; c1: string };

async function setup(opts: { catchUpIntervalMs?: number; beforeStart?: (ctx: SetupContext) => void } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pr-'));
  const radHome = path.join(dir, 'h');
  const fake = await FakeStorage.create(radHome);
  const node = await FakeNode.start(radHome, alice.nid);
  const server = await RedisServer.start();
  const config = parseConfig(
    `db: cibq.db\nreport_dir: reports\ndefault_adapter: rec\nadapters:\n  rec: { command: /bin/true }\n` +
      `filters:\n  - !Or [ !BranchCreated, !BranchUpdated, !BranchDeleted, !TagCreated, !TagUpdated, !TagDeleted, !PatchCreated, !PatchUpdated ]\n`,
    { path: path.join(dir, 'cibq.yaml'), env: { REDIS_URL: server.url, RAD_HOME: radHome }, homeDir: dir },
  );
  const log = pino({ level: process.env.CIBQ_TEST_LOG ?? 'silent' });
  const redis = connectRedis(config.redis, log, 'test');
  const keys = redisKeys(config.redis.prefix);
  const queues = new RunQueues(redis, keys);
  const storage = new FlakyStorage(new Storage({ radHome, log }));
  // a repository with main, and a patch by bob, all before the producer's first start (baseline)
  const { rid } = await fake.createRepo({ name: 'prod', defaultBranch: 'main', delegates: [alice.nid] });
  const c1 = await fake.commit(rid, { files: { a: '1' } });
  await fake.pushBranch(rid, alice.nid, 'main', c1);
  await fake.setCanonicalHead(rid, 'main', c1);
  const h1 = await fake.commit(rid, { files: { a: 'p1' }, parent: c1 });
  const oldPatch = await fake.createPatch(rid, bob.nid, { title: 'Old', description: 'before the baseline', base: c1, head: h1 });
  await fake.signRefs(rid, alice.nid);
  opts.beforeStart?.({ fake, node, storage, rid, c1 });
  const producer = new Producer({
    config, storage: storage.port(), queues, redis, keys, log,
    reconnect: { minMs: 20, maxMs: 200 },
    ...(opts.catchUpIntervalMs !== undefined ? { catchUpIntervalMs: opts.catchUpIntervalMs } : {}),
  });
  producer.start();
  await node.waitForSubscribers(1);
  const settle = async () => {
    await new Promise((r) => setTimeout(r, 100));
    await producer.idle();
  };
  await waitFor('baseline', () => producer.stats.scans >= 1);
  await settle();
  let seen = 0;
  return {
    fake, node, storage, producer, redis, keys, rid, c1, h1, oldPatch, settle,
    async triggers(): Promise<TriggerMessage[]> {
      const jobs = await queues.queue('rec').getJobs(['waiting', 'prioritized', 'delayed']);
      return jobs.sort((a, b) => (a.timestamp ?? 0) - (b.timestamp ?? 0)).map((j) => (j.data as { trigger: TriggerMessage }).trigger);
    },
    /** Triggers enqueued since the last call. */
    async fresh(): Promise<TriggerMessage[]> {
      const all = await this.triggers();
      const out = all.slice(seen);
      seen = all.length;
      return out;
    },
    async close() {
      await producer.close();
      await queues.close();
      await storage.real.close();
      redis.disconnect();
      await node.stop();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

type Env = Awaited<ReturnType<typeof setup>>;
const branchOf = (t: TriggerMessage | undefined) => (t?.event_type === 'push' ? t.branch : null);

describe('producer: node events, one at a time', () => {
  let e: Env;
  before(async () => {
    e = await setup();
  });
  after(async () => e.close());

  test('nothing that existed before the first start is built', async () => {
    assert.deepEqual(await e.fresh(), []);
  });

  test('localRefsAnnounced alone starts a run for what the sigrefs diff shows', async () => {
    const c = await e.fake.commit(e.rid, { files: { a: 'local' }, parent: e.c1 });
    await e.fake.pushBranch(e.rid, alice.nid, 'local', c);
    const at = await e.fake.signRefs(e.rid, alice.nid);
    e.node.emit({ type: 'localRefsAnnounced', rid: e.rid, refs: { remote: alice.nid, at }, timestamp: 1 });
    await e.settle();
    const [t, ...rest] = await e.fresh();
    assert.equal(rest.length, 0);
    assert.equal(branchOf(t), ns(alice.nid, 'refs/heads/local'));
    assert.equal(t?.event_type === 'push' && t.after, c);
  });

  test('canonicalRefUpdated alone starts a run on the canonical branch', async () => {
    const c = await e.fake.commit(e.rid, { files: { a: 'canonical' }, parent: e.c1 });
    await e.fake.setCanonicalHead(e.rid, 'main', c);
    e.node.emit({ type: 'canonicalRefUpdated', rid: e.rid, refname: 'refs/heads/main', target: c });
    await e.settle();
    const [t, ...rest] = await e.fresh();
    assert.equal(rest.length, 0);
    assert.equal(branchOf(t), 'refs/heads/main');
    assert.ok(t?.event_type === 'push');
    assert.deepEqual([t.before, t.after, t.pusher.id], [e.c1, c, alice.did]);
  });

  test('rad/*, tmp/* and heads/patches/* refs start nothing', async () => {
    const c = await e.fake.commit(e.rid, { files: { a: 'ignored' }, parent: e.c1 });
    for (const ref of ['refs/tmp/heads/x', 'refs/rad/sigrefs', 'refs/rad/root', `refs/heads/patches/${'f'.repeat(40)}`]) {
      await e.fake.setRef(e.rid, ns(bob.nid, ref), c);
    }
    e.node.emit({
      type: 'refsFetched', remote: bob.nid, rid: e.rid,
      updated: ['refs/tmp/heads/x', 'refs/rad/sigrefs', 'refs/rad/root', `refs/heads/patches/${'f'.repeat(40)}`].map((r) => ({ created: { name: ns(bob.nid, r), oid: c } })),
    });
    await e.settle();
    assert.deepEqual(await e.fresh(), []);
  });

  test('a tag update starts a run of the new target; a deleted tag starts nothing', async () => {
    const c2 = await e.fake.commit(e.rid, { files: { a: 't2' }, parent: e.c1 });
    const ref = ns(alice.nid, 'refs/tags/v2');
    const old = await e.fake.tag(e.rid, alice.nid, 'v2', e.c1);
    e.node.emit({ type: 'refsFetched', remote: alice.nid, rid: e.rid, updated: [{ created: { name: ref, oid: old } }] });
    await e.settle();
    assert.equal((await e.fresh()).length, 1);
    const moved = await e.fake.tag(e.rid, alice.nid, 'v2', c2, { annotated: true });
    e.node.emit({ type: 'refsFetched', remote: alice.nid, rid: e.rid, updated: [{ updated: { name: ref, old, new: moved } }] });
    await e.settle();
    const [t, ...rest] = await e.fresh();
    assert.equal(rest.length, 0);
    assert.ok(t?.event_type === 'push');
    assert.deepEqual([t.branch, t.before, t.after, t.commits], [ref, e.c1, c2, [c2]]);
    await e.fake.setRef(e.rid, ref, null);
    e.node.emit({ type: 'refsFetched', remote: alice.nid, rid: e.rid, updated: [{ deleted: { name: ref, oid: moved } }] });
    await e.settle();
    assert.deepEqual(await e.fresh(), []);
  });

  test('a comment on a patch older than the baseline starts nothing, even with no dedupe mark left', async () => {
    await e.redis.del(...(await e.redis.keys(`${e.keys.dedupe('*')}`)), 'none');
    const tip = await e.fake.comment(e.rid, alice.nid, e.oldPatch, 'old but fine');
    e.node.emit({ type: 'refsFetched', remote: alice.nid, rid: e.rid, updated: [{ created: { name: ns(alice.nid, `refs/cobs/${PATCH}/${e.oldPatch}`), oid: tip } }] });
    await e.settle();
    assert.deepEqual(await e.fresh(), []);
  });

  test("a new revision by the author starts a run; a non-author's revision and a later comment do not", async () => {
    const h2 = await e.fake.commit(e.rid, { files: { a: 'p2' }, parent: e.h1 });
    const cob = (nid: string) => ns(nid, `refs/cobs/${PATCH}/${e.oldPatch}`);
    const before = await e.storage.real.resolveRef(e.rid, cob(bob.nid));
    const rev = await e.fake.addRevision(e.rid, bob.nid, e.oldPatch, { description: 'v2', base: e.c1, head: h2 });
    e.node.emit({ type: 'refsFetched', remote: bob.nid, rid: e.rid, updated: [{ updated: { name: cob(bob.nid), old: before, new: rev } }] });
    await e.settle();
    const [t, ...rest] = await e.fresh();
    assert.equal(rest.length, 0);
    assert.ok(t?.event_type === 'patch');
    assert.deepEqual([t.action, t.patch.after], ['Updated', h2]);

    const h3 = await e.fake.commit(e.rid, { files: { a: 'alice tweak' }, parent: h2 });
    const aliceBefore = await e.storage.real.resolveRef(e.rid, cob(alice.nid));
    const theirs = await e.fake.addRevision(e.rid, alice.nid, e.oldPatch, { description: 'tweak', base: e.c1, head: h3 });
    e.node.emit({ type: 'refsFetched', remote: alice.nid, rid: e.rid, updated: [{ updated: { name: cob(alice.nid), old: aliceBefore, new: theirs } }] });
    await e.settle();
    assert.deepEqual(await e.fresh(), []);

    await e.redis.del(...(await e.redis.keys(`${e.keys.dedupe('*')}`)), 'none');
    const c = await e.fake.comment(e.rid, bob.nid, e.oldPatch, 'thanks');
    e.node.emit({ type: 'refsFetched', remote: bob.nid, rid: e.rid, updated: [{ updated: { name: cob(bob.nid), old: rev, new: c } }] });
    await e.settle();
    assert.deepEqual(await e.fresh(), []);
  });
});

describe('producer: storage faults', () => {
  let e: Env;
  before(async () => {
    e = await setup({ catchUpIntervalMs: 300 });
  });
  after(async () => e.close());

  test('a change skipped because storage failed is not lost: the periodic catch-up enqueues it once', async () => {
    const c = await e.fake.commit(e.rid, { files: { a: 'flaky' }, parent: e.c1 });
    await e.fake.pushBranch(e.rid, alice.nid, 'flaky', c);
    e.storage.failures = 1;
    e.node.emit({ type: 'refsFetched', remote: alice.nid, rid: e.rid, updated: [{ created: { name: ns(alice.nid, 'refs/heads/flaky'), oid: c } }] });
    await waitFor('the fault', () => e.producer.stats.retryLater >= 1);
    const [t] = await waitFor('the retried run', async () => {
      const ts = await e.triggers();
      return ts.length > 0 && ts;
    });
    assert.equal(branchOf(t), ns(alice.nid, 'refs/heads/flaky'));
    const scans = e.producer.stats.scans;
    await waitFor('two more catch-ups', () => e.producer.stats.scans >= scans + 2);
    assert.equal((await e.triggers()).length, 1);
  });
});

describe('producer: Redis lost its data', () => {
  let e: Env;
  before(async () => {
    e = await setup({ catchUpIntervalMs: 300 });
  });
  after(async () => e.close());

  test('a lost snapshot is recorded again while not subscribed; nothing old is built, later pushes are', async () => {
    const keys = await e.redis.keys(`${e.keys.snapshot('*')}`);
    assert.ok(keys.length > 0);
    await e.redis.del(...keys);
    await waitFor('a new baseline', async () => (await e.redis.exists(e.keys.snapshotInitialized)) === 1);
    await e.node.waitForSubscribers(1);
    await e.settle();
    assert.deepEqual(await e.triggers(), []);
    const c = await e.fake.commit(e.rid, { files: { a: 'after' }, parent: e.c1 });
    await e.fake.pushBranch(e.rid, alice.nid, 'after-loss', c);
    e.node.emit({ type: 'refsFetched', remote: alice.nid, rid: e.rid, updated: [{ created: { name: ns(alice.nid, 'refs/heads/after-loss'), oid: c } }] });
    const [t, ...rest] = await waitFor('the push to run', async () => {
      const ts = await e.triggers();
      return ts.length > 0 && ts;
    });
    assert.equal(rest.length, 0);
    assert.equal(branchOf(t), ns(alice.nid, 'refs/heads/after-loss'));
  });
});

describe('producer: first start', () => {
  let e: Env;
  let opened: { patch: string; head: string; main: string } | null = null;

  before(async () => {
    e = await setup({
      // The first scan after the subscription is slow: while it runs, bob opens a patch and the
      // canonical main moves, both announced on the subscription (storage first, as the node does).
      beforeStart: ({ fake, node, storage, rid, c1 }) => {
        const arm = (): void => {
          storage.duringNextList = async () => {
            // A scan while nobody subscribed (the node never sees one during it) is not the one.
            if (!(await node.waitForSubscribers(1, 1000).then(() => true, () => false))) return arm();
            const head = await fake.commit(rid, { files: { a: 'new patch' }, parent: c1 });
            const patch = await fake.createPatch(rid, bob.nid, { title: 'Right after', description: 'opened after the subscription', base: c1, head });
            const main = await fake.commit(rid, { files: { a: 'main moves' }, parent: c1 });
            await fake.setCanonicalHead(rid, 'main', main);
            const cob = await storage.real.resolveRef(rid, ns(bob.nid, `refs/cobs/${PATCH}/${patch}`));
            node.emit({ type: 'refsFetched', remote: bob.nid, rid, updated: [{ created: { name: ns(bob.nid, `refs/cobs/${PATCH}/${patch}`), oid: cob } }] });
            node.emit({ type: 'canonicalRefUpdated', rid, refname: 'refs/heads/main', target: main });
            opened = { patch, head, main };
          };
        };
        arm();
      },
    });
  });
  after(async () => e.close());

  test('a patch opened and a branch moved right after the subscription are built, not taken into the baseline', async () => {
    await waitFor('the changes made during the first scan', () => opened);
    await e.settle();
    const ts = await e.triggers();
    const patch = ts.find((t) => t.event_type === 'patch');
    assert.ok(patch?.event_type === 'patch', `the new patch did not start a run: ${JSON.stringify(ts.map((t) => t.event_type))}`);
    assert.deepEqual([patch.action, patch.patch.id, patch.patch.after], ['Created', opened?.patch, opened?.head]);
    const push = ts.find((t) => t.event_type === 'push' && t.branch === 'refs/heads/main');
    assert.ok(push?.event_type === 'push', 'the moved canonical main did not start a run');
    assert.deepEqual([push.before, push.after], [e.c1, opened?.main]);
    assert.equal(ts.length, 2, 'each change runs once (the catch-up and the event are deduplicated)');
  });
});

describe('producer: events arriving together', () => {
  let e: Env;
  before(async () => {
    e = await setup();
  });
  after(async () => e.close());

  test('are handled as one after another: a commit pushed in two namespaces runs once, a canonical ref moved twice runs from each old tip', async () => {
    const c = await e.fake.commit(e.rid, { files: { a: 'both' }, parent: e.c1 });
    await e.fake.pushBranch(e.rid, alice.nid, 'twice', c);
    await e.fake.pushBranch(e.rid, bob.nid, 'twice', c);
    const m1 = await e.fake.commit(e.rid, { files: { a: 'm1' }, parent: e.c1 });
    const m2 = await e.fake.commit(e.rid, { files: { a: 'm2' }, parent: m1 });
    await e.fake.setCanonicalHead(e.rid, 'main', m2);
    const duplicates = e.producer.stats.duplicates;
    for (const [nid, remote] of [[alice.nid, alice.nid], [bob.nid, bob.nid]] as const) {
      e.node.emit({ type: 'refsFetched', remote, rid: e.rid, updated: [{ created: { name: ns(nid, 'refs/heads/twice'), oid: c } }] });
    }
    e.node.emit({ type: 'canonicalRefUpdated', rid: e.rid, refname: 'refs/heads/main', target: m1 });
    e.node.emit({ type: 'canonicalRefUpdated', rid: e.rid, refname: 'refs/heads/main', target: m2 });
    await e.settle();
    const ts = await e.fresh();
    const pushes = ts.filter((t) => t.event_type === 'push');
    // Runs of one batch share a timestamp: compare them in a fixed order.
    assert.deepEqual(pushes.map((t) => [t.branch, t.before, t.after]).sort(), [
      [ns(alice.nid, 'refs/heads/twice'), c, c],
      ['refs/heads/main', e.c1, m1],
      ['refs/heads/main', m1, m2],
    ].sort());
    assert.equal(e.producer.stats.duplicates, duplicates + 1);
  });

  test("a changed identity (refs/rad/id moved) is what the next event's trigger carries", async () => {
    const gitDir = e.storage.real.gitDir(e.rid);
    const git = async (args: string[], input?: string) =>
      (await execa('git', ['--git-dir', gitDir, ...args], { ...(input !== undefined ? { input } : {}), env: { GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@x', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@x' } })).stdout.trim();
    const push = async (branch: string): Promise<TriggerMessage | undefined> => {
      const c = await e.fake.commit(e.rid, { files: { a: branch }, parent: e.c1 });
      await e.fake.pushBranch(e.rid, alice.nid, branch, c);
      e.node.emit({ type: 'refsFetched', remote: alice.nid, rid: e.rid, updated: [{ created: { name: ns(alice.nid, `refs/heads/${branch}`), oid: c } }] });
      await e.settle();
      return (await e.fresh())[0];
    };
    assert.equal((await push('before-rename'))?.repository.name, 'prod');
    const doc = JSON.stringify({ delegates: [alice.did], payload: { 'xyz.radicle.project': { defaultBranch: 'main', description: '', name: 'renamed' } }, threshold: 1 });
    const blob = await git(['hash-object', '-w', '--stdin'], doc);
    const embeds = await git(['mktree'], `100644 blob ${blob}\tradicle.json\n`);
    const tree = await git(['mktree'], `040000 tree ${embeds}\tembeds\n`);
    const commit = await git(['commit-tree', tree, '-p', 'refs/rad/id', '-m', 'rename']);
    await git(['update-ref', 'refs/rad/id', commit]);
    assert.equal((await push('after-rename'))?.repository.name, 'renamed');
  });
});
