import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adapterBaseEnv } from '../../src/worker/adapter-env.ts';

test('the base env inherits ours minus cibq secrets and unset values, plus the run identity', () => {
  const env = adapterBaseEnv(
    { PATH: '/usr/bin', HOME: '/home/ci', REDIS_URL: 'redis://:pw@host', CIBQ_REDIS_PASSWORD: 'pw', UNSET: undefined, RAD_HOME: '/old' },
    { CIBQ_RUN_ID: 'run-1', CIBQ_ADAPTER: 'native', RAD_HOME: '/var/lib/radicle' },
    ['REDIS_URL', 'CIBQ_REDIS_PASSWORD'],
  );
  assert.deepEqual(env, {
    PATH: '/usr/bin',
    HOME: '/home/ci',
    RAD_HOME: '/var/lib/radicle',
    CIBQ_RUN_ID: 'run-1',
    CIBQ_ADAPTER: 'native',
  });
});

test('the caller’s objects are not modified', () => {
  const processEnv = { A: '1', SECRET: 's' };
  const extra = { B: '2' };
  adapterBaseEnv(processEnv, extra, ['SECRET']);
  assert.deepEqual(processEnv, { A: '1', SECRET: 's' });
  assert.deepEqual(extra, { B: '2' });
});

test('by default an adapter never inherits the Redis secrets, the node key passphrase or the ssh-agent socket', () => {
  const env = adapterBaseEnv(
    { PATH: '/usr/bin', REDIS_URL: 'redis://:pw@h', CIBQ_REDIS_PASSWORD: 'pw', REDISCLI_AUTH: 'pw', RAD_PASSPHRASE: 'secret', SSH_AUTH_SOCK: '/tmp/agent.sock' },
    { CIBQ_RUN_ID: 'run-1' },
  );
  assert.deepEqual(env, { PATH: '/usr/bin', CIBQ_RUN_ID: 'run-1' });
});
