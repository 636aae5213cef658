/**
 * The reader's sigrefs verification: a chain written as heartwood writes it (also when another writer
 * signs in between) is clean; every mistake that makes peers reject or drop a namespace is reported.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { git, writeChange } from '../../fixtures/heartwood-like/cob-writer.ts';
import { appendToJob, createJob, run } from '../../fixtures/heartwood-like/job-writer.ts';
import { generateNodeKey, type NodeKey } from '../../fixtures/heartwood-like/node-key.ts';
import { signRefs, type SignRefsOptions } from '../../fixtures/heartwood-like/sigrefs-writer.ts';
import { codeCommit, createStorage, T0, type FixtureStorage } from '../../fixtures/heartwood-like/storage.ts';
import { verifySigrefs, type SigrefsVerification } from './sigrefs.ts';
import { formatViolations } from './violations.ts';

const dir = mkdtempSync(join(tmpdir(), 'reader-sigrefs-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let delegate: NodeKey;
let ci: NodeKey;
let n = 0;
before(() => {
  delegate = generateNodeKey(join(dir, 'delegate'));
  ci = generateNodeKey(join(dir, 'ci'));
});
const U1 = '0b0c5c8e-8f7a-4a8e-9d7e-3c1f2a9b4d11';

/** Storage where `ci` has published a job (two sigrefs commits), ready for one more signing. */
function published(): { s: FixtureStorage; id: string } {
  const s = createStorage(join(dir, `home-${n++}`), delegate);
  const id = createJob(s, ci, s.commit, { time: T0 + 1 });
  appendToJob(s, ci, id, [run(U1, 'https://ci.example.org/1')], { time: T0 + 2 });
  return { s, id };
}

const verify = (s: FixtureStorage, key: NodeKey = ci) => verifySigrefs(s.storagePath, s.rid, key.nid);
const codes = (r: SigrefsVerification) => [...new Set(r.violations.map((v) => `${v.severity}:${v.code}`))].sort();

function resign(opts: SignRefsOptions): SigrefsVerification {
  const { s } = published();
  signRefs(s.gitDir, ci, { time: T0 + 3, ...opts });
  return verify(s);
}

test('a chain written as heartwood writes it verifies, and signs exactly the namespace refs', () => {
  const { s, id } = published();
  const r = verify(s);
  assert.ok(r.ok, formatViolations(r.violations));
  assert.deepEqual(r.chain.map((c) => c.level), ['parent', 'root'], 'only a head root commit counts as level parent');
  assert.deepEqual(Object.keys(r.signed).sort(), ['refs/cobs/xyz.radworks.job/' + id, 'refs/rad/root'].sort());
  assert.deepEqual(r.signed, r.actual);
  const d = verify(s, delegate);
  assert.ok(d.ok, formatViolations(d.violations));
  assert.ok('refs/rad/id' in d.signed && 'refs/heads/main' in d.signed, 'symbolic rad/id is signed resolved');
});

test('another writer signing the namespace between two writes keeps the chain valid', () => {
  const { s, id } = published();
  const branch = codeCommit(s.gitDir, 'work', [s.commit], T0 + 3);
  git(s.gitDir, ['update-ref', `refs/namespaces/${ci.nid}/refs/heads/ci-work`, branch]);
  signRefs(s.gitDir, ci, { time: T0 + 3 });
  appendToJob(s, ci, id, [run('6f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b', 'https://ci.example.org/2')], { time: T0 + 4 });
  const r = verify(s);
  assert.ok(r.ok, formatViolations(r.violations));
  assert.equal(r.chain.length, 4);
});

test('refs that changed after signing are what peers reject the namespace for', () => {
  const { s, id } = published();
  const ns = `refs/namespaces/${ci.nid}`;
  git(s.gitDir, ['update-ref', `${ns}/refs/heads/unsigned`, s.commit]);
  git(s.gitDir, ['update-ref', `${ns}/refs/cobs/xyz.radworks.job/${id}`, id]);
  assert.deepEqual(codes(verify(s)), ['rejected:sigrefs-mismatched-ref', 'rejected:sigrefs-unsigned-ref']);
  assert.deepEqual(codes(resign({ extra: { 'refs/heads/gone': s.commit } })), ['rejected:sigrefs-missing-ref']);
  assert.deepEqual(codes(resign({ exclude: ['refs/rad/root'] })), ['rejected:sigrefs-root-downgrade']);
});

test('a signature by another key, or over other bytes, is rejected', () => {
  assert.deepEqual(codes(resign({ signWith: delegate })), ['rejected:sigrefs-signature']);
});

test('parent rules: sigrefs-parent must name the real parent; a second parent or a dropped entry is refused', () => {
  assert.deepEqual(codes(resign({ parentEntry: '4b825dc642cb6eb9a060e54bf8d69288fbee4904' })), ['rejected:sigrefs-mismatched-parent']);
  const { s } = published();
  const head = git(s.gitDir, ['rev-parse', `refs/namespaces/${ci.nid}/refs/rad/sigrefs`]);
  const other = git(s.gitDir, ['rev-parse', `refs/namespaces/${delegate.nid}/refs/rad/sigrefs`]);
  assert.notEqual(head, other);
  assert.deepEqual(codes(resign({ extraParent: other })), ['rejected:sigrefs-parents']);
  assert.deepEqual(codes(resign({ omitParentEntry: true })), ['rejected:sigrefs-downgrade', 'nonstandard:sigrefs-no-parent-entry'].sort());
});

test('a first commit naming a sigrefs-parent is dangling', () => {
  const s = createStorage(join(dir, `home-${n++}`), delegate);
  git(s.gitDir, ['update-ref', `refs/namespaces/${ci.nid}/refs/heads/main`, s.commit]);
  signRefs(s.gitDir, ci, { extra: { 'refs/rad/sigrefs-parent': s.commit } });
  assert.deepEqual(codes(verify(s)), ['rejected:sigrefs-dangling-parent']);
});

test("rad/root must be this repository's identity root", () => {
  const s = createStorage(join(dir, `home-${n++}`), delegate);
  const alien = writeChange(s.gitDir, {
    key: ci,
    typeName: 'xyz.radicle.id',
    actions: ['{"type":"revision"}'],
    embeds: [{ name: 'radicle.json', content: '{"delegates":[],"payload":{},"threshold":1}' }],
    tips: [],
    resource: null,
    message: 'Initialize identity',
    time: T0,
  });
  git(s.gitDir, ['update-ref', `refs/namespaces/${ci.nid}/refs/rad/root`, alien]);
  signRefs(s.gitDir, ci, {});
  assert.deepEqual(codes(verify(s)), ['rejected:sigrefs-identity']);
});

test('no sigrefs at all, or a namespace that is not a node id, is reported', () => {
  const s = createStorage(join(dir, `home-${n++}`), delegate);
  assert.deepEqual(codes(verify(s)), ['rejected:sigrefs-missing']);
  assert.deepEqual(codes(verifySigrefs(s.storagePath, s.rid, 'z6Mkbogus')), ['rejected:sigrefs-key', 'rejected:sigrefs-missing']);
});
