/**
 * The deployment files an operator installs: the systemd units pass `systemd-analyze verify` and
 * keep the settings a draining worker relies on; the Procfile starts the real commands; the
 * example configuration and environment file are accepted by `cibq config check`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { loadConfig } from '../../src/config/config-load.ts';
import { cibq } from '../helpers/cli.ts';

const ROOT = path.join(import.meta.dirname, '..', '..');
const DEPLOY = path.join(ROOT, 'deploy');
const UNITS_DIR = path.join(DEPLOY, 'systemd');
const CONFIG_EXAMPLE = path.join(DEPLOY, 'cibq.yaml.example');
const ENV_EXAMPLE = path.join(DEPLOY, 'cibq.env.example');
const EXEC = '/opt/cibq/bin/cibq';
const SERVICES = ['cibq-producer.service', 'cibq-reporter.service', 'cibq-dashboard.service', 'cibq-publisher.service', 'cibq-worker@.service'] as const;
/** What verify is asked about: the template through one of its instances. */
const VERIFIED = ['cibq.target', 'cibq-producer.service', 'cibq-reporter.service', 'cibq-dashboard.service', 'cibq-publisher.service', 'cibq-worker@main.service'];

type Unit = Map<string, Map<string, string[]>>;

/** A unit file's sections and keys; repeated keys keep every value in order. */
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | null = null;
  for (const raw of text.replace(/\\\n/g, ' ').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header?.[1] !== undefined) {
      section = new Map();
      unit.set(header[1], section);
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(section !== null && eq > 0, `not a unit file line: ${line}`);
    const key = line.slice(0, eq).trim();
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return unit;
}

function values(unit: Unit, section: string, key: string): string[] {
  return unit.get(section)?.get(key) ?? [];
}

function one(unit: Unit, section: string, key: string): string {
  const v = values(unit, section, key);
  assert.equal(v.length, 1, `[${section}] ${key}= should be set once, found ${JSON.stringify(v)}`);
  return v[0] ?? '';
}

