import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatConfigError, loadConfig, maskedConfig, parseConfig, parseFiltersFile } from '../../src/config/config-load.ts';
import type { Config } from '../../src/config/config.ts';
import { ConfigError, UsageError } from '../../src/util/errors.ts';
import { filterToJson } from '../../src/config/filter.ts';

const RID = 'rad:z2e6URdt1we1iG1BCVqtx8QVgsX4a';
const HOME = '/home/ci';
const opts = { path: '/etc/cibq/cibq.yaml', env: {}, homeDir: HOME } as const;

// cib.md §2.3, verbatim.
const CIB_EXAMPLE = `
db: /var/lib/radicle-ci/ci-broker.db
report_dir: /var/lib/radicle-ci/reports
max_run_time: 1h
queue_len_interval: 1h
default_adapter: native
adapters:
  native:
    command: radicle-native-ci
    env:
      RADICLE_NATIVE_CI: /etc/radicle-ci/native.yaml
      PATH: /bin:/usr/bin:/home/_rad/.radicle/bin
    sensitive_env:
      SOME_TOKEN: not-logged
  ambient:
    command: /bin/radicle-ci-ambient
    env:
      RADICLE_CI_AMBIENT: /home/_rad/radicle-ci-ambient.yaml
      RADICLE_CI_BROKER_WEBROOT: /srv/pages/ci-broker
  native2:                       # newer inline-config form (nixpkgs)
    command: /usr/bin/radicle-native-ci
    config: { base_url: "https://ci.example.org/state", state: /srv/http, log: /var/log/native.log }
    config_env: RADICLE_NATIVE_CI
filters:                         # global: OR of these → default_adapter
  - !And
    - !Repository "${RID}"
    - !Branch "main"
triggers:                        # each independent: adapter + its own OR-list
  - adapter: ambient
    filters:
      - !And
        - !HasFile ".radicle/ambient.yaml"
        - !Or [ !DefaultBranch, !PatchCreated, !PatchUpdated ]
  - adapter: native
    filters:
      - !Branch "staging"
`;

/** Runs parseConfig expecting a ConfigError; returns its issues as "path: message" lines. */
function errors(text: string, o: Parameters<typeof parseConfig>[1] = opts): string[] {
  try {
    parseConfig(text, o);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return formatConfigError(e).split('\n');
  }
  assert.fail('expected a ConfigError');
}

