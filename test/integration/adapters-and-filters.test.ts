/**
 * Filters and triggers select exactly the right adapters, and every way an adapter can misbehave
 * ends in a recorded run with the right result and reason while the broker keeps serving.
 * Also: what an operator sees through `cibq runs list --json` and `cibq runs show`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { cibq } from '../helpers/cli.ts';
import { refsFetched, seedRepo, startPipeline, type Pipeline } from '../helpers/pipeline.ts';
import type { RunRecord } from '../../src/model/run.ts';

const CONFIG = ({ recordFile, adapters }: { recordFile: string; adapters: string }) => `
db: cibq.db
report_dir: reports
default_adapter: good
adapters:
  good:
    command: ${adapters}/recorder.mjs
    env: { RECORD_FILE: ${recordFile}, ADAPTER_NAME: good }
  release:
    command: ${adapters}/recorder.mjs
    env: { RECORD_FILE: ${recordFile}, ADAPTER_NAME: release }
  native:
    command: ${adapters}/recorder.mjs
    env: { RECORD_FILE: ${recordFile}, ADAPTER_NAME: native }
  bad: { command: ${adapters}/bad-json.sh }
  crash: { command: ${adapters}/crash.sh }
  hang: { command: ${adapters}/hang.sh, timeout: 1s }
  missing: { command: ${adapters}/does-not-exist }
filters:
  - !Branch "main"
triggers:
  - adapter: release
    filters: [ !And [ !Branch "release/*", !AnyDelegate ] ]
  - adapter: native
    filters: [ !And [ !HasFile ".radicle/native.yaml", !Or [ !DefaultBranch, !Tag "v*" ] ] ]
  - { adapter: bad, filters: [ !Branch "bad" ] }
  - { adapter: crash, filters: [ !Branch "crash" ] }
  - { adapter: hang, filters: [ !Branch "hang" ] }
  - { adapter: missing, filters: [ !Branch "missing" ] }
max_run_time: 30s
`;

describe('filters, triggers and misbehaving adapters', () => {
  let p: Pipeline;
  let rid: string;
  let c1: string;
  const ns = (nid: string, rest: string) => `refs/namespaces/${nid}/${rest}`;

  before(async () => {
    p = await startPipeline({ config: CONFIG });
    ({ rid, c1 } = await seedRepo(p));
    await p.settle();
  });
  after(async () => p.close());

  async function push(nid: string, branch: string, files: Record<string, string> = { 'x.txt': branch }): Promise<string> {
    const c = await p.storage.commit(rid, { files, parent: c1, message: branch });
    await p.storage.pushBranch(rid, nid, branch, c);
    p.node.emit(refsFetched(nid, rid, [{ created: { name: ns(nid, `refs/heads/${branch}`), oid: c } }]));
    return c;
  }

  async function finishedRuns(commit: string, n: number): Promise<RunRecord[]> {
    return p.waitForRuns(n, (r) => r.commit === commit && r.state === 'finished');
  }

  test('the default branch starts the default adapter and the trigger whose HasFile matches', async () => {
    const c = await push(p.alice.nid, 'main', { 'README.md': 'v2\n', '.radicle/native.yaml': 'shell: make\n' });
    const runs = await finishedRuns(c, 2);
    assert.deepEqual(runs.map((r) => r.adapter).sort(), ['good', 'native']);
  });

  test('a glob branch trigger gated by AnyDelegate runs for a delegate and not for anyone else', async () => {
    const mine = await push(p.alice.nid, 'release/1.0');
    const theirs = await push(p.bob.nid, 'release/2.0');
    const runs = await finishedRuns(mine, 1);
    assert.deepEqual(runs.map((r) => r.adapter), ['release']);
    await p.settle();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(p.runs().filter((r) => r.commit === theirs).length, 0);
  });

  test('a branch that no filter selects starts nothing', async () => {
    const c = await push(p.alice.nid, 'unwatched');
    await p.settle();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(p.runs().filter((r) => r.commit === c).length, 0);
  });

  test('bad output, a crash, a hang and a missing adapter each end recorded with result and reason', async () => {
    const bad = await push(p.alice.nid, 'bad');
    const crash = await push(p.alice.nid, 'crash');
    const hang = await push(p.alice.nid, 'hang');
    const missing = await push(p.alice.nid, 'missing');
    const [b] = await finishedRuns(bad, 1);
    const [c] = await finishedRuns(crash, 1);
    const [h] = await finishedRuns(hang, 1);
    const [m] = await finishedRuns(missing, 1);
    assert.equal(b?.result, 'error');
    assert.match(b?.reason ?? '', /bad JSON on line 2/);
    assert.equal(c?.result, 'error');
    assert.match(c?.reason ?? '', /exited with code 3/);
    assert.equal(c?.adapter_run_id, 'xyzzy');
    assert.equal(h?.result, 'timeout');
    assert.match(h?.reason ?? '', /time limit of 1s/);
    assert.equal(m?.result, 'error');
    assert.match(m?.reason ?? '', /could not start adapter .*does-not-exist/);
    // and the broker keeps serving
    const after = await push(p.alice.nid, 'main', { 'README.md': 'v3\n' });
    const [ok] = await finishedRuns(after, 1);
    assert.equal(ok?.result, 'success');
  });

  test('cibq runs list --json and runs show print the recorded runs', async () => {
    const env = { REDIS_URL: p.redis.url, RAD_HOME: p.radHome };
    const list = await cibq(['runs', 'list', '--json', '--config', p.configFile], env);
    assert.equal(list.code, 0, list.stderr);
    const runs = JSON.parse(list.stdout) as RunRecord[];
    assert.equal(runs.length, p.runs().length);
    const keys = ['id', 'adapter', 'adapter_run_id', 'info_url', 'repo', 'repo_name', 'event_type', 'ref', 'patch', 'commit', 'state', 'result', 'reason', 'queued_at', 'started_at', 'finished_at', 'attempts'];
    for (const r of runs) assert.deepEqual(Object.keys(r).sort(), [...keys].sort());
    const hang = runs.find((r) => r.adapter === 'hang');
    assert.ok(hang);
    assert.ok(!Number.isNaN(Date.parse(hang.queued_at)));
    const byRepo = await cibq(['runs', 'list', '--json', '--repo', 'rad:z2Et4G1QwmUoqxmesdbdPRcThzFXy', '--config', p.configFile], env);
    assert.deepEqual(JSON.parse(byRepo.stdout), []);
    const show = await cibq(['runs', 'show', hang.id, '--json', '--config', p.configFile], env);
    assert.equal(show.code, 0, show.stderr);
    assert.deepEqual(JSON.parse(show.stdout), hang);
    const none = await cibq(['runs', 'show', 'no-such-run', '--config', p.configFile], env);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no run no-such-run/);
  });

  test('cibq trigger enqueues a run by hand, filters-free, and asking again runs again', async () => {
    const env = { REDIS_URL: p.redis.url, RAD_HOME: p.radHome };
    const c = await push(p.alice.nid, 'unwatched-manual');
    const r1 = await cibq(['trigger', '--repo', rid, '--branch', 'unwatched-manual', '--adapter', 'release', '--config', p.configFile], env);
    assert.equal(r1.code, 0, r1.stderr);
    const r2 = await cibq(['trigger', '--repo', rid, '--branch', 'unwatched-manual', '--adapter', 'release', '--json', '--config', p.configFile], env);
    assert.equal(r2.code, 0, r2.stderr);
    const id2 = (JSON.parse(r2.stdout) as { run_id: string }).run_id;
    const runs = await finishedRuns(c, 2);
    assert.deepEqual(runs.map((r) => r.id).sort(), [r1.stdout.trim(), id2].sort());
    const sent = p.recorded().filter((r) => r.message.after === c);
    assert.equal(sent.length, 2);
    assert.equal(sent[0]?.message.branch, ns(p.alice.nid, 'refs/heads/unwatched-manual'));
    const bad = await cibq(['trigger', '--repo', rid, '--config', p.configFile], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /exactly one of --branch NAME or --patch ID/);
  });
});
