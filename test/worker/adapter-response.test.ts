import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseResponseLine, quoteLine } from '../../src/worker/adapter-response.ts';

test('the golden responses of seed §4.3–4.6 parse', () => {
  assert.deepEqual(parseResponseLine('{"response":"triggered","run_id":{"id":"xyzzy"},"info_url":null}', 1, 'triggered'), {
    ok: true,
    response: { response: 'triggered', run_id: { id: 'xyzzy' }, info_url: null },
  });
  assert.deepEqual(
    parseResponseLine('{"response":"triggered","run_id":{"id":"xyzzy"},"info_url":"https://ci.example.com/runid/log.html"}', 1, 'triggered'),
    { ok: true, response: { response: 'triggered', run_id: { id: 'xyzzy' }, info_url: 'https://ci.example.com/runid/log.html' } },
  );
  assert.deepEqual(parseResponseLine('{"response":"triggered","run_id":{"id":"AI-wonderland"}}', 1, 'triggered'), {
    ok: true,
    response: { response: 'triggered', run_id: { id: 'AI-wonderland' } },
  });
  for (const result of ['success', 'failure'] as const) {
    assert.deepEqual(parseResponseLine(`{"response":"finished","result":"${result}"}`, 2, 'finished'), {
      ok: true,
      response: { response: 'finished', result },
    });
  }
});

function reasonOf(line: string, lineNo: number, expected: 'triggered' | 'finished'): string {
  const r = parseResponseLine(line, lineNo, expected);
  assert.equal(r.ok, false, `expected ${line} to be rejected`);
  return r.ok ? '' : r.reason;
}

test('rejections say what is wrong and on which line', () => {
  assert.equal(reasonOf('nope', 1, 'triggered'), 'bad JSON on line 1 of adapter output: "nope"');
  assert.match(reasonOf('{"response":"triggered","run_id":{"id":"x"},"bad":"field"}', 1, 'triggered'), /unknown field "bad"/);
  assert.match(reasonOf('{"response":"triggered","run_id":{"id":"x","extra":1}}', 1, 'triggered'), /unknown field "extra" in run_id/);
  assert.match(reasonOf('{"response":"triggered","run_id":"x"}', 1, 'triggered'), /invalid "triggered" response on line 1 .*run_id/);
  assert.match(reasonOf('{"response":"finished","result":"error"}', 2, 'finished'), /invalid "finished" response on line 2 .*result/);
  assert.match(reasonOf('{"response":"triggered","run_id":{"id":"x"}}', 2, 'finished'), /^line 2 of adapter output is a "triggered" response, expected "finished"/);
  assert.match(reasonOf('{"result":"success"}', 2, 'finished'), /^line 2 of adapter output has no "response" field/);
  assert.match(reasonOf('[1,2]', 1, 'triggered'), /^line 1 of adapter output has no "response" field/);
  assert.match(reasonOf('{"response":7}', 1, 'triggered'), /has unknown response type 7/);
});

test('quoted lines are cut to about 200 characters', () => {
  assert.equal(quoteLine('short'), '"short"');
  const q = quoteLine('y'.repeat(10_000));
  assert.equal(q, `"${'y'.repeat(200)}"…`);
});