/** systemd time spans as used here: "65min", "1h", "30s", "1min 30s"; a bare number is seconds. */
function timeSpanMs(span: string): number {
  const unitMs: Record<string, number> = { ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  for (const part of span.trim().split(/\s+/)) {
    const m = /^(\d+)([a-z]*)$/.exec(part);
    const factor = unitMs[m?.[2] || 's'];
    assert.ok(m?.[1] !== undefined && factor !== undefined, `unsupported time span ${JSON.stringify(span)}`);
    total += Number(m[1]) * factor;
  }
  return total;
}

async function readUnit(name: string): Promise<Unit> {
  return parseUnit(await readFile(path.join(UNITS_DIR, name), 'utf8'));
}

/** Runs verify in `dir` (it looks units up next to the given files) and returns its complaints. */
async function verify(dir: string, units: string[]) {
  const r = await execa('systemd-analyze', ['verify', '--man=no', ...units], { cwd: dir, reject: false, all: true });
  // Only a missing redis-server.service may be tolerated: workers on machines without Redis.
  const complaints = String(r.all)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .filter((l) => !(l.includes('redis-server.service') && /not found/i.test(l)));
  return { code: r.exitCode, complaints };
}

describe('systemd units', () => {
  let dir = '';

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cibq-units-'));
    // verify checks that ExecStart exists; cibq is not installed in /opt here.
    for (const name of await readdir(UNITS_DIR)) {
      const text = await readFile(path.join(UNITS_DIR, name), 'utf8');
      await writeFile(path.join(dir, name), text.replaceAll(EXEC, '/bin/true'));
    }
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('are exactly the producer, reporter, dashboard, publisher, worker template and target', async () => {
    assert.deepEqual((await readdir(UNITS_DIR)).sort(),
      ['cibq-dashboard.service', 'cibq-producer.service', 'cibq-publisher.service', 'cibq-reporter.service', 'cibq-worker@.service', 'cibq.target']);
  });

  test('pass systemd-analyze verify without warnings', async () => {
    const r = await verify(dir, VERIFIED);
    assert.deepEqual(r.complaints, []);
    assert.equal(r.code, 0);
  });

  test('verify as run here reports a broken unit', async () => {
    // Guards the test above: a misspelt setting is only a warning, which must not pass unseen.
    const broken = await mkdtemp(path.join(os.tmpdir(), 'cibq-units-bad-'));
    try {
      const text = await readFile(path.join(dir, 'cibq-worker@.service'), 'utf8');
      await writeFile(path.join(broken, 'cibq-worker@.service'), text.replace(/^KillMode=mixed$/m, 'KillMode=mixd'));
      const r = await verify(broken, ['cibq-worker@main.service']);
      assert.ok(r.complaints.some((l) => l.includes('mixd')), `expected a complaint, got ${JSON.stringify(r.complaints)}`);
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
  });

  test("the README's drop-in for a worker on another machine passes verify (and a broken one would not)", async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const m = /### Adding a worker on another machine[\s\S]*?```ini\n([\s\S]*?)```/.exec(readme);
    assert.ok(m?.[1], 'README has an ```ini drop-in under "Adding a worker on another machine"');
    assert.match(m[1], /^# \/etc\/systemd\/system\/cibq-worker@\.service\.d\/\S+\.conf$/m);
    for (const [text, clean] of [[m[1], true], [m[1].replace('ReadOnlyPaths=', 'ReadOnlyPath='), false]] as const) {
      const d = await mkdtemp(path.join(os.tmpdir(), 'cibq-dropin-'));
      try {
        await copyFile(path.join(dir, 'cibq-worker@.service'), path.join(d, 'cibq-worker@.service'));
        await copyFile(path.join(dir, 'cibq.target'), path.join(d, 'cibq.target'));
        await copyFile(path.join(dir, 'cibq-reporter.service'), path.join(d, 'cibq-reporter.service'));
        const { mkdir } = await import('node:fs/promises');
        await mkdir(path.join(d, 'cibq-worker@.service.d'));
        await writeFile(path.join(d, 'cibq-worker@.service.d', 'remote.conf'), text);
        const r = await verify(d, ['cibq-worker@main.service']);
        if (clean) assert.deepEqual(r.complaints, []);
        else assert.ok(r.complaints.some((l) => l.includes('ReadOnlyPath')), `verify did not read the drop-in: ${JSON.stringify(r.complaints)}`);
      } finally {
        await rm(d, { recursive: true, force: true });
      }
    }
  });

  for (const name of SERVICES) {
    test(`${name} signals only cibq on stop, so it can drain, and restarts it`, async () => {
      const u = await readUnit(name);
      assert.equal(one(u, 'Service', 'KillMode'), 'mixed');
      assert.equal(one(u, 'Service', 'KillSignal'), 'SIGTERM');
      assert.ok(timeSpanMs(one(u, 'Service', 'TimeoutStopSec')) >= 30_000);
      assert.ok(['always', 'on-failure'].includes(one(u, 'Service', 'Restart')));
      assert.ok(timeSpanMs(one(u, 'Service', 'RestartSec')) >= 1000);
      assert.deepEqual(values(u, 'Service', 'EnvironmentFile')[0], '/etc/cibq/cibq.env');
      assert.equal(one(u, 'Unit', 'PartOf'), 'cibq.target');
      assert.equal(one(u, 'Install', 'WantedBy'), 'cibq.target');
      for (const dep of ['network-online.target', 'redis-server.service']) {
        assert.ok(one(u, 'Unit', 'After').split(/\s+/).includes(dep), `After= lacks ${dep}`);
        assert.ok(one(u, 'Unit', 'Wants').split(/\s+/).includes(dep), `Wants= lacks ${dep}`);
      }
      for (const [key, want] of [['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['PrivateTmp', 'yes']] as const) {
        assert.equal(one(u, 'Service', key), want);
      }
    });
  }

  test('each service starts its own cibq command from /opt/cibq', async () => {
    const cmds: Record<string, string> = {};
    for (const name of SERVICES) {
      const exec = one(await readUnit(name), 'Service', 'ExecStart').split(/\s+/);
      assert.equal(exec[0], EXEC);
      cmds[name] = exec[1] ?? '';
    }
    assert.deepEqual(cmds, {
      'cibq-producer.service': 'producer',
      'cibq-reporter.service': 'reporter',
      'cibq-dashboard.service': 'dashboard',
      'cibq-publisher.service': 'publisher',
      'cibq-worker@.service': 'worker',
    });
  });

  test('the dashboard can read the database and reports, and does not restart into a refusal', async () => {
    const u = await readUnit('cibq-dashboard.service');
    const config = await loadConfig(CONFIG_EXAMPLE, { REDIS_URL: 'redis://127.0.0.1:6379' }, os.homedir());
    const state = values(u, 'Service', 'StateDirectory').join(' ').split(/\s+/).map((d) => `/var/lib/${d}`);
    // Writable, because an SQLite reader in WAL mode writes the -shm file next to the database.
    assert.ok(state.includes(path.dirname(config.db)), `${path.dirname(config.db)} is not writable by the dashboard`);
    assert.equal(one(u, 'Service', 'RestartPreventExitStatus'), '2');
    assert.deepEqual(values(u, 'Service', 'EnvironmentFile'), ['/etc/cibq/cibq.env', '-/etc/cibq/dashboard.env']);
  });

  test('the publisher writes only the node storage, as the node user, with the passphrase in its own file', async () => {
    const u = await readUnit('cibq-publisher.service');
    assert.equal(one(u, 'Service', 'User'), 'radicle');
    assert.deepEqual(values(u, 'Service', 'ReadWritePaths'), ['-/var/lib/radicle/storage']);
    assert.deepEqual(values(u, 'Service', 'EnvironmentFile'), ['/etc/cibq/cibq.env', '-/etc/cibq/publisher.env']);
    assert.equal(one(u, 'Service', 'RestartPreventExitStatus'), '2');
  });

  test('worker instances are named HOST-INSTANCE', async () => {
    const exec = one(await readUnit('cibq-worker@.service'), 'Service', 'ExecStart');
    assert.match(exec, / --name %H-%i( |$)/);
  });

  test('workers may take longer to stop than the longest run of the example configuration', async () => {
    const u = await readUnit('cibq-worker@.service');
    const config = await loadConfig(CONFIG_EXAMPLE, { REDIS_URL: 'redis://127.0.0.1:6379' }, os.homedir());
    const longest = Math.max(config.maxRunTimeMs, ...Object.values(config.adapters).map((a) => a.timeoutMs));
    assert.ok(timeSpanMs(one(u, 'Service', 'TimeoutStopSec')) > longest, 'a draining worker would be killed mid-run');
  });

  test('the reporter can write the database and reports despite ProtectSystem=strict', async () => {
    const u = await readUnit('cibq-reporter.service');
    const writable = [...values(u, 'Service', 'StateDirectory').join(' ').split(/\s+/).map((d) => `/var/lib/${d}`),
      ...values(u, 'Service', 'ReadWritePaths').join(' ').split(/\s+/).map((d) => d.replace(/^-/, ''))];
    const config = await loadConfig(CONFIG_EXAMPLE, { REDIS_URL: 'redis://127.0.0.1:6379' }, os.homedir());
    for (const p of [path.dirname(config.db), config.reportDir ?? '']) {
      assert.ok(writable.some((w) => p === w || p.startsWith(`${w}/`)), `${p} is not writable by the reporter`);
    }
  });
});

describe('Procfile', () => {
  const procfile = async () => {
    const lines = (await readFile(path.join(ROOT, 'Procfile'), 'utf8')).split('\n').filter((l) => l.trim() !== '');
    return new Map(lines.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
  };

  test('has a producer, a worker, a reporter, a publisher and a dashboard', async () => {
    assert.deepEqual([...(await procfile()).keys()].sort(), ['dashboard', 'producer', 'publisher', 'reporter', 'worker']);
  });

  test('each line starts its cibq command, as foreman runs it (sh -c in the project directory)', async () => {
    for (const [name, command] of await procfile()) {
      // --help after the line's own options: the command parses and reaches the right subcommand.
      const r = await execa('/bin/sh', ['-c', `${command} --help`], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.homedir() },
        extendEnv: false,
        reject: false,
      });
      assert.equal(r.exitCode, 0, `${name}: ${String(r.stderr)}`);
      assert.match(String(r.stdout), new RegExp(`^Usage: cibq ${name} `));
    }
  });
});

describe('example configuration', () => {
  let dir = '';

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cibq-dcfg-'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('cibq config check accepts deploy/cibq.yaml.example', async () => {
    const r = await cibq(['config', 'check', '--config', CONFIG_EXAMPLE], { REDIS_URL: 'redis://127.0.0.1:6379' });
    assert.equal(r.code, 0, r.stderr);
    const shown = JSON.parse(r.stdout) as { default_adapter: string; adapters: Record<string, unknown>; report_dir: string };
    assert.equal(shown.default_adapter, 'native');
    assert.deepEqual(Object.keys(shown.adapters).sort(), ['ambient', 'native']);
    assert.equal(shown.report_dir, '/var/lib/cibq/reports');
  });

  test('with deploy/cibq.env.example as the environment, the password stays out of the output', async () => {
    const env: Record<string, string> = {};
    for (const line of (await readFile(ENV_EXAMPLE, 'utf8')).split('\n')) {
      const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
      if (m?.[1] !== undefined && m[2] !== undefined) env[m[1]] = m[2];
    }
    assert.deepEqual(Object.keys(env).sort(), ['CIBQ_CONFIG', 'CIBQ_LOG_LEVEL', 'RAD_HOME', 'REDIS_URL']);
    const password = new URL(env.REDIS_URL ?? '').password;
    assert.notEqual(password, '');
    // CIBQ_CONFIG names /etc/cibq/cibq.yaml; put the example there in miniature.
    const config = path.join(dir, 'cibq.yaml');
    await copyFile(CONFIG_EXAMPLE, config);
    const r = await cibq(['config', 'check'], { ...env, CIBQ_CONFIG: config });
    assert.equal(r.code, 0, r.stderr);
    const shown = JSON.parse(r.stdout) as { redis: { url: string }; node: { rad_home: string } };
    assert.equal(shown.node.rad_home, env.RAD_HOME);
    assert.equal(shown.redis.url, 'redis://:***@127.0.0.1:6379');
    assert.ok(!r.stdout.includes(password));
  });
});
