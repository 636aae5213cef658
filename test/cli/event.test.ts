/**
 * `cibq event record|ci|filter` as an operator uses them: recording a (fake) node's control socket,
 * turning the recording into CI events with real git storage, and explaining the filters' decisions.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import type { CiEvent } from '../../src/model/ci-event.ts';
import { CIBQ, cibq } from '../helpers/cli.ts';
import { waitFor } from '../helpers/pipeline.ts';
import { FakeNode } from '../fixtures/fake-node.ts';
import { FakeStorage, makeNodeKey } from '../fixtures/radicle-storage.ts';

const PATCH_NS = 'refs/cobs/xyz.radicle.patch';

function lines(text: string): unknown[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as unknown);
}

describe('cibq event', () => {
  const alice = makeNodeKey(1);
  const bob = makeNodeKey(2);
  let dir: string;
  let radHome: string;
  let env: Record<string, string>;
  let config: string;
  let storage: FakeStorage;
  let node: FakeNode;
  let rid: string;
  let c1: string;
  let c2: string;
  let c3: string;
  let tagOid: string;
  let patchId: string;
  let patchHead: string;
  let sig2: string;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cq-ev-'));
    radHome = path.join(dir, 'h');
    storage = await FakeStorage.create(radHome);
    node = await FakeNode.start(radHome, alice.nid);
    ({ rid } = await storage.createRepo({ name: 'acme', defaultBranch: 'main', delegates: [alice.nid] }));
    c1 = await storage.commit(rid, { files: { 'README.md': 'hi\n' } });
    await storage.pushBranch(rid, alice.nid, 'main', c1);
    await storage.setCanonicalHead(rid, 'main', c1);
    await storage.signRefs(rid, alice.nid);
    c2 = await storage.commit(rid, { files: { 'README.md': 'hi\n', '.radicle/heavy.yaml': 'x\n' }, parent: c1 });
    c3 = await storage.commit(rid, { files: { 'README.md': 'hello\n' }, parent: c2 });
    await storage.pushBranch(rid, alice.nid, 'main', c2);
    tagOid = await storage.tag(rid, alice.nid, 'v1.0', c2, { annotated: true, message: 'release' });
    // A local push of a new branch: the node announces alice's new sigrefs.
    await storage.pushBranch(rid, alice.nid, 'release/1', c2);
    sig2 = await storage.signRefs(rid, alice.nid);
    patchHead = await storage.commit(rid, { files: { 'README.md': 'hi\n', 'x.txt': 'x\n' }, parent: c1 });
    patchId = await storage.createPatch(rid, bob.nid, { title: 'Add x', description: 'adds x', base: c1, head: patchHead });
    config = path.join(dir, 'cibq.yaml');
    writeFileSync(
      config,
      [
        'db: ci.db',
        'default_adapter: native',
        'adapters:',
        '  native: { command: /bin/true }',
        '  heavy: { command: /bin/true }',
        '  patchy: { command: /bin/true }',
        '  cleanup: { command: /bin/true }',
        'filters:',
        '  - !And [ !DefaultBranch, !AnyDelegate ]',
        'triggers:',
        '  - adapter: heavy',
        '    filters: [ !And [ !HasFile ".radicle/heavy.yaml", !Branch "release/*" ] ]',
        '  - adapter: patchy',
        '    filters: [ !PatchCreated ]',
        '  - adapter: cleanup',
        '    filters: [ !BranchDeleted ]',
        '',
      ].join('\n'),
    );
    env = { RAD_HOME: radHome, CIBQ_CONFIG: config };
  });
  after(async () => {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('record', () => {
    test('writes the node events as JSON lines until the node closes the stream; garbage goes to stderr', async () => {
      const out = path.join(dir, 'rec.jsonl');
      const running = cibq(['event', 'record', '--output', out], env);
      await node.waitForSubscribers(1);
      const fetched = { type: 'refsFetched', remote: bob.nid, rid, updated: [{ created: { name: `refs/namespaces/${bob.nid}/refs/heads/x`, oid: c1 } }] };
      const other = { type: 'seedDiscovered', rid, nid: bob.nid };
      node.emit(fetched);
      node.emitRaw('this is not json\n');
      await node.emitSplit(other);
      node.emit({ type: 'canonicalRefUpdated', rid, refname: 'refs/heads/main', target: c2 });
      await waitFor('events written', () => existsSync(out) && readFileSync(out, 'utf8').split('\n').length > 3);
      await node.stop();
      const r = await running;
      await node.start();
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(node.commands.at(-1), { command: 'subscribe' });
      assert.deepEqual(lines(readFileSync(out, 'utf8')), [fetched, other, { type: 'canonicalRefUpdated', rid, refname: 'refs/heads/main', target: c2 }]);
      assert.match(r.stderr, /skipping line from node \(not JSON\): this is not json/);
      assert.match(r.stderr, /recorded 3 events, skipped 1 line/);
      assert.equal(r.stdout, '');
    });

    test('stops cleanly on SIGTERM, printing to stdout without --output', async () => {
      const child = execa(CIBQ, ['event', 'record'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, ...env }, extendEnv: false, reject: false });
      let stdout = '';
      child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
      await node.waitForSubscribers(1);
      const ev = { type: 'localRefsAnnounced', rid, refs: { remote: alice.nid, at: sig2 }, timestamp: 1 };
      node.emit(ev);
      await waitFor('event printed', () => stdout.includes('localRefsAnnounced'));
      child.kill('SIGTERM');
      const r = await child;
      assert.equal(r.exitCode, 0, String(r.stderr));
      assert.deepEqual(lines(stdout), [ev]);
    });

    test('says the node is not running and exits 1', async () => {
      const r = await cibq(['event', 'record'], { ...env, RAD_SOCKET: path.join(dir, 'nope.sock') });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /nope\.sock: the node is not running/);
    });
  });

  describe('ci and filter', () => {
    let nodeEvents: string;
    let ciFile: string;
    let events: CiEvent[];

    before(() => {
      nodeEvents = path.join(dir, 'node.jsonl');
      ciFile = path.join(dir, 'ci.jsonl');
      const evs = [
        // bob fetched alice's push to main (plus her sigrefs, which start nothing)
        { type: 'refsFetched', remote: bob.nid, rid, updated: [
          { updated: { name: `refs/namespaces/${alice.nid}/refs/heads/main`, old: c1, new: c2 } },
          { updated: { name: `refs/namespaces/${alice.nid}/refs/rad/sigrefs`, old: c1, new: sig2 } },
          { skipped: { name: `refs/namespaces/${alice.nid}/refs/heads/old`, oid: c1 } },
        ] },
        { type: 'refsFetched', remote: alice.nid, rid, updated: [{ created: { name: `refs/namespaces/${alice.nid}/refs/tags/v1.0`, oid: tagOid } }] },
        { type: 'refsFetched', remote: bob.nid, rid, updated: [{ created: { name: `refs/namespaces/${bob.nid}/${PATCH_NS}/${patchId}`, oid: patchId } }] },
        { type: 'localRefsAnnounced', rid, refs: { remote: alice.nid, at: sig2 }, timestamp: 1 },
        { type: 'canonicalRefUpdated', rid, refname: 'refs/heads/main', target: c2 },
        { type: 'canonicalRefUpdated', rid, refname: 'refs/heads/main', target: c3 },
        { type: 'seedDiscovered', rid, nid: bob.nid },
      ];
      writeFileSync(nodeEvents, `${evs.map((e) => JSON.stringify(e)).join('\n')}\n{garbage\n`);
    });

    test('event ci turns recorded node events into CI events using storage', async () => {
      const r = await cibq(['event', 'ci', nodeEvents, '--output', ciFile], env);
      // The garbage line is reported with its line number, and makes the exit code 1.
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /node\.jsonl:8: skipping line \(not JSON\)/);
      events = lines(readFileSync(ciFile, 'utf8')) as CiEvent[];
      const brief = events.map((e) => [e.kind, e.name, e.tip, e.oldTip, e.author, e.canonical]);
      assert.deepEqual(brief, [
        ['BranchUpdated', 'main', c2, c1, alice.nid, false],
        ['TagCreated', 'v1.0', tagOid, null, alice.nid, false],
        // The patch resolved from storage: created, and its tip is the revision's head, not the COB.
        ['PatchCreated', patchId, patchHead, null, bob.nid, false],
        // The local push: sigrefs diffed with their parent, so only what that push changed.
        ['BranchUpdated', 'main', c2, c1, alice.nid, false],
        ['BranchCreated', 'release/1', c2, null, alice.nid, false],
        ['TagCreated', 'v1.0', tagOid, null, alice.nid, false],
        // Canonical ref: unknown before, then known from the previous event of the recording.
        ['BranchCreated', 'main', c2, null, null, true],
        ['BranchUpdated', 'main', c3, c2, null, true],
      ]);
      assert.equal(events[0]?.fromNode, bob.nid);
      assert.equal(events[2]?.patch, patchId);
      assert.equal(events[4]?.ref, `refs/namespaces/${alice.nid}/refs/heads/release/1`);

      const human = await cibq(['event', 'ci', '-'], env, readFileSync(nodeEvents, 'utf8'));
      assert.equal(human.code, 1);
      assert.match(human.stdout, new RegExp(`^PatchCreated patch ${patchId} in ${rid} at ${patchHead.slice(0, 12)}`, 'm'));
      assert.equal(human.stdout.trim().split('\n').length, 8);
      const json = await cibq(['event', 'ci', nodeEvents, '--json'], env);
      assert.deepEqual(lines(json.stdout), events);
    });

    test('event filter explains which adapters each event starts, and why', async () => {
      const deletion: CiEvent = { ...(events[4] as CiEvent), kind: 'BranchDeleted', oldTip: null };
      const byBob: CiEvent = { ...(events[0] as CiEvent), ref: `refs/namespaces/${bob.nid}/refs/heads/main`, author: bob.nid };
      const file = path.join(dir, 'filter.jsonl');
      writeFileSync(file, [...events, deletion, byBob].map((e) => JSON.stringify(e)).join('\n') + '\n');

      const r = await cibq(['event', 'filter', '--json', file], env);
      assert.equal(r.code, 0, r.stderr);
      const out = lines(r.stdout) as { starts: string[]; allowed_by: string[]; note: string | null; decisions: { source: string; adapter: string; decision: { allowed: boolean } }[] }[];
      assert.deepEqual(out.map((x) => x.starts), [
        ['native'], // alice (a delegate) updated main
        [], // a tag: no filter allows it
        ['patchy'],
        ['native'],
        ['heavy'], // release/1 at c2, which has .radicle/heavy.yaml
        [],
        ['native'], // canonical main
        ['native'],
        [], // deleted branch
        [], // bob is no delegate
      ]);
      assert.deepEqual(out[8]?.allowed_by, ['cleanup']);
      assert.match(out[8]?.note ?? '', /deleted: there is nothing to build/);
      assert.deepEqual(out[9]?.decisions.map((d) => [d.source, d.adapter, d.decision.allowed]), [
        ['filters', 'native', false],
        ['triggers[0]', 'heavy', false],
        ['triggers[1]', 'patchy', false],
        ['triggers[2]', 'cleanup', false],
      ]);

      const human = await cibq(['event', 'filter', file, '--config', config], { RAD_HOME: radHome });
      assert.equal(human.code, 0, human.stderr);
      const blocks = human.stdout.trim().split(/\n(?=#\d+ )/);
      assert.equal(blocks.length, 10);
      // A match: the tree shows each filter that decided it.
      assert.equal(blocks[0], [
        `#1 BranchUpdated main in ${rid} at ${c2.slice(0, 12)} (refs/namespaces/${alice.nid}/refs/heads/main)`,
        '  starts: native',
        '  ✓ filters → native: allowed',
        '    ✓ !And',
        '      ✓ !DefaultBranch',
        '      ✓ !AnyDelegate',
        '  ✗ triggers[0] → heavy: not allowed',
        '    ✗ !And',
        '      ✓ !HasFile ".radicle/heavy.yaml"',
        '      ✗ !Branch "release/*"',
        '  ✗ triggers[1] → patchy: not allowed',
        '    ✗ !PatchCreated',
        '  ✗ triggers[2] → cleanup: not allowed',
        '    ✗ !BranchDeleted',
      ].join('\n'));
      // A non-match: bob's main is not the default branch (he is no delegate), so !And stops there.
      assert.match(blocks[9] ?? '', /starts: no run\n {2}✗ filters → native: not allowed\n {4}✗ !And\n {6}✗ !DefaultBranch\n {2}✗ triggers/);
      assert.match(blocks[8] ?? '', /starts: no run\n {2}note: the ref was deleted: there is nothing to build, so no run starts \(filters allow: cleanup\)/);
    });

    test('event filter reports lines that are not CI events and exits 1; a missing file is a usage error', async () => {
      const file = path.join(dir, 'bad.jsonl');
      writeFileSync(file, `${JSON.stringify({ ...(events[0] as CiEvent), kind: 'Exploded' })}\n`);
      const r = await cibq(['event', 'filter', file], env);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /bad\.jsonl:1: skipping line, not a CI event \(kind: /);
      const missing = await cibq(['event', 'filter', path.join(dir, 'missing.jsonl')], env);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /cannot read .*missing\.jsonl: ENOENT/);
      const noFile = await cibq(['event', 'ci'], env);
      assert.equal(noFile.code, 2);
    });
  });
});
