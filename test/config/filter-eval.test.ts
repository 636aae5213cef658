import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CiEvent } from '../../src/model/ci-event.ts';
import type { CiEventKind } from '../../src/model/ci-event.ts';
import type { Filter } from '../../src/config/filter.ts';
import { parseFilterList } from '../../src/config/filter.ts';
import type { ConfigIssue } from '../../src/util/errors.ts';
import type { FilterContext } from '../../src/config/filter-eval.ts';
import { evaluateFilter, evaluateFilters, refGlob } from '../../src/config/filter-eval.ts';
import { parseYaml } from '../../src/config/yaml-document.ts';

const RID = 'rad:z2e6URdt1we1iG1BCVqtx8QVgsX4a';
const OTHER_RID = 'rad:z3qg5TKmN83afz2fj9z3fQjU8vaYE';
const ALICE = 'z6MkgEMYod7Hxfy9qCvDv5hYHkZ4ciWmLFgfvm3Wn1b2w2FV';
const BOB = 'z6MkireRatUThvd3qzfKht1S44wpm4FEWSSa4PRMTSQZ3voM';
const TIP = 'a'.repeat(40);
const PATCH = 'b'.repeat(40);

/** A valid CiEvent (checked with the zod schema) from a few fields. */
function ev(kind: CiEventKind, over: Partial<CiEvent> = {}): CiEvent {
  const patchy = kind === 'PatchCreated' || kind === 'PatchUpdated';
  const tag = kind.startsWith('Tag');
  const name = over.name ?? (patchy ? PATCH : tag ? 'v1.0' : 'main');
  const author = over.author === undefined ? ALICE : over.author;
  const ref = patchy ? `refs/namespaces/${ALICE}/refs/heads/patches/${name}` : `refs/namespaces/${ALICE}/refs/${tag ? 'tags' : 'heads'}/${name}`;
  return CiEvent.parse({
    kind, repo: RID, author, fromNode: ALICE, ref, name, tip: TIP, oldTip: null,
    patch: patchy ? name : null, canonical: false, ...over,
  });
}

type Ctx = FilterContext & { calls: string[] };
function ctx(files: readonly string[] = [], over: Partial<FilterContext> = {}): Ctx {
  const calls: string[] = [];
  return {
    defaultBranch: 'main',
    delegates: [ALICE],
    hasFile: async (p: string) => {
      calls.push(p);
      return files.includes(p);
    },
    calls,
    ...over,
  };
}

function filters(yaml: string): Filter[] {
  const issues: ConfigIssue[] = [];
  const fs = parseFilterList(parseYaml(yaml).value, 'filters', issues);
  assert.deepEqual(issues, []);
  return fs;
}
function one(yaml: string): Filter {
  const f = filters(`- ${yaml}`)[0];
  assert.ok(f);
  return f;
}
async function allows(yaml: string, e: CiEvent, c: FilterContext = ctx()): Promise<boolean> {
  return (await evaluateFilter(one(yaml), e, c)).allowed;
}

