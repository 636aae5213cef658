/**
 * The adapter's stdout, in whatever pieces the pipe delivers: lines and UTF-8 characters split
 * across pieces, CRLF, a last line without a newline, and the 1 MiB line limit.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AdapterStdout, MAX_LINE_BYTES } from '../../src/worker/adapter-stdout.ts';

function read(pieces: (string | Buffer)[]) {
  const seen: string[] = [];
  const out = new AdapterStdout({
    redact: (s) => s.replaceAll('hunter2', '***'),
    onTriggered: (t) => seen.push(`triggered ${t.run_id.id}`),
    onFinished: (r) => seen.push(`finished ${r}`),
    onProtocolError: (why) => seen.push(`error ${why}`),
  });
  for (const p of pieces) out.write(Buffer.isBuffer(p) ? p : Buffer.from(p));
  out.end();
  return { out, seen };
}

describe('adapter stdout', () => {
  test('lines and multi-byte characters split across pieces, CRLF, and a last line without newline', () => {
    const text = Buffer.from('{"response":"triggered","run_id":{"id":"é💥"}}\r\n{"response":"finished","result":"failure"}');
    const pieces = Array.from({ length: text.length }, (_, i) => text.subarray(i, i + 1));
    const { out, seen } = read(pieces);
    assert.deepEqual(seen, ['triggered é💥', 'finished failure']);
    assert.equal(out.protocolError, null);
  });

  test('the first problem ends reading and is quoted, redacted', () => {
    const { seen } = read(['{"response":"triggered","run_id":{"id":"a"}}\n', 'token hunter2\n', '{"response":"finished","result":"success"}\n']);
    assert.deepEqual(seen, ['triggered a', 'error bad JSON on line 2 of adapter output: "token ***"']);
  });

  test('a line over 1 MiB is refused before it ends; a third line is refused', () => {
    const long = read(['{"response":"triggered","run_id":{"id":"', 'x'.repeat(MAX_LINE_BYTES)]);
    assert.match(long.out.protocolError ?? '', /^line 1 of adapter output is longer than 1048576 bytes: "\{\\"response/);
    const third = read(['{"response":"triggered","run_id":{"id":"a"}}\n{"response":"finished","result":"success"}\nmore\n']);
    assert.equal(third.out.protocolError, 'adapter wrote more than two lines: line 3 is "more"');
    assert.equal(third.out.finished, 'success');
  });
});
