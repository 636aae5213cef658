import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isTagged, parseYaml } from '../../src/config/yaml-document.ts';

describe('parseYaml', () => {
  test('plain YAML and JSON become plain values; core tags apply', () => {
    assert.deepEqual(parseYaml('a: 1\nb: [x, true]\nc: !!str 12\nd:\n').value, { a: 1, b: ['x', true], c: '12', d: null });
    assert.deepEqual(parseYaml('{"a": {"b": [1, "2"]}}').value, { a: { b: [1, '2'] } });
  });

  test('local tags become TaggedValues; stacked tags nest outermost first', () => {
    const { value, problems } = parseYaml('- !Branch main\n- !Not !Not !Allow\n- !And [ !Deny ]\n');
    assert.deepEqual(problems, []);
    const [a, b, c] = value as unknown[];
    assert.ok(isTagged(a) && a.tag === 'Branch' && a.value === 'main');
    assert.ok(isTagged(b) && b.tag === 'Not' && isTagged(b.value) && b.value.tag === 'Not');
    assert.ok(isTagged(b.value) && isTagged(b.value.value) && b.value.value.tag === 'Allow' && b.value.value.value === '');
    assert.ok(isTagged(c) && Array.isArray(c.value) && isTagged(c.value[0]));
  });

  test("a tagged node is cib's JSON form of the same filter", () => {
    const { value } = parseYaml('- !Branch main\n- !Not !BranchDeleted\n- !And [ !Tag v1 ]\n');
    assert.equal(JSON.stringify(value), '[{"Branch":"main"},{"Not":{"BranchDeleted":""}},{"And":[{"Tag":"v1"}]}]');
    assert.ok(!isTagged(JSON.parse('{"Branch":"main"}')), 'the JSON form itself carries no tag');
  });

  test('aliases resolve, keeping their tags', () => {
    const { value } = parseYaml('base: &m !Branch main\nuse: *m\n') as { value: { use: unknown } };
    assert.ok(isTagged(value.use) && value.use.value === 'main');
  });

  test('recursive aliases and alias bombs are problems, not hangs', () => {
    assert.match(parseYaml('a: &x [1, *x]\n').problems[0]?.message ?? '', /recursive/);
    let bomb = 'l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 9; i++) bomb += `l${i}: &l${i} [${Array(10).fill(`*l${i - 1}`).join(', ')}]\n`;
    assert.match(parseYaml(bomb).problems[0]?.message ?? '', /more than 1000 aliases/);
  });

  test('a __proto__ key stays an ordinary key', () => {
    const { value } = parseYaml('__proto__: { polluted: true }\n');
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.deepEqual(Object.keys(value as object), ['__proto__']);
  });

  test('syntax errors, duplicate keys and several documents are problems with positions', () => {
    assert.equal(parseYaml('a: [1,\n').problems.length > 0, true);
    const dup = parseYaml('a: 1\na: 2\n').problems;
    assert.equal(dup[0]?.line, 2);
    assert.match(dup[0]?.message ?? '', /unique/);
    assert.deepEqual(parseYaml('a: 1\n---\nb: 2\n').problems.map((p) => p.message), ['expected a single YAML document']);
  });
});
