/**
 * DSSE verification with nothing but did:keys (trust.md §2.2, §2.6): good envelopes verify, the
 * statement is read from the verified bytes, and tampering, wrong keys and wrong subjects are reported.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { dsseEnvelope, testResultStatement, type StatementInput } from '../../fixtures/heartwood-like/attestation.ts';
import { generateNodeKey, type NodeKey } from '../../fixtures/heartwood-like/node-key.ts';
import { pae, parseIntotoBundle, verifyDsse, type DsseVerification } from './dsse.ts';
import { formatViolations } from './violations.ts';

const dir = mkdtempSync(join(tmpdir(), 'reader-dsse-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let a: NodeKey;
let b: NodeKey;
before(() => {
  a = generateNodeKey(join(dir, 'a'));
  b = generateNodeKey(join(dir, 'b'));
});
const RID = 'rad:z3gqcJUoA1n9HaHKufZs5FCSGazv5';
const COMMIT = 'f2de534b5e81d7c6e2dcaf58c3dd91573c0a0354';
const input = (over: Partial<StatementInput> = {}): StatementInput => ({
  rid: RID, commit: COMMIT, node: a.did, run: '0b0c5c8e-8f7a-4a8e-9d7e-3c1f2a9b4d11', result: 'PASSED', ...over,
});
const codes = (r: DsseVerification) => r.violations.map((v) => v.code).sort();

test('PAE matches the DSSE spec example and trust.md', () => {
  assert.equal(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString(), 'DSSEv1 29 http://example.com/HelloWorld 11 hello world');
  assert.match(pae('application/vnd.in-toto+json', Buffer.from('{}')).toString(), /^DSSEv1 28 application\/vnd\.in-toto\+json 2 \{\}$/);
});

test('a run attestation signed by the node verifies offline with its did:key, URL-safe base64 too', () => {
  for (const urlSafe of [false, true]) {
    const env = dsseEnvelope(a, testResultStatement(input()), { urlSafe });
    const r = verifyDsse(JSON.stringify(env), a.did, { commit: COMMIT, rid: RID });
    assert.ok(r.valid, formatViolations(r.violations));
    assert.deepEqual(r.signers, [a.did]);
    assert.equal(r.statement?.predicate.result, 'PASSED');
    assert.equal(r.statement?.predicate.radicle.node, a.did);
  }
});

test('a tampered payload, or a key outside the trusted set, does not verify', () => {
  const env = dsseEnvelope(a, testResultStatement(input()));
  const forged = Buffer.from(env['payload'] as string, 'base64').toString().replace('PASSED', 'FAILED');
  const tampered = { ...env, payload: Buffer.from(forged).toString('base64') };
  assert.deepEqual(codes(verifyDsse(tampered, a.did)), ['dsse-signature']);
  assert.deepEqual(codes(verifyDsse(env, b.did)), ['dsse-signature']);
  const both = verifyDsse(env, [b.did, a.did], { commit: COMMIT });
  assert.ok(both.valid, 'any trusted key may verify; keyid is only a hint');
  assert.equal(verifyDsse(env, b.did).statement, null, 'nothing is read from unverified bytes');
});

test('keyid naming someone else, or a foreign payloadType, is reported although the signature holds', () => {
  const r = verifyDsse(dsseEnvelope(a, testResultStatement(input()), { keyid: b.did }), a.did);
  assert.deepEqual(codes(r), ['dsse-keyid']);
  assert.deepEqual(r.signers, [a.did]);
  const t = verifyDsse(dsseEnvelope(a, testResultStatement(input()), { payloadType: 'application/json' }), a.did);
  assert.deepEqual(codes(t), ['dsse-payload-type']);
});

test('the statement must be about the commit and repository, and name its signer as radicle.node', () => {
  const env = dsseEnvelope(a, testResultStatement(input()));
  assert.deepEqual(codes(verifyDsse(env, a.did, { commit: '0'.repeat(40), rid: 'rad:zOther' })), ['statement-repo', 'statement-subject']);
  assert.deepEqual(codes(verifyDsse(dsseEnvelope(a, testResultStatement(input({ node: b.did }))), a.did)), ['statement-node']);
});

test('statement shape: Test Result predicate fields are required; pretty-printed payloads are not canonical', () => {
  const st = testResultStatement(input());
  const noConfig = { ...st, predicate: { ...(st['predicate'] as object), configuration: undefined } };
  const r = verifyDsse(dsseEnvelope(a, JSON.parse(JSON.stringify(noConfig))), a.did);
  assert.deepEqual(codes(r), ['statement-shape']);
  const pretty = verifyDsse(dsseEnvelope(a, st, { serialize: (s) => JSON.stringify(s, null, 2) }), a.did);
  assert.deepEqual(codes(pretty), ['statement-not-canonical']);
  const wrongType = verifyDsse(dsseEnvelope(a, { ...st, predicateType: 'https://slsa.dev/provenance/v1' }), a.did);
  assert.deepEqual(codes(wrongType), ['statement-shape']);
});

test('malformed envelopes and bundles are reported, not thrown', () => {
  assert.deepEqual(codes(verifyDsse('{', a.did)), ['dsse-json']);
  assert.deepEqual(codes(verifyDsse({ payload: 'x', payloadType: 't', signatures: [] }, a.did)), ['dsse-shape']);
  const line = JSON.stringify(dsseEnvelope(a, testResultStatement(input())));
  assert.equal(parseIntotoBundle(`${line}\n${line}\n`).envelopes.length, 2);
  assert.deepEqual(parseIntotoBundle('nope\n').violations.map((v) => v.code), ['bundle-line']);
});
