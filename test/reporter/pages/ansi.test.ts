import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ansiSegments, stripAnsi } from '../../../src/reporter/pages/ansi.ts';

test('colour and style codes become classes on the text they apply to', () => {
  assert.deepEqual(ansiSegments('\x1b[1;31merror\x1b[0m: failed\n\x1b[32mok\x1b[39m done'), [
    { text: 'error', cls: 'ansi-fg-1 ansi-bold' },
    { text: ': failed\n', cls: null },
    { text: 'ok', cls: 'ansi-fg-2' },
    { text: ' done', cls: null },
  ]);
  assert.deepEqual(ansiSegments('\x1b[92;44mx\x1b[22;49my\x1b[38;5;3mz\x1b[38;2;1;2;3mw'), [
    { text: 'x', cls: 'ansi-fg-10 ansi-bg-4' },
    { text: 'y', cls: 'ansi-fg-10' },
    { text: 'zw', cls: 'ansi-fg-3' },
  ]);
});

test('other escape sequences and control characters are dropped, newlines and tabs kept', () => {
  const log = 'a\x1b[2K\x1b[1Gb\x1b]0;title\x07c\x1b]8;;http://x\x1b\\d\r\n\te\x00\x07\x1b';
  assert.deepEqual(ansiSegments(log), [{ text: 'abcd\n\te', cls: null }]);
  assert.equal(stripAnsi('\x1b[31mred\x1b[0m\r\n'), 'red\n');
});

test('markup and escape tricks in a log stay text and cannot reach the class attribute', () => {
  const evil = '\x1b[31"><script>alert(1)</script>m<img src=x onerror=alert(2)>\x1b[3"1m';
  const segs = ansiSegments(evil);
  for (const s of segs) {
    assert.ok(s.cls === null || /^(ansi-[a-z]+(-\d+)? ?)+$/.test(s.cls), `class ${JSON.stringify(s.cls)}`);
  }
  assert.equal(segs.map((s) => s.text).join(''), '[31"><script>alert(1)</script>m<img src=x onerror=alert(2)>[3"1m');
});
