import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, normalize } from 'node:path';
import {
  badgePath,
  branchPagePath,
  branchSlug,
  urlPath,
  href,
  patchPagePath,
  repoDirName,
  repoJsonPath,
  repoPagePath,
  runFileName,
} from '../../../src/reporter/pages/paths.ts';
import { RID_A } from '../fixtures.ts';

const R = RID_A.slice(4);

test('run ids with path characters get no file name', () => {
  assert.equal(runFileName('0f6c0e1a-7a2b-4c39-9a51-1c2d3e4f5a6b'), '0f6c0e1a-7a2b-4c39-9a51-1c2d3e4f5a6b.html');
  for (const bad of ['../x', 'a/b', 'a\\b', '.hidden', '..', '', 'a b', 'x\0y', 'é']) {
    assert.equal(runFileName(bad), null, JSON.stringify(bad));
  }
});

test('repositories are named by the rid without rad:, and only well-formed rids', () => {
  assert.equal(repoDirName(RID_A), R);
  for (const bad of [R, 'rad:z3/../x', 'rad:', 'rad:zO0Il']) assert.equal(repoDirName(bad), null, bad);
  assert.equal(repoPagePath(RID_A), `repos/${R}/index.html`);
  assert.equal(repoPagePath(RID_A, 3), `repos/${R}/page-3.html`);
  assert.equal(repoJsonPath(RID_A), `repos/${R}/runs.json`);
});

test('branch names become one safe path segment, one-to-one', () => {
  assert.equal(branchSlug('main'), 'main');
  assert.equal(branchSlug('v1.2_rc-1'), 'v1.2_rc-1');
  assert.equal(branchSlug('feature/x'), 'feature%2Fx');
  assert.equal(branchSlug('feature%2Fx'), 'feature%252Fx');
  assert.equal(branchSlug('..'), '%2E.');
  assert.equal(branchSlug('.'), '%2E');
  assert.equal(branchSlug(''), '%');
  assert.equal(branchSlug('ä'), '%C3%A4');
  assert.match(branchSlug('x'.repeat(300)), /^~[0-9a-f]{32}$/);
  assert.notEqual(branchSlug('x'.repeat(300)), branchSlug(`${'x'.repeat(299)}y`));
  const names = ['a/b', 'a%2Fb', 'a_b', 'a-b', 'a.b', '.a', '%2Ea', 'a b', 'a+b'];
  assert.equal(new Set(names.map(branchSlug)).size, names.length);
  for (const n of ['../../../etc/passwd', '..\\..\\x', '/abs', 'a/../../b', '\0', '~x']) {
    const slug = branchSlug(n);
    assert.doesNotMatch(slug, /[/\\\0]/, n);
    assert.ok(slug !== '.' && slug !== '..' && !slug.startsWith('.'), n);
    const path = badgePath(RID_A, n) as string;
    assert.ok(normalize(join('/r', path)).startsWith(`/r/badges/${R}/`), `${n} stays in its dir`);
    const page = branchPagePath(RID_A, n) as string;
    assert.ok(normalize(join('/r', page)).startsWith(`/r/repos/${R}/branches/`), n);
  }
  assert.equal(badgePath('rad:bad/..', 'main'), null);
});

test('a badge lives at badges/<rid>/<branch>.svg, a directory per / of the branch, every component safe', () => {
  assert.equal(badgePath(RID_A, 'main'), `badges/${R}/main.svg`);
  assert.equal(badgePath(RID_A, 'feature/x'), `badges/${R}/feature/x.svg`);
  assert.equal(badgePath(RID_A, 'release/v1.2/rc'), `badges/${R}/release/v1.2/rc.svg`);
  assert.equal(urlPath(badgePath(RID_A, 'feature/x')), `badges/${R}/feature/x.svg`);
  // Components git forbids, or that are unsafe in a path, are encoded rather than used.
  assert.equal(badgePath(RID_A, 'a/../b'), `badges/${R}/a/%2E./b.svg`);
  assert.equal(badgePath(RID_A, 'a/./b'), `badges/${R}/a/%2E/b.svg`);
  assert.equal(badgePath(RID_A, 'a//b'), `badges/${R}/a/%/b.svg`);
  assert.equal(badgePath(RID_A, '.hidden/x'), `badges/${R}/%2Ehidden/x.svg`);
  assert.equal(badgePath(RID_A, 'a b/c\\d'), `badges/${R}/a%20b/c%5Cd.svg`);
  assert.equal(urlPath(badgePath(RID_A, 'a b')), `badges/${R}/a%2520b.svg`, 'the URL encodes the file name');
  // No directory takes the name of another branch's badge file.
  assert.equal(badgePath(RID_A, 'a.svg/b'), `badges/${R}/a%2Esvg/b.svg`);
  const names = ['a', 'a/b', 'a.svg/b', 'a%2Esvg/b', 'a/b/c', 'a%2Fb', '.a', '%2Ea', 'x/..', 'x/%2E.'];
  const paths = names.map((n) => badgePath(RID_A, n) as string);
  assert.equal(new Set(paths).size, names.length);
  for (const p of paths) {
    const dirs = p.split('/').slice(0, -1).join('/');
    assert.ok(!paths.includes(dirs), `${dirs} is both a badge and a directory`);
  }
  for (const n of ['../../../etc/passwd', '/abs', 'a/../../b', '..', 'x/.git/y', '\0/x']) {
    const path = badgePath(RID_A, n) as string;
    assert.ok(normalize(join('/r', path)) === join('/r', path), `${n}: no . or .. component`);
    assert.ok(path.split('/').every((seg) => seg !== '' && !seg.startsWith('.')), n);
  }
});

test('patch pages only for ids that are safe in a path', () => {
  assert.equal(patchPagePath(RID_A, 'a'.repeat(40)), `repos/${R}/patches/${'a'.repeat(40)}/index.html`);
  assert.equal(patchPagePath(RID_A, '../x'), null);
});

test('links are relative to the page and URL-encode each segment', () => {
  assert.equal(href('index.html', repoPagePath(RID_A)), `repos/${R}/index.html`);
  assert.equal(href(`repos/${R}/branches/a/index.html`, 'runs/x.html'), '../../../../runs/x.html');
  assert.equal(href(`repos/${R}/page-2.html`, `repos/${R}/branches/a/index.html`), 'branches/a/index.html');
  assert.equal(href(`repos/${R}/branches/a/index.html`, `repos/${R}/index.html`), '../../index.html');
  assert.equal(href(`repos/${R}/index.html`, `repos/${R}/page-2.html`), 'page-2.html');
  assert.equal(href('runs/x.html', branchPagePath(RID_A, 'feature/x')), `../repos/${R}/branches/feature%252Fx/index.html`);
  assert.equal(href('index.html', null), null);
});
