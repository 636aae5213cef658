import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { RunLog } from '../../src/worker/run-log.ts';

const SECRET = 'hunter2-very-secret';
const log = pino({ level: 'silent' });

function setup(opts: { limitBytes?: number; publishEveryMs?: number; failJob?: boolean } = {}) {
  const jobLines: string[] = [];
  const published: string[] = [];
  const runLog = new RunLog({
    secrets: [SECRET],
    limitBytes: opts.limitBytes ?? 1024 * 1024,
    job: {
      log: async (line: string) => {
        if (opts.failJob) throw new Error('redis down');
        jobLines.push(line);
        return jobLines.length;
      },
    },
    publish: async (l) => {
      published.push(l);
    },
    log,
    publishEveryMs: opts.publishEveryMs ?? 40,
    jobLogEveryMs: 10,
  });
  return { runLog, jobLines, published };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, fn: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !fn(); i++) await sleep(10);
  assert.ok(fn(), what);
}

describe('RunLog', () => {
  test('streams redacted lines to the job log and the log so far to the reporter while running', async () => {
    const { runLog, jobLines, published } = setup();
    runLog.write(`step 1 token=${SECRET.slice(0, 7)}`);
    runLog.write(`${SECRET.slice(7)}\nstep 2\n`);
    await until('job log lines', () => jobLines.length >= 2);
    assert.deepEqual(jobLines.slice(0, 2), ['step 1 token=***', 'step 2']);
    await until('a live update', () => published.some((p) => p.includes('step 2')));
    assert.ok(published.every((p) => !p.includes('hunter')), published.join('|'));
    const final = await runLog.finish();
    assert.equal(final, 'step 1 token=***\nstep 2\n');
  });

  test('publishes at most once per interval, and only when the log changed', async () => {
    const { runLog, published } = setup({ publishEveryMs: 200 });
    for (let i = 0; i < 20; i++) {
      runLog.write(`line ${i}\n`);
      await sleep(20);
    }
    // 400 ms of writing at one update per 200 ms: the first at once, then about two more.
    assert.ok(published.length >= 2 && published.length <= 4, `published ${published.length} times`);
    await sleep(450);
    const n = published.length;
    await sleep(300);
    assert.equal(published.length, n, 'nothing new, nothing published');
    assert.ok(published.at(-1)?.endsWith('line 19\n'));
    await runLog.finish();
  });

  test('the final log releases a secret held back at the end and is bounded with a marker', async () => {
    const { runLog, jobLines } = setup({ limitBytes: 400 });
    runLog.write('HEAD\n');
    for (let i = 0; i < 100; i++) runLog.write(`filler line ${i}\n`);
    runLog.write(`end ${SECRET}`);
    const final = await runLog.finish();
    assert.ok(final.startsWith('HEAD\n'));
    assert.match(final, /… \d+ bytes omitted …/);
    assert.ok(final.endsWith('end ***'), final);
    assert.ok(Buffer.byteLength(final) <= 400);
    // The job log is bounded too: the head, a marker, then the last lines.
    assert.equal(jobLines[0], 'HEAD');
    assert.ok(jobLines.some((l) => /^… \d+ bytes omitted …$/.test(l)), jobLines.join('\n'));
    assert.equal(jobLines.at(-1), 'end ***');
    assert.ok(jobLines.join('\n').length <= 450);
    assert.ok(!jobLines.join('\n').includes('hunter'));
  });

  test('a job log that cannot be written does not fail the run', async () => {
    const { runLog } = setup({ failJob: true });
    runLog.write('x\n');
    assert.equal(await runLog.finish(), 'x\n');
  });

  test('a very long line without a newline is cut into bounded job log lines', async () => {
    const { runLog, jobLines } = setup();
    runLog.write('y'.repeat(40_000));
    await runLog.finish();
    assert.equal(jobLines.join(''), 'y'.repeat(40_000));
    assert.ok(jobLines.length >= 3 && jobLines.every((l) => l.length <= 16 * 1024));
  });

  test('redact() masks other text derived from adapter output', () => {
    const { runLog } = setup();
    assert.equal(runLog.redact(`bad JSON: "${Buffer.from(SECRET).toString('base64')}"`), 'bad JSON: "***"');
  });
});