describe('parseConfig', () => {
  test("cib's full example parses", () => {
    const c = parseConfig(CIB_EXAMPLE, opts);
    assert.equal(c.path, '/etc/cibq/cibq.yaml');
    assert.equal(c.db, '/var/lib/radicle-ci/ci-broker.db');
    assert.equal(c.reportDir, '/var/lib/radicle-ci/reports');
    assert.equal(c.defaultAdapter, 'native');
    assert.equal(c.maxRunTimeMs, 3_600_000);
    assert.equal(c.queueLenIntervalMs, 3_600_000);
    assert.deepEqual(Object.keys(c.adapters), ['native', 'ambient', 'native2']);
    assert.deepEqual(c.adapters.native, {
      name: 'native',
      command: 'radicle-native-ci',
      env: { RADICLE_NATIVE_CI: '/etc/radicle-ci/native.yaml', PATH: '/bin:/usr/bin:/home/_rad/.radicle/bin' },
      sensitiveEnv: { SOME_TOKEN: 'not-logged' },
      config: null,
      configEnv: null,
      timeoutMs: 3_600_000,
      killGraceMs: 10_000,
      concurrency: null,
      supersede: null,
      jobCobs: null,
    });
    assert.deepEqual(c.adapters.native2?.config, { base_url: 'https://ci.example.org/state', state: '/srv/http', log: '/var/log/native.log' });
    assert.equal(c.adapters.native2?.configEnv, 'RADICLE_NATIVE_CI');
    assert.deepEqual(c.filters, [{ kind: 'And', filters: [{ kind: 'Repository', rid: RID }, { kind: 'Branch', name: 'main' }] }]);
    assert.deepEqual(c.triggers.map((t) => ({ adapter: t.adapter, filters: t.filters.map(filterToJson) })), [
      { adapter: 'ambient', filters: [{ And: [{ HasFile: '.radicle/ambient.yaml' }, { Or: ['DefaultBranch', 'PatchCreated', 'PatchUpdated'] }] }] },
      { adapter: 'native', filters: [{ Branch: 'staging' }] },
    ]);
  });

  test('the JSON (nix) form gives the same configuration', () => {
    const json = JSON.stringify({
      db: '/var/lib/radicle-ci/ci-broker.db',
      default_adapter: 'native',
      adapters: { native: { command: 'radicle-native-ci' }, ambient: { command: '/bin/radicle-ci-ambient' } },
      filters: [{ And: [{ Repository: RID }, { Branch: 'main' }] }],
      triggers: [
        { adapter: 'ambient', filters: [{ And: [{ HasFile: '.radicle/ambient.yaml' }, { Or: ['DefaultBranch', 'PatchCreated', 'PatchUpdated'] }] }] },
        { adapter: 'native', filters: [{ Branch: 'staging' }] },
      ],
    });
    const fromJson = parseConfig(json, opts);
    const fromYaml = parseConfig(CIB_EXAMPLE, opts);
    assert.deepEqual(fromJson.filters, fromYaml.filters);
    assert.deepEqual(fromJson.triggers, fromYaml.triggers);
  });

  test("cibq's run-control keys: supersede, kill_grace, drain_timeout, max_attempts, log_limit, keep_runs, report_private", () => {
    const c = parseConfig(
      [
        'db: x.db',
        'supersede: true',
        'kill_grace: 3s',
        'drain_timeout: 5m',
        'max_attempts: 3',
        'log_limit: 2MiB',
        'keep_runs: 500',
        'report_private: true',
        'adapters:',
        '  a: { command: /bin/true, concurrency: 1, supersede: false, kill_grace: 1s }',
        '  b: { command: /bin/true }',
        'triggers:',
        '  - { adapter: b, filters: [ !Allow ], supersede: false }',
      ].join('\n'),
      opts,
    );
    assert.equal(c.supersede, true);
    assert.equal(c.killGraceMs, 3000);
    assert.equal(c.drainTimeoutMs, 300_000);
    assert.equal(c.maxAttempts, 3);
    assert.equal(c.logLimitBytes, 2 * 1024 * 1024);
    assert.equal(c.keepRuns, 500);
    assert.equal(c.reportPrivate, true);
    assert.deepEqual([c.adapters.a?.concurrency, c.adapters.a?.supersede, c.adapters.a?.killGraceMs], [1, false, 1000]);
    assert.deepEqual([c.adapters.b?.concurrency, c.adapters.b?.supersede, c.adapters.b?.killGraceMs], [null, null, 3000]);
    assert.equal(c.triggers[0]?.supersede, false);
    assert.equal(parseConfig('db: x.db\nworker: { lock_duration: 5s }', opts).worker.lockDurationMs, 5000);
    const d = parseConfig('db: x.db\nmax_run_time: 2h', opts);
    assert.equal(d.worker.lockDurationMs, 30_000);
    assert.deepEqual([d.supersede, d.killGraceMs, d.drainTimeoutMs, d.maxAttempts, d.logLimitBytes, d.keepRuns, d.reportPrivate], [false, 10_000, 7_200_000, 2, 1024 * 1024, null, false]);
    assert.deepEqual(errors('db: x.db\nsupersede: yes please\nmax_attempts: 0\nlog_limit: lots\nadapters:\n  "bad name": { command: x }\n  a: { command: x, concurrency: 0 }'), [
      'supersede: expected true or false, found string "yes please"',
      'max_attempts: expected a whole number ≥ 1, found number 0',
      'log_limit: expected a size of at least 1KiB such as 1048576 or "1MiB", found string "lots"',
      'adapters.bad name: adapter names may contain only letters, digits, ".", "_" and "-" (up to 64)',
      'adapters.a.concurrency: expected a whole number ≥ 1, found number 0',
    ]);
  });

  test('defaults', () => {
    const c = parseConfig('db: /var/cibq.db\n', opts);
    assert.equal(c.reportDir, null);
    assert.equal(c.defaultAdapter, null);
    assert.deepEqual(c.adapters, {});
    assert.deepEqual(c.filters, []);
    assert.deepEqual(c.triggers, []);
    assert.equal(c.maxRunTimeMs, 3_600_000);
    assert.equal(c.queueLenIntervalMs, 3_600_000);
    assert.deepEqual(c.redis, { url: 'redis://127.0.0.1:6379', prefix: 'cibq', tls: null, sentinels: null, name: null });
    assert.deepEqual(c.node, { radHome: '/home/ci/.radicle', socket: '/home/ci/.radicle/node/control.sock' });
    assert.deepEqual(c.worker, { concurrency: 2, lockDurationMs: 30_000 });
  });

  test("cibq's own keys, adapter timeout, env stringification, ignored legacy key", () => {
    const c = parseConfig(`
db: x.db
max_run_time: 2h
status_update_interval_seconds: 10
redis: { url: "redis://:pw@redis.example:6380/1", prefix: ci }
node: { rad_home: /srv/radicle }
worker: { concurrency: 8 }
adapters:
  a: { command: a, timeout: 1h 30m, env: { N: 3, B: true, S: "s" } }
  b: { command: b }
`, opts);
    assert.deepEqual(c.redis, { url: 'redis://:pw@redis.example:6380/1', prefix: 'ci', tls: null, sentinels: null, name: null });
    assert.deepEqual(c.node, { radHome: '/srv/radicle', socket: '/srv/radicle/node/control.sock' });
    assert.equal(c.worker.concurrency, 8);
    assert.equal(c.adapters.a?.timeoutMs, 5_400_000);
    assert.equal(c.adapters.b?.timeoutMs, 7_200_000, 'defaults to max_run_time');
    assert.deepEqual(c.adapters.a?.env, { N: '3', B: 'true', S: 's' });
  });

  test('redis.tls names CA and client certificate files (relative to the config); redis.sentinels and redis.name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cfg-tls-'));
    try {
      for (const f of ['ca.crt', 'client.crt', 'client.key']) await writeFile(join(dir, f), 'x');
      const at = { ...opts, path: join(dir, 'cibq.yaml') };
      const c = parseConfig(`db: x.db
redis:
  url: "rediss://:pw@ignored:6379/2"
  tls: { ca: ca.crt, cert: client.crt, key: ${join(dir, 'client.key')} }
  sentinels: [ "10.0.0.1:26379", "sentinel-b.example:26380", "[::1]:26381" ]
  name: cibq-primary
`, at);
      assert.deepEqual(c.redis, {
        url: 'rediss://:pw@ignored:6379/2',
        prefix: 'cibq',
        tls: { ca: join(dir, 'ca.crt'), cert: join(dir, 'client.crt'), key: join(dir, 'client.key') },
        sentinels: [{ host: '10.0.0.1', port: 26379 }, { host: 'sentinel-b.example', port: 26380 }, { host: '::1', port: 26381 }],
        name: 'cibq-primary',
      });
      assert.deepEqual((maskedConfig(c) as { redis: unknown }).redis, {
        url: 'rediss://:***@ignored:6379/2',
        prefix: 'cibq',
        tls: { ca: join(dir, 'ca.crt'), cert: join(dir, 'client.crt'), key: join(dir, 'client.key') },
        sentinels: ['10.0.0.1:26379', 'sentinel-b.example:26380', '[::1]:26381'],
        name: 'cibq-primary',
      });
      assert.deepEqual(errors(`db: x.db
redis:
  url: "redis://plain:6379"
  tls: { ca: missing.crt, cert: client.crt, extra: 1 }
  sentinels: [ "10.0.0.1:26379", "nope", 7, "h:99999" ]
`, at), [
        'redis.tls.extra: unknown key',
        `redis.tls.ca: no such file ${join(dir, 'missing.crt')}`,
        'redis.tls.key: cert and key go together (a client certificate and its key)',
        'redis.tls: needs a rediss:// URL (redis.url or REDIS_URL)',
        'redis.sentinels[1]: expected "host:port", found "nope"',
        'redis.sentinels[2]: expected a non-empty string, found number 7',
        'redis.sentinels[3]: expected "host:port", found "h:99999"',
        'redis.name: required with redis.sentinels (the name the Sentinels monitor)',
      ]);
      assert.deepEqual(errors('db: x.db\nredis: { name: n, sentinels: [] }\n', at), ['redis.sentinels: expected a non-empty list of "host:port"']);
      assert.deepEqual(errors('db: x.db\nredis: { name: n }\n', at), ['redis.name: only used with redis.sentinels']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('environment overrides: REDIS_URL, RAD_HOME, RAD_SOCKET (empty values ignored)', () => {
    const text = 'db: x.db\nredis: { url: "redis://file:6379" }\nnode: { rad_home: /from/file }\n';
    const c = parseConfig(text, { ...opts, env: { REDIS_URL: 'redis://env:6379', RAD_HOME: '/from/env' } });
    assert.equal(c.redis.url, 'redis://env:6379');
    assert.deepEqual(c.node, { radHome: '/from/env', socket: '/from/env/node/control.sock' });
    const s = parseConfig(text, { ...opts, env: { RAD_SOCKET: '/run/rad.sock', RAD_HOME: '~/rad' } });
    assert.deepEqual(s.node, { radHome: '/home/ci/rad', socket: '/run/rad.sock' });
    const empty = parseConfig(text, { ...opts, env: { REDIS_URL: '', RAD_HOME: '' } });
    assert.equal(empty.redis.url, 'redis://file:6379');
    assert.equal(empty.node.radHome, '/from/file');
    assert.deepEqual(errors('db: x\n', { ...opts, env: { REDIS_URL: 'http://nope' } }), [
      'REDIS_URL: invalid Redis URL "http://nope/" (expected redis://host:port or rediss://…)',
    ]);
  });

  test('relative paths resolve against the config directory (cwd without a file); ~ is the home dir', () => {
    const c = parseConfig('db: state/ci.db\nreport_dir: ../www\nnode: { rad_home: ~/.rad }\n', opts);
    assert.equal(c.db, '/etc/cibq/state/ci.db');
    assert.equal(c.reportDir, '/etc/www');
    assert.equal(c.node.radHome, '/home/ci/.rad');
    const r = parseConfig('db: rel.db\nnode: { rad_home: rh }\n', { ...opts, path: null });
    assert.equal(r.path, null);
    assert.equal(r.db, join(process.cwd(), 'rel.db'));
    assert.equal(r.node.radHome, join(process.cwd(), 'rh'));
  });

  test('every error names its key path, and all are reported at once', () => {
    assert.deepEqual(
      errors(`
frobnicate: 1
max_run_time: 1x
queue_len_interval: -1m
default_adapter: x
adapters:
  native: { env: { A: [1] }, comand: radicle-native-ci }
  inline: { command: c, config: { a: 1 }, timeout: 0s }
filters:
  - !And [ !Branch main, !Brnch x ]
triggers:
  - adapter: foo
    filters: []
  - { adapter: native, filter: [] }
redis: { url: "localhost:6379", extra: 1 }
worker: { concurrency: 0 }
node: { rad_home: "" }
`),
      [
        'frobnicate: unknown key',
        'db: required',
        'max_run_time: invalid duration "1x": unknown unit "x"',
        'queue_len_interval: invalid duration "-1m": must not be negative',
        'adapters.native.comand: unknown key',
        'adapters.native.command: required',
        'adapters.native.env.A: expected a string, found a list',
        'adapters.inline.config_env: required when config is set (names the variable that gets the config file path)',
        'adapters.inline.timeout: invalid duration "0s": must be more than zero',
        'filters[0].And[1]: unknown filter tag !Brnch (did you mean !Branch?)',
        'default_adapter: adapter "x" is not defined in adapters',
        'triggers[0].adapter: adapter "foo" is not defined in adapters',
        'triggers[1].filter: unknown key',
        'triggers[1].filters: required',
        'redis.extra: unknown key',
        'redis.url: invalid Redis URL "localhost:6379" (expected redis://host:port or rediss://…)',
        'node.rad_home: expected a non-empty string, found string ""',
        'worker.concurrency: expected a whole number ≥ 1, found 0',
      ],
    );
  });

  test('default_adapter is required once global filters are used', () => {
    assert.deepEqual(errors('db: x\nadapters: { a: { command: a } }\nfilters: [ !Branch main ]\n'), [
      'default_adapter: required when filters is not empty (filters start runs on the default adapter)',
    ]);
    // Triggers alone need no default adapter.
    assert.equal(parseConfig('db: x\nadapters: { a: { command: a } }\ntriggers: [ { adapter: a, filters: [ !Allow ] } ]\n', opts).defaultAdapter, null);
  });

  test('wrong shapes and misplaced tags are reported, not crashed on', () => {
    assert.deepEqual(errors('- db\n'), ['expected a map, found a list']);
    assert.deepEqual(errors(''), ['db: required']);
    assert.deepEqual(errors('db: !Branch x\nadapters: [a]\ntriggers: { a: 1 }\n'), [
      'db: expected a non-empty string, found tag !Branch',
      'adapters: expected a map, found a list',
      'triggers: expected a list of {adapter, filters}',
    ]);
    assert.deepEqual(errors('db: x\nadapters: { a: { command: a, config_env: C, config: { k: !Branch main } } }\n'), [
      'adapters.a.config.k: unexpected tag !Branch',
    ]);
  });

  test('a branch pattern that is not a git ref name is a config error at the filter\'s path', () => {
    assert.deepEqual(errors('db: x\nadapters: { a: { command: a } }\ntriggers:\n  - adapter: a\n    filters: [ !And [ !DefaultBranch, !Branch "bad..name" ] ]\n'), [
      'triggers[0].filters[0].And[1]: !Branch "bad..name": not a valid git ref name (it contains ".."), so it can never match',
    ]);
  });

  test('an adapter or trigger left empty is an error, not silently skipped', () => {
    assert.deepEqual(errors('db: x\nadapters: { a: null, b: { command: b, config: { k: 1 }, config_env: null } }\ntriggers: [ null ]\n'), [
      'adapters.a: expected a map, found nothing',
      'adapters.b.config_env: required when config is set (names the variable that gets the config file path)',
      'triggers[0]: expected a map, found nothing',
    ]);
  });

  test('YAML syntax errors carry line and column', () => {
    const [line] = errors('db: x\nfilters: [ !Branch main\n');
    assert.match(line ?? '', /^YAML syntax error at line \d+, column \d+: /);
    assert.match(errors('db: x\ndb: y\n')[0] ?? '', /unique/);
  });

  test('the result is deeply frozen', () => {
    const c = parseConfig(CIB_EXAMPLE, opts) as { -readonly [K in keyof Config]: unknown } & Config;
    assert.ok(Object.isFrozen(c));
    assert.ok(Object.isFrozen(c.adapters.native?.env));
    assert.ok(Object.isFrozen(c.filters[0]));
    assert.ok(Object.isFrozen(c.triggers[0]?.filters));
    assert.ok(Object.isFrozen(c.adapters.native2?.config));
    assert.throws(() => {
      (c as { db: string }).db = '/tmp/evil';
    }, TypeError);
  });
});

describe('maskedConfig', () => {
  test('hides sensitive_env values and the Redis password, keeps the rest', () => {
    const c = parseConfig(CIB_EXAMPLE, { ...opts, env: { REDIS_URL: 'redis://user:hunter2@redis.example:6379/0' } });
    const m = maskedConfig(c);
    const text = JSON.stringify(m);
    assert.ok(!text.includes('not-logged'));
    assert.ok(!text.includes('hunter2'));
    const obj = m as {
      redis: { url: string };
      adapters: Record<string, { sensitive_env: unknown; env: unknown; timeout: string }>;
      filters: unknown;
      max_run_time: string;
    };
    assert.equal(obj.redis.url, 'redis://user:***@redis.example:6379/0');
    assert.deepEqual(obj.adapters.native?.sensitive_env, { SOME_TOKEN: '***' });
    assert.deepEqual(obj.adapters.native?.env, c.adapters.native?.env);
    assert.equal(obj.adapters.native?.timeout, '1h');
    assert.equal(obj.max_run_time, '1h');
    assert.deepEqual(obj.filters, [{ And: [{ Repository: RID }, { Branch: 'main' }] }]);
    // The masked output is itself a usable config once cibq-computed keys are dropped.
    const { path: _p, node, ...rest } = m as Record<string, unknown> & { node: { rad_home: string } };
    const again = parseConfig(JSON.stringify({ ...rest, node: { rad_home: node.rad_home } }), opts);
    assert.deepEqual(again.filters, c.filters);
    assert.deepEqual(again.triggers, c.triggers);
  });
});

describe('loadConfig', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cfg-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('reads the file and resolves paths next to it', async () => {
    const file = join(dir, 'cibq.yaml');
    await writeFile(file, 'db: ci.db\nreport_dir: reports\n');
    const c = await loadConfig(file, {}, HOME);
    assert.equal(c.path, file);
    assert.equal(c.db, join(dir, 'ci.db'));
    assert.equal(c.reportDir, join(dir, 'reports'));
  });

  test('a missing file is a ConfigError naming the path', async () => {
    const file = join(dir, 'nope.yaml');
    await assert.rejects(loadConfig(file, {}, HOME), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.name, 'ConfigError');
      assert.equal(e.file, file);
      assert.equal(formatConfigError(e), `cannot read configuration file ${file}: no such file`);
      return true;
    });
  });

  test('errors carry the file in their message', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'db: x\nfoo: 1\nbar: 2\n');
    await assert.rejects(loadConfig(file, {}, HOME), {
      name: 'ConfigError',
      message: `invalid configuration in ${file}: foo: unknown key (and 1 more)`,
    });
  });
});