describe('leaf filters', () => {
  test('Repository matches any event kind of that repo', async () => {
    assert.equal(await allows(`!Repository "${RID}"`, ev('BranchUpdated')), true);
    assert.equal(await allows(`!Repository "${RID}"`, ev('PatchCreated')), true);
    assert.equal(await allows(`!Repository "${OTHER_RID}"`, ev('BranchUpdated')), false);
  });

  test('Branch matches branch events by name, not tags or patches', async () => {
    for (const k of ['BranchCreated', 'BranchUpdated', 'BranchDeleted'] as const) {
      assert.equal(await allows('!Branch "main"', ev(k)), true, k);
    }
    assert.equal(await allows('!Branch "main"', ev('BranchUpdated', { name: 'mainline' })), false);
    assert.equal(await allows('!Branch "main"', ev('TagCreated', { name: 'main' })), false);
    assert.equal(await allows('!Branch "main"', ev('PatchCreated')), false);
  });

  test('Branch globs: * within a segment, ** across segments', async () => {
    const up = (name: string) => ev('BranchUpdated', { name });
    assert.equal(await allows('!Branch "release/*"', up('release/1.0')), true);
    assert.equal(await allows('!Branch "release/*"', up('release/1.0/hotfix')), false);
    assert.equal(await allows('!Branch "release/*"', up('release')), false);
    assert.equal(await allows('!Branch "release/**"', up('release/1.0/hotfix')), true);
    assert.equal(await allows('!Branch "**/wip"', up('wip')), true);
    assert.equal(await allows('!Branch "**/wip"', up('alice/x/wip')), true);
    assert.equal(await allows('!Branch "feat-*"', up('feat-x')), true);
    assert.equal(await allows('!Branch "v1.0"', up('v1x0')), false, 'dots are literal');
    assert.equal(refGlob('a*b').test('a/b'), false);
  });

  test('Tag and tag event kinds', async () => {
    assert.equal(await allows('!Tag "v*"', ev('TagCreated', { name: 'v1.2' })), true);
    assert.equal(await allows('!Tag "v*"', ev('TagCreated', { name: 'release-1' })), false);
    assert.equal(await allows('!Tag "v1.0"', ev('BranchCreated', { name: 'v1.0' })), false);
    for (const k of ['TagCreated', 'TagUpdated', 'TagDeleted'] as const) {
      assert.equal(await allows(`!${k}`, ev(k)), true, k);
      assert.equal(await allows(`!${k}`, ev('BranchUpdated')), false, k);
    }
  });

  test('event kind filters match only their kind', async () => {
    const kinds = ['BranchCreated', 'BranchUpdated', 'BranchDeleted', 'PatchCreated', 'PatchUpdated', 'TagCreated'] as const;
    for (const f of ['BranchCreated', 'BranchUpdated', 'BranchDeleted', 'PatchCreated', 'PatchUpdated'] as const) {
      for (const k of kinds) assert.equal(await allows(`!${f}`, ev(k)), f === k, `${f} on ${k}`);
    }
  });

  test('Patch matches patch events for that patch id', async () => {
    assert.equal(await allows(`!Patch "${PATCH}"`, ev('PatchUpdated')), true);
    assert.equal(await allows(`!Patch "${'c'.repeat(40)}"`, ev('PatchUpdated')), false);
    assert.equal(await allows(`!Patch "${PATCH}"`, ev('BranchUpdated', { name: PATCH })), false);
  });

  test('Node matches the ref namespace, or the sending node for canonical refs', async () => {
    assert.equal(await allows(`!Node "${ALICE}"`, ev('BranchUpdated')), true);
    assert.equal(await allows(`!Node "${BOB}"`, ev('BranchUpdated', { fromNode: BOB })), false, 'author, not fromNode');
    const canonical = ev('BranchUpdated', { author: null, fromNode: BOB, canonical: true, ref: 'refs/heads/main' });
    assert.equal(await allows(`!Node "${BOB}"`, canonical), true);
    assert.equal(await allows(`!Node "${ALICE}"`, canonical), false);
  });

  test('DefaultBranch: created/updated branch events on the default branch, never deletions', async () => {
    assert.equal(await allows('!DefaultBranch', ev('BranchUpdated')), true);
    assert.equal(await allows('!DefaultBranch', ev('BranchCreated')), true);
    assert.equal(await allows('!DefaultBranch', ev('BranchDeleted')), false);
    assert.equal(await allows('!DefaultBranch', ev('BranchUpdated', { name: 'dev' })), false);
    assert.equal(await allows('!DefaultBranch', ev('BranchUpdated', { name: 'dev' }), ctx([], { defaultBranch: 'dev' })), true);
    assert.equal(await allows('!DefaultBranch', ev('TagCreated', { name: 'main' })), false);
  });

  test("DefaultBranch: only the canonical ref or a delegate's branch, never a stranger's namespace", async () => {
    const strangers = ev('BranchUpdated', { author: BOB, fromNode: BOB, ref: `refs/namespaces/${BOB}/refs/heads/main` });
    assert.equal(await allows('!DefaultBranch', strangers), false);
    assert.equal(await allows('!DefaultBranch', strangers, ctx([], { delegates: [ALICE, BOB] })), true);
    const canonical = ev('BranchUpdated', { author: null, fromNode: BOB, canonical: true, ref: 'refs/heads/main' });
    assert.equal(await allows('!DefaultBranch', canonical, ctx([], { delegates: [] })), true);
  });

  test('HasFile asks the context, except for deletions', async () => {
    const c = ctx(['.radicle/native.yaml']);
    assert.equal(await allows('!HasFile ".radicle/native.yaml"', ev('BranchUpdated'), c), true);
    assert.equal(await allows('!HasFile ".radicle/ambient.yaml"', ev('PatchCreated'), c), false);
    assert.deepEqual(c.calls, ['.radicle/native.yaml', '.radicle/ambient.yaml']);
    assert.equal(await allows('!HasFile ".radicle/native.yaml"', ev('BranchDeleted'), c), false);
    assert.equal(await allows('!HasFile ".radicle/native.yaml"', ev('TagDeleted'), c), false);
    assert.equal(c.calls.length, 2, 'not called for deletions');
  });

  test('AnyDelegate: author is a delegate, or the ref is canonical', async () => {
    assert.equal(await allows('!AnyDelegate', ev('PatchCreated')), true);
    assert.equal(await allows('!AnyDelegate', ev('PatchCreated', { author: BOB, fromNode: BOB })), false);
    assert.equal(await allows('!AnyDelegate', ev('BranchUpdated', { author: BOB }), ctx([], { delegates: [ALICE, BOB] })), true);
    assert.equal(await allows('!AnyDelegate', ev('BranchUpdated', { author: null, canonical: true, ref: 'refs/heads/main' }), ctx([], { delegates: [] })), true);
  });

  test('Allow, Deny and the legacy aliases', async () => {
    assert.equal(await allows('!Allow', ev('TagDeleted')), true);
    assert.equal(await allows('!Deny', ev('BranchUpdated')), false);
    assert.equal(await allows('!AnyPatch', ev('PatchUpdated')), true);
    assert.equal(await allows('!AnyPatch', ev('BranchUpdated')), false);
    assert.equal(await allows('!AnyPushRef', ev('BranchDeleted')), true);
    assert.equal(await allows('!AnyPushRef', ev('PatchCreated')), false);
  });
});

