/** Who may bind where, and how basic-auth credentials are read and compared. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bindRefusal, credentialsFromEnv, isLocalOnly, parseBasicAuth, sameSecret } from '../../src/dashboard/auth.ts';

describe('dashboard auth', () => {
  test('only 127.0.0.1, ::1 and localhost are served without credentials', () => {
    for (const h of ['127.0.0.1', '::1', 'localhost']) assert.equal(isLocalOnly(h), true, h);
    for (const h of ['0.0.0.0', '::', '127.0.0.2', '192.168.1.10', 'ci.example.com']) {
      assert.equal(isLocalOnly(h), false, h);
      assert.match(bindRefusal(h, null) ?? '', /CIBQ_DASHBOARD_USER and CIBQ_DASHBOARD_PASSWORD/);
      assert.equal(bindRefusal(h, { user: 'u', password: 'p' }), null);
    }
  });

  test('credentials come as a pair from the environment', () => {
    assert.equal(credentialsFromEnv({}), null);
    assert.equal(credentialsFromEnv({ CIBQ_DASHBOARD_USER: '', CIBQ_DASHBOARD_PASSWORD: '' }), null);
    assert.deepEqual(credentialsFromEnv({ CIBQ_DASHBOARD_USER: 'ops', CIBQ_DASHBOARD_PASSWORD: 'a:b c' }), { user: 'ops', password: 'a:b c' });
    assert.throws(() => credentialsFromEnv({ CIBQ_DASHBOARD_PASSWORD: 'x' }), /set both/);
    assert.throws(() => credentialsFromEnv({ CIBQ_DASHBOARD_USER: 'x' }), /set both/);
    assert.throws(() => credentialsFromEnv({ CIBQ_DASHBOARD_USER: 'a:b', CIBQ_DASHBOARD_PASSWORD: 'x' }), /must not contain ":"/);
  });

  test('the Authorization header splits at the first colon, so passwords may contain colons', () => {
    const header = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
    assert.deepEqual(parseBasicAuth(header('ops:pa:ss')), { user: 'ops', password: 'pa:ss' });
    assert.deepEqual(parseBasicAuth(header('ops:')), { user: 'ops', password: '' });
    assert.equal(parseBasicAuth(header('no-colon')), null);
    assert.equal(parseBasicAuth('Bearer abc'), null);
    assert.equal(parseBasicAuth(undefined), null);
  });

  test('secrets compare equal only when identical, whatever their lengths', () => {
    assert.equal(sameSecret('s3cret', 's3cret'), true);
    assert.equal(sameSecret('s3cret', 's3cret '), false);
    assert.equal(sameSecret('', 's3cret'), false);
    assert.equal(sameSecret('S3cret', 's3cret'), false);
  });
});
