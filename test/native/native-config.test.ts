/**
 * cibq-native's configuration file: radicle-native-ci's keys mean what they mean there, cibq's
 * adapter `config` (written as JSON) is read the same, and every mistake names its key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNativeConfig } from '../../src/native/native-config.ts';
import { ConfigError } from '../../src/util/errors.ts';

function issues(text: string): string[] {
  try {
    parseNativeConfig(text, '/etc/native.yaml', '/srv');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail('expected a ConfigError');
}

test("radicle-native-ci's configuration works unchanged, with cibq-native's defaults for the rest", () => {
  const c = parseNativeConfig('base_url: https://ci.example.org/state/\nstate: /srv/http\nlog: native.log\ntimeout: 600\n', null, '/srv');
  assert.deepEqual(c, {
    state: '/srv/http',
    log: '/srv/native.log',
    baseUrl: 'https://ci.example.org/state',
    timeoutMs: 600_000,
    sandbox: 'none',
    network: false,
    keep: false,
    gitUrl: null,
  });
  assert.equal(parseNativeConfig('{"state":"s","log":"l"}', null, '/w').timeoutMs, 3_600_000, 'JSON (what cibq writes) is YAML too');
});

test('the sandbox keys and git_url', () => {
  const c = parseNativeConfig('state: s\nlog: l\nsandbox: bwrap\nnetwork: true\nkeep: true\ngit_url: https://seed.example.org/{rid}.git\n', null, '/w');
  assert.equal(c.sandbox, 'bwrap');
  assert.equal(c.network, true);
  assert.equal(c.keep, true);
  assert.equal(c.gitUrl, 'https://seed.example.org/{rid}.git');
});

test('every mistake is named by its key', () => {
  assert.deepEqual(issues('log: l\n'), ['state: Invalid input: expected string, received undefined']);
  assert.deepEqual(issues('state: s\nlog: l\nsandbox: docker\nextra: 1\n'), ['sandbox: Invalid option: expected one of "none"|"bwrap"', 'extra: unknown key']);
  assert.deepEqual(issues('state: s\nlog: l\ngit_url: https://seed.example.org/repo.git\n'), ['git_url: must contain {rid}, e.g. https://seed.example.org/{rid}.git']);
  assert.deepEqual(issues('state: s\nlog: l\nbase_url: ftp://x\n'), ['base_url: Invalid URL']);
  assert.deepEqual(issues('state: s\nlog: l\ntimeout: 0\n'), ['timeout: Too small: expected number to be >0']);
  assert.deepEqual(issues('state: s\nlog: l\nnetwork: false\n'), ['network: false needs sandbox: bwrap (without a sandbox the script has the host network)']);
  assert.match(issues('state: [\n')[0] ?? '', /^: YAML syntax error/);
});