describe('combinators', () => {
  test('Not, And, Or and their empty forms', async () => {
    const e = ev('BranchUpdated');
    assert.equal(await allows('!Not !BranchDeleted', e), true);
    assert.equal(await allows('!Not !BranchDeleted', ev('BranchDeleted')), false);
    assert.equal(await allows('!And []', e), true);
    assert.equal(await allows('!Or []', e), false);
    assert.equal(await allows('!And [ !Branch main, !BranchUpdated ]', e), true);
    assert.equal(await allows('!And [ !Branch main, !BranchCreated ]', e), false);
    assert.equal(await allows('!Or [ !Branch dev, !BranchUpdated ]', e), true);
    assert.equal(await allows('!Or [ !Branch dev, !Deny ]', e), false);
    assert.equal(await allows(`!And [ !Repository "${RID}", !Or [ !Not !Branch main, !And [ !Allow, !Node "${ALICE}" ] ] ]`, e), true);
  });

  test('And and Or short-circuit: HasFile is not called needlessly', async () => {
    const c = ctx(['x']);
    assert.equal(await allows('!And [ !Deny, !HasFile "x" ]', ev('BranchUpdated'), c), false);
    assert.equal(await allows('!Or [ !Allow, !HasFile "x" ]', ev('BranchUpdated'), c), true);
    assert.deepEqual(c.calls, []);
    assert.equal(await allows('!And [ !Allow, !HasFile "x" ]', ev('BranchUpdated'), c), true);
    assert.deepEqual(c.calls, ['x']);
  });

  test('the decision tree explains the result', async () => {
    const d = await evaluateFilter(one('!And [ !Branch "main", !Not !BranchDeleted, !HasFile ".radicle/native.yaml" ]'), ev('BranchDeleted'), ctx());
    assert.deepEqual(d, {
      allowed: false,
      filter: '!And',
      children: [
        { allowed: true, filter: '!Branch "main"' },
        { allowed: false, filter: '!Not', children: [{ allowed: true, filter: '!BranchDeleted' }] },
      ],
    });
  });
});

describe('evaluateFilters (a filter list)', () => {
  test('an empty list allows nothing', async () => {
    const d = await evaluateFilters([], ev('BranchUpdated'), ctx());
    assert.equal(d.allowed, false);
    assert.deepEqual(d.children, []);
  });

  test('the list is an OR and stops at the first allowing filter', async () => {
    const c = ctx(['f']);
    const d = await evaluateFilters(filters('- !Branch dev\n- !Branch main\n- !HasFile f\n'), ev('BranchUpdated'), c);
    assert.equal(d.allowed, true);
    assert.deepEqual(d.children?.map((x) => [x.filter, x.allowed]), [['!Branch "dev"', false], ['!Branch "main"', true]]);
    assert.deepEqual(c.calls, []);
  });

  test('cib §3.3 example', async () => {
    const fs = filters(`
- !And
  - !Repository "${RID}"
  - !Or
    - !Branch "main"
    - !PatchCreated
    - !PatchUpdated
- !And [ !Node "${ALICE}", !DefaultBranch ]
- !Not !BranchDeleted
`);
    const allowed = async (e: CiEvent) => (await evaluateFilters(fs, e, ctx())).allowed;
    assert.equal(await allowed(ev('BranchUpdated')), true);
    assert.equal(await allowed(ev('PatchCreated')), true);
    // Another repo's push still passes the third filter; its deletion passes nothing.
    assert.equal(await allowed(ev('BranchUpdated', { repo: OTHER_RID, name: 'dev' })), true);
    assert.equal(await allowed(ev('BranchDeleted', { repo: OTHER_RID, name: 'dev' })), false);
    // A deletion of main in the listed repo passes the first filter.
    assert.equal(await allowed(ev('BranchDeleted')), true);
  });

  test('cib §2.3 trigger: HasFile and (DefaultBranch or patch)', async () => {
    const fs = filters(`
- !And
  - !HasFile ".radicle/ambient.yaml"
  - !Or [ !DefaultBranch, !PatchCreated, !PatchUpdated ]
`);
    const withFile = ctx(['.radicle/ambient.yaml']);
    assert.equal((await evaluateFilters(fs, ev('PatchUpdated'), withFile)).allowed, true);
    assert.equal((await evaluateFilters(fs, ev('BranchUpdated'), withFile)).allowed, true);
    assert.equal((await evaluateFilters(fs, ev('BranchUpdated', { name: 'dev' }), withFile)).allowed, false);
    assert.equal((await evaluateFilters(fs, ev('PatchUpdated'), ctx())).allowed, false);
  });
});