describe('parseFiltersFile', () => {
  test("accepts cib's `filters:` file and a bare list", () => {
    assert.deepEqual(parseFiltersFile('filters:\n  - !Branch main\n  - !Not !BranchDeleted\n', null), [
      { kind: 'Branch', name: 'main' },
      { kind: 'Not', filter: { kind: 'BranchDeleted' } },
    ]);
    assert.deepEqual(parseFiltersFile('["DefaultBranch"]', null), [{ kind: 'DefaultBranch' }]);
    assert.throws(() => parseFiltersFile('filters: [ !Nope ]\nother: 1\n', 'f.yaml'), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.issues.map((i) => i.path), ['other', 'filters[0]']);
      return true;
    });
  });
});

test('UsageError has its name', () => {
  const e = new UsageError('unknown command frob');
  assert.equal(e.name, 'UsageError');
  assert.ok(e instanceof Error);
});

describe('job COBs (job_cobs, report_url)', () => {
  test('off by default; an adapter setting wins over the global one', () => {
    const c = parseConfig('db: x.db\nadapters:\n  a: { command: /bin/a }\n  b: { command: /bin/b, job_cobs: false }\n', opts);
    assert.equal(c.jobCobs, false);
    assert.equal(c.reportUrl, null);
    assert.equal(c.adapters.a?.jobCobs, null);
    const on = parseConfig('db: x.db\njob_cobs: true\nreport_url: https://ci.example.org/reports\nadapters:\n  a: { command: /bin/a }\n  b: { command: /bin/b, job_cobs: false }\n', opts);
    assert.equal(on.jobCobs, true);
    assert.equal(on.reportUrl, 'https://ci.example.org/reports');
    assert.equal(on.adapters.b?.jobCobs, false);
  });

  test('job_cobs on needs a report_url, unless every such adapter gives an info_url of its own', () => {
    assert.deepEqual(errors('db: x.db\njob_cobs: true\nadapters:\n  a: { command: /bin/a }\n  b: { command: /bin/b, job_cobs: false }\n'), [
      "report_url: required when job_cobs is on for adapters that give no info_url of their own (a): a job's log link points at the run page under it",
    ]);
    assert.deepEqual(errors('db: x.db\nadapters:\n  a: { command: /bin/a, job_cobs: true }\n'), [
      "report_url: required when job_cobs is on for adapters that give no info_url of their own (a): a job's log link points at the run page under it",
    ]);
    const native = 'db: x.db\njob_cobs: true\nadapters:\n  n:\n    command: /usr/bin/cibq-native\n    config: { base_url: "https://ci.example.org/state", state: /srv/state }\n    config_env: RADICLE_NATIVE_CI\n';
    assert.equal(parseConfig(native, opts).adapters.n?.jobCobs, null);
    assert.deepEqual(errors('db: x.db\nreport_url: ftp://x/\n'), ['report_url: must be an absolute http:// or https:// URL']);
  });
});
