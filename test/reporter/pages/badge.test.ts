import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderBadge, xmlEscape } from '../../../src/reporter/pages/badge.ts';

test('a badge says the branch and its status, in the status colour', () => {
  const svg = renderBadge('main', { label: 'success', cls: 'success' });
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /<text[^>]*>main<\/text>/);
  assert.match(svg, /<text[^>]*>success<\/text>/);
  assert.match(svg, /fill="#2ea44f"/);
  assert.match(renderBadge('main', { label: 'failure', cls: 'failure' }), /fill="#d73a49"/);
  assert.match(svg, /aria-label="main: success"/);
});

test('every text in the badge is XML-escaped', () => {
  const svg = renderBadge(`<script>alert("x")</script>&'`, { label: 'running', cls: 'running' });
  assert.doesNotMatch(svg, /<script/);
  assert.match(svg, /&#60;script&#62;alert\(&#34;x&#34;\)&#60;\/script&#62;&#38;&#39;/);
  assert.equal(xmlEscape('a\x00b\x1bc'), 'abc');
  // Every element in it is one of ours.
  const tags = new Set([...svg.matchAll(/<\/?([a-zA-Z]+)/g)].map((m) => m[1]));
  assert.deepEqual([...tags].sort(), ['clipPath', 'g', 'linearGradient', 'rect', 'stop', 'svg', 'text', 'title']);
});

test('a long branch name is shortened', () => {
  const svg = renderBadge('x'.repeat(100), { label: 'success', cls: 'success' });
  assert.match(svg, new RegExp(`>${'x'.repeat(39)}…</text>`));
});
