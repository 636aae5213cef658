/**
 * Action blobs are decoded as radicle-job's serde derive decodes them (externally tagged, tolerant of
 * extra fields inside a variant, uuid and URL parsing), and normalized as its state serializes them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Json } from './canonical-json.ts';
import { decodeJobAction, parseUuid } from './job-action.ts';

const U = '0b0c5c8e-8f7a-4a8e-9d7e-3c1f2a9b4d11';
const decode = (v: Json) => {
  const r = decodeJobAction(v);
  return { action: r.action, codes: r.violations.map((x) => `${x.severity}:${x.code}`) };
};

test('the three variants decode, with nothing to report when written as radicle-job writes them', () => {
  const oid = 'f2de534b5e81d7c6e2dcaf58c3dd91573c0a0354';
  assert.deepEqual(decode({ Request: { oid } }), { action: { type: 'Request', oid }, codes: [] });
  assert.deepEqual(decode({ Run: { log: 'https://ci.example/runs/1', uuid: U } }), {
    action: { type: 'Run', uuid: U, log: 'https://ci.example/runs/1' },
    codes: [],
  });
  assert.deepEqual(decode({ Finished: { reason: 'Failed', uuid: U } }), { action: { type: 'Finished', uuid: U, reason: 'Failed' }, codes: [] });
});

test('every uuid text form uuid::Uuid parses is accepted and normalized; others are flagged', () => {
  for (const form of [U.toUpperCase(), U.replace(/-/g, ''), `{${U}}`, `urn:uuid:${U}`]) {
    assert.equal(parseUuid(form), U);
    assert.deepEqual(decode({ Finished: { reason: 'Succeeded', uuid: form } }).codes, ['nonstandard:action-uuid-form']);
  }
  assert.equal(parseUuid(`${U}0`), null);
});

test('the log URL is kept as url::Url serializes it (WHATWG), and flagged when that differs', () => {
  const r = decode({ Run: { log: 'HTTPS://CI.example', uuid: U } });
  assert.deepEqual(r.action, { type: 'Run', uuid: U, log: 'https://ci.example/' });
  assert.deepEqual(r.codes, ['nonstandard:action-url-form']);
});

test('serde quirks: extra fields inside a variant and the sequence form decode, but are flagged', () => {
  assert.deepEqual(decode({ Finished: { reason: 'Failed', sha256: 'x', uuid: U } }).codes, ['nonstandard:action-extra-field']);
  const seq = decode({ Finished: [U, 'Succeeded'] });
  assert.deepEqual(seq.action, { type: 'Finished', uuid: U, reason: 'Succeeded' });
  assert.deepEqual(seq.codes, ['nonstandard:action-sequence']);
});

test('an upper-case oid is read (git2 parses either case) but flagged', () => {
  const r = decode({ Request: { oid: 'F2DE534B5E81D7C6E2DCAF58C3DD91573C0A0354' } });
  assert.deepEqual(r.action, { type: 'Request', oid: 'f2de534b5e81d7c6e2dcaf58c3dd91573c0a0354' });
  assert.deepEqual(r.codes, ['nonstandard:action-oid-form']);
});

test('what serde refuses is rejected: unit form, missing field, unknown variant, short oid, two keys', () => {
  for (const bad of [
    'Request',
    { Run: { uuid: U } },
    { Started: { uuid: U } },
    { Request: { oid: 'f2de534b' } },
    { Run: { log: 'https://x/', uuid: U }, Finished: { reason: 'Failed', uuid: U } },
  ] as Json[]) {
    assert.deepEqual(decode(bad), { action: null, codes: ['rejected:action-decode'] }, JSON.stringify(bad));
  }
});
