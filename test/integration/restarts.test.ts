/**
 * Nothing is lost when cibq's own processes restart: run updates wait in Redis while the reporter
 * is down, and changes made while the producer was down are found by its catch-up scan.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startProducer } from '../../src/producer/main.ts';
import { startReporter } from '../../src/reporter/main.ts';
import { refsFetched, seedRepo, startPipeline, waitFor, type Pipeline } from '../helpers/pipeline.ts';

const CONFIG = ({ recordFile, adapters }: { recordFile: string; adapters: string }) => `
db: cibq.db
report_dir: reports
default_adapter: rec
adapters:
  rec:
    command: ${adapters}/recorder.mjs
    env: { RECORD_FILE: ${recordFile} }
filters: [ !Allow ]
`;

describe('restarts of cibq processes', () => {
  let p: Pipeline;
  let rid: string;
  let c1: string;
  const ns = (nid: string, rest: string) => `refs/namespaces/${nid}/${rest}`;

  before(async () => {
    p = await startPipeline({ config: CONFIG, start: ['producer', 'worker'] });
    ({ rid, c1 } = await seedRepo(p));
    await p.settle();
  });
  after(async () => p.close());

  test('runs finished while the reporter was down are recorded once it starts', async () => {
    const c = await p.storage.commit(rid, { files: { 'a.txt': 'a\n' }, parent: c1, message: 'a' });
    await p.storage.pushBranch(rid, p.alice.nid, 'reporter-down', c);
    p.node.emit(refsFetched(p.alice.nid, rid, [{ created: { name: ns(p.alice.nid, 'refs/heads/reporter-down'), oid: c } }]));
    await waitFor('the adapter to run', () => p.recorded().some((r) => r.message.after === c));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(p.runs().length, 0);
    const reporter = startReporter(p.config, p.log, 'test');
    try {
      const [run] = await p.waitForRuns(1, (r) => r.commit === c && r.state === 'finished');
      assert.equal(run?.result, 'success');
      assert.ok(run?.queued_at && run.started_at && run.finished_at);
    } finally {
      await reporter.stop(false);
    }
  });

  test('a push made while the producer was down leads to a run after it restarts', async () => {
    await p.producer?.stop(false);
    const c = await p.storage.commit(rid, { files: { 'b.txt': 'b\n' }, parent: c1, message: 'b' });
    await p.storage.pushBranch(rid, p.bob.nid, 'producer-down', c);
    // the node announces it, but nobody listens
    p.node.emit(refsFetched(p.bob.nid, rid, [{ created: { name: ns(p.bob.nid, 'refs/heads/producer-down'), oid: c } }]));
    const producer = startProducer(p.config, p.log);
    try {
      const [rec] = await waitFor('the adapter to run', () => {
        const r = p.recorded().filter((x) => x.message.after === c);
        return r.length > 0 && r;
      });
      assert.equal(rec?.message.branch, ns(p.bob.nid, 'refs/heads/producer-down'));
      // a second restart finds nothing new to do
      await producer.stop(false);
      const again = startProducer(p.config, p.log);
      await p.node.waitForSubscribers(1);
      await new Promise((r) => setTimeout(r, 500));
      await again.producer.idle();
      assert.equal(again.producer.stats.enqueued, 0);
      await again.stop(false);
      assert.equal(p.recorded().filter((x) => x.message.after === c).length, 1);
    } finally {
      await producer.stop(false);
    }
  });
});
