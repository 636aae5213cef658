import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfigIssue } from '../../src/util/errors.ts';
import type { Filter } from '../../src/config/filter.ts';
import { filterText, filterToJson, formatFilter, parseFilter, parseFilterList } from '../../src/config/filter.ts';
import { parseYaml } from '../../src/config/yaml-document.ts';

const RID = 'rad:z2e6URdt1we1iG1BCVqtx8QVgsX4a';
const NID = 'z6MkgEMYod7Hxfy9qCvDv5hYHkZ4ciWmLFgfvm3Wn1b2w2FV';
const OID = '0123456789abcdef0123456789abcdef01234567';

function fromYaml(text: string): { filters: Filter[]; issues: ConfigIssue[] } {
  const { value, problems } = parseYaml(text);
  assert.deepEqual(problems, []);
  const issues: ConfigIssue[] = [];
  return { filters: parseFilterList(value, 'filters', issues), issues };
}

function fromJson(value: unknown): { filters: Filter[]; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  return { filters: parseFilterList(value, 'filters', issues), issues };
}

describe('parsing filters from YAML tags', () => {
  test('every variant parses to its typed form', () => {
    const { filters, issues } = fromYaml(`
- !Repository "${RID}"
- !Branch "main"
- !BranchCreated
- !BranchUpdated
- !BranchDeleted
- !Tag "v*"
- !TagCreated
- !TagUpdated
- !TagDeleted
- !Patch "${OID}"
- !PatchCreated
- !PatchUpdated
- !Node "${NID}"
- !DefaultBranch
- !HasFile ".radicle/native.yaml"
- !AnyDelegate
- !Allow
- !Deny
- !Not !Allow
- !And [ !Allow, !Deny ]
- !Or [ ]
- !AnyPatch
- !AnyPushRef
`);
    assert.deepEqual(issues, []);
    assert.deepEqual(filters, [
      { kind: 'Repository', rid: RID },
      { kind: 'Branch', name: 'main' },
      { kind: 'BranchCreated' },
      { kind: 'BranchUpdated' },
      { kind: 'BranchDeleted' },
      { kind: 'Tag', name: 'v*' },
      { kind: 'TagCreated' },
      { kind: 'TagUpdated' },
      { kind: 'TagDeleted' },
      { kind: 'Patch', patch: OID },
      { kind: 'PatchCreated' },
      { kind: 'PatchUpdated' },
      { kind: 'Node', nid: NID },
      { kind: 'DefaultBranch' },
      { kind: 'HasFile', path: '.radicle/native.yaml' },
      { kind: 'AnyDelegate' },
      { kind: 'Allow' },
      { kind: 'Deny' },
      { kind: 'Not', filter: { kind: 'Allow' } },
      { kind: 'And', filters: [{ kind: 'Allow' }, { kind: 'Deny' }] },
      { kind: 'Or', filters: [] },
      { kind: 'AnyPatch' },
      { kind: 'AnyPushRef' },
    ]);
  });

  test('cib §3.3 example, including stacked tags `!Not !BranchDeleted`', () => {
    const { filters, issues } = fromYaml(`
filters:
  - !And
    - !Repository "${RID}"
    - !Or
      - !Branch "main"
      - !PatchCreated
      - !PatchUpdated
  - !And [ !Node "${NID}", !DefaultBranch ]
  - !Not !BranchDeleted
`.replace('filters:\n', '').replace(/^ {2}/gm, ''));
    assert.deepEqual(issues, []);
    assert.deepEqual(filters.map(filterToJson), [
      { And: [{ Repository: RID }, { Or: [{ Branch: 'main' }, 'PatchCreated', 'PatchUpdated'] }] },
      { And: [{ Node: NID }, 'DefaultBranch'] },
      { Not: 'BranchDeleted' },
    ]);
  });

  test('stacked tags across lines and three deep nest', () => {
    const { filters, issues } = fromYaml(`
- !Not
    !Branch "x"
- !Not !Not !Deny
- !Or [ !Not !Allow, !Branch 2024 ]
`);
    assert.deepEqual(issues, []);
    assert.deepEqual(filters, [
      { kind: 'Not', filter: { kind: 'Branch', name: 'x' } },
      { kind: 'Not', filter: { kind: 'Not', filter: { kind: 'Deny' } } },
      { kind: 'Or', filters: [{ kind: 'Not', filter: { kind: 'Allow' } }, { kind: 'Branch', name: '2024' }] },
    ]);
  });

  test('unknown tags and bad arguments are reported with their key path', () => {
    const { issues } = fromYaml(`
- !And [ !Branch "main", !Brnch "x" ]
- !Repository "github.com/x/y"
- !Node "not-a-nid"
- !Patch "abc"
- !Branch ""
- !Branch "refs/heads/main"
- !Allow "yes"
- !And "main"
- !Not
- !HasFile "/etc/passwd"
- !Or [ !Not !Frob ]
`);
    assert.deepEqual(issues.map((i) => i.path), [
      'filters[0].And[1]',
      'filters[1]',
      'filters[2]',
      'filters[3]',
      'filters[4]',
      'filters[5]',
      'filters[6]',
      'filters[7]',
      'filters[8]',
      'filters[9]',
      'filters[10].Or[0].Not',
    ]);
    assert.match(issues[0]?.message ?? '', /^unknown filter tag !Brnch \(did you mean !Branch\?\)$/);
    assert.match(issues[1]?.message ?? '', /repository id/);
    assert.match(issues[2]?.message ?? '', /node id/);
    assert.match(issues[3]?.message ?? '', /patch id/);
    assert.match(issues[4]?.message ?? '', /!Branch needs a branch name/);
    assert.match(issues[5]?.message ?? '', /without refs\/heads\//);
    assert.match(issues[6]?.message ?? '', /!Allow takes no value/);
    assert.match(issues[7]?.message ?? '', /!And needs a list of filters/);
    assert.match(issues[8]?.message ?? '', /!Not needs a filter/);
    assert.match(issues[9]?.message ?? '', /relative to the repository root/);
    assert.match(issues[10]?.message ?? '', /unknown filter tag !Frob/);
  });

  test('Node accepts the did:key form and stores the bare NID', () => {
    const { filters } = fromYaml(`- !Node "did:key:${NID}"`);
    assert.deepEqual(filters, [{ kind: 'Node', nid: NID }]);
  });
});

describe('branch and tag patterns must be git ref names', () => {
  const refused = ['bad..name', 'a b', 'tab\there', 'ctl\u0001', 'del\u007f', 'x.lock', 'x.lock/y', '/lead', 'trail/', 'a//b', 'a@{1}', '@',
    '.hidden', 'a/.b', 'end.', 'a~1', 'a^2', 'a:b', 'a?', 'a[b]', 'a\\b'];

  test('a pattern git would refuse as a ref name is an error naming the filter, since it can never match', () => {
    const yaml = refused.map((name) => `- !Or [ !Allow, !Branch ${JSON.stringify(name)} ]`).join('\n');
    const { issues } = fromYaml(yaml);
    assert.deepEqual(issues.map((i) => i.path), refused.map((_, i) => `filters[${i}].Or[1]`));
    for (const [i, name] of refused.entries()) {
      assert.ok(issues[i]?.message.startsWith(`!Branch ${JSON.stringify(name)}: not a valid git ref name (it `), issues[i]?.message);
      assert.ok(issues[i]?.message.endsWith('), so it can never match'), issues[i]?.message);
    }
    assert.equal(issues[0]?.message, '!Branch "bad..name": not a valid git ref name (it contains ".."), so it can never match');
    assert.match(issues[1]?.message ?? '', /contains a space or a control character/);
    assert.match(issues[5]?.message ?? '', /ends with "\.lock"/);
  });

  test('the JSON form and !Tag are checked the same way', () => {
    const { issues } = fromJson([{ Branch: 'bad..name' }, { Not: { Tag: 'v1 .0' } }]);
    assert.deepEqual(issues.map((i) => i.path), ['filters[0]', 'filters[1].Not']);
    assert.match(issues[0]?.message ?? '', /^Branch "bad\.\.name": not a valid git ref name/);
    assert.match(issues[1]?.message ?? '', /^Tag "v1 \.0": not a valid git ref name/);
  });

  test('valid names and globs are accepted as written', () => {
    const ok = ['main', 'release/*', 'feature/**', '*', 'v1.0', 'a.b/c-d_e', 'user@host', 'x.locked', 'dots.in.names', '2024'];
    const { filters, issues } = fromYaml(ok.map((name) => `- !Branch ${JSON.stringify(name)}`).join('\n'));
    assert.deepEqual(issues, []);
    assert.deepEqual(filters, ok.map((name) => ({ kind: 'Branch', name })));
  });
});

describe('parsing filters from the JSON form', () => {
  test('nix-style JSON parses to the same filters as the tag form', () => {
    const json = JSON.parse(`[{"And":[{"HasFile":".radicle/native.yaml"},"DefaultBranch"]},{"Not":"BranchDeleted"},
      {"Or":[{"Branch":"main"},"PatchCreated",{"Not":{"Repository":"${RID}"}}]}]`) as unknown;
    const tags = fromYaml(`
- !And [ !HasFile ".radicle/native.yaml", !DefaultBranch ]
- !Not !BranchDeleted
- !Or [ !Branch main, !PatchCreated, !Not !Repository "${RID}" ]
`);
    const fromJ = fromJson(json);
    assert.deepEqual(fromJ.issues, []);
    assert.deepEqual(fromJ.filters, tags.filters);
  });

  test('JSON errors name their path', () => {
    const { issues } = fromJson(['Branch', { Brnch: 'x' }, { Branch: 'a', Tag: 'b' }, { And: [{ Or: ['Nope'] }] }, 5, 'DefaultBranch']);
    assert.deepEqual(issues.map((i) => i.path), ['filters[0]', 'filters[1]', 'filters[2]', 'filters[3].And[0].Or[0]', 'filters[4]']);
    assert.match(issues[0]?.message ?? '', /needs a value/);
    assert.match(issues[1]?.message ?? '', /unknown filter "Brnch" \(did you mean Branch\?\)/);
    assert.match(issues[2]?.message ?? '', /exactly one key/);
  });

  test('a non-list filter list is an error', () => {
    const issues: ConfigIssue[] = [];
    assert.deepEqual(parseFilterList({ Branch: 'main' }, 'triggers[0].filters', issues), []);
    assert.deepEqual(issues, [{ path: 'triggers[0].filters', message: 'expected a list of filters' }]);
  });
});

describe('printing filters', () => {
  const f: Filter = {
    kind: 'And',
    filters: [
      { kind: 'Repository', rid: RID },
      { kind: 'Not', filter: { kind: 'BranchDeleted' } },
      { kind: 'Or', filters: [{ kind: 'Branch', name: 'release/*' }, { kind: 'PatchCreated' }] },
    ],
  };

  test('filterToJson round-trips through parseFilter', () => {
    const issues: ConfigIssue[] = [];
    assert.deepEqual(parseFilter(filterToJson(f), 'f', issues), f);
    assert.deepEqual(issues, []);
  });

  test('filterText and formatFilter use YAML tag syntax', () => {
    assert.equal(filterText({ kind: 'Branch', name: 'main' }), '!Branch "main"');
    assert.equal(filterText({ kind: 'DefaultBranch' }), '!DefaultBranch');
    assert.equal(filterText(f), '!And');
    assert.equal(formatFilter(f), `!And [!Repository "${RID}", !Not !BranchDeleted, !Or [!Branch "release/*", !PatchCreated]]`);
    // formatFilter's output is itself valid filter YAML.
    assert.deepEqual(fromYaml(`- ${formatFilter(f)}`).filters, [f]);
  });
});
