/**
 * Loading cibq's configuration: cib's YAML keys (reference cib.md §2) with its filter tags, plus
 * cibq's `redis`, `node` and `worker` sections. Every problem is collected into one ConfigError.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { AdapterConfig, Config, TriggerConfig } from './config.ts';
import { formatDuration } from './duration.ts';
import { ConfigError, issueText } from '../util/errors.ts';
import type { ConfigIssue } from '../util/errors.ts';
import type { Filter } from './filter.ts';
import { filterToJson, parseFilterList } from './filter.ts';
import { parseYaml } from './yaml-document.ts';
import { readBool, readDuration, readEnvMap, readInt, readMap, readPlain, readSize, readString } from './config-readers.ts';

export type Env = Readonly<Record<string, string | undefined>>;
export type ParseConfigOptions = Readonly<{ path: string | null; env: Env; homeDir: string }>;

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const HOUR_MS = 3_600_000;
const TOP_KEYS = ['db', 'report_dir', 'default_adapter', 'adapters', 'filters', 'triggers', 'max_run_time',
  'queue_len_interval', 'status_update_interval_seconds', 'redis', 'node', 'worker',
  'supersede', 'kill_grace', 'drain_timeout', 'max_attempts', 'log_limit', 'keep_runs', 'report_private'];
const ADAPTER_KEYS = ['command', 'env', 'sensitive_env', 'config', 'config_env', 'timeout', 'kill_grace', 'concurrency', 'supersede'];
const DEFAULT_KILL_GRACE_MS = 10_000;
const DEFAULT_LOG_LIMIT = 1024 * 1024;

/** Reads and parses a configuration file; a missing or unreadable file is a ConfigError naming it. */
export async function loadConfig(path: string, env: Env, homeDir: string): Promise<Config> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(e);
    throw new ConfigError([{ path: '', message: `cannot read configuration file ${file}: ${why}` }], file, { cause: e });
  }
  return parseConfig(text, { path: file, env, homeDir });
}

export function parseConfig(text: string, opts: ParseConfigOptions): Config {
  const file = opts.path === null ? null : resolve(opts.path);
  const root = parseDocumentOrThrow(text, file);
  const issues: ConfigIssue[] = [];
    const top = readMap(issues, root ?? {}, '', TOP_KEYS);
  if (top === null) throw new ConfigError(issues, file);
  const base = file === null ? process.cwd() : dirname(file);
  const toPath = (p: string): string => resolve(base, expandHome(p, opts.homeDir));
  const envValue = (name: string): string | undefined => (opts.env[name] === '' ? undefined : opts.env[name]);

  const db = readString(issues, top.db, 'db', true);
  const reportDir = readString(issues, top.report_dir, 'report_dir', false);
  const maxRunTimeMs = readDuration(issues, top.max_run_time, 'max_run_time') ?? HOUR_MS;
  const queueLenIntervalMs = readDuration(issues, top.queue_len_interval, 'queue_len_interval') ?? HOUR_MS;
  const supersede = readBool(issues, top.supersede, 'supersede') ?? false;
  const killGraceMs = readDuration(issues, top.kill_grace, 'kill_grace') ?? DEFAULT_KILL_GRACE_MS;
  const drainTimeoutMs = readDuration(issues, top.drain_timeout, 'drain_timeout') ?? maxRunTimeMs;
  const maxAttempts = readInt(issues, top.max_attempts, 'max_attempts', 1) ?? 2;
  const logLimitBytes = readSize(issues, top.log_limit, 'log_limit') ?? DEFAULT_LOG_LIMIT;
  const keepRuns = readInt(issues, top.keep_runs, 'keep_runs', 1);
  const reportPrivate = readBool(issues, top.report_private, 'report_private') ?? false;

  const adapters: Record<string, AdapterConfig> = {};
  const declared = readMap(issues, top.adapters, 'adapters', null) ?? {};
  for (const [name, spec] of Object.entries(declared)) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) {
      issues.push({ path: `adapters.${name}`, message: 'adapter names may contain only letters, digits, ".", "_" and "-" (up to 64)' });
      continue;
    }
    const a = readAdapter(issues, name, spec, maxRunTimeMs, killGraceMs);
    if (a !== null) adapters[name] = a;
  }
  const adapterDefined = (v: unknown, path: string): string | null => {
    const name = readString(issues, v, path, true);
    if (name !== null && !Object.hasOwn(declared, name)) {
      issues.push({ path, message: `adapter "${name}" is not defined in adapters` });
    }
    return name;
  };

  const filters = parseFilterList(top.filters, 'filters', issues);
  const defaultAdapter = top.default_adapter === undefined || top.default_adapter === null
    ? null : adapterDefined(top.default_adapter, 'default_adapter');
  if (defaultAdapter === null && filters.length > 0 && (top.default_adapter ?? null) === null) {
    issues.push({ path: 'default_adapter', message: 'required when filters is not empty (filters start runs on the default adapter)' });
  }

  const triggers: TriggerConfig[] = [];
  const triggerList = top.triggers;
  if (triggerList !== null && triggerList !== undefined && !Array.isArray(triggerList)) {
    issues.push({ path: 'triggers', message: 'expected a list of {adapter, filters}' });
  } else {
    (triggerList ?? []).forEach((t: unknown, i: number) => {
      const path = `triggers[${i}]`;
      const m = readMap(issues, t, path, ['adapter', 'filters', 'supersede']);
      if (m === null) return;
      const adapter = adapterDefined(m.adapter, `${path}.adapter`);
      if (m.filters === undefined) issues.push({ path: `${path}.filters`, message: 'required' });
      const fs: Filter[] = parseFilterList(m.filters, `${path}.filters`, issues);
      const triggerSupersede = readBool(issues, m.supersede, `${path}.supersede`);
      if (adapter !== null) triggers.push({ adapter, filters: fs, supersede: triggerSupersede });
    });
  }

  const redis = readMap(issues, top.redis, 'redis', ['url', 'prefix']) ?? {};
  const redisUrl = checkRedisUrl(envValue('REDIS_URL'), 'REDIS_URL', issues)
    ?? checkRedisUrl(readString(issues, redis.url, 'redis.url', false), 'redis.url', issues) ?? DEFAULT_REDIS_URL;
  const prefix = readString(issues, redis.prefix, 'redis.prefix', false) ?? 'cibq';

  const node = readMap(issues, top.node, 'node', ['rad_home']) ?? {};
  const radHomeEnv = envValue('RAD_HOME');
  const radHome = radHomeEnv !== undefined
    ? resolve(expandHome(radHomeEnv, opts.homeDir))
    : toPath(readString(issues, node.rad_home, 'node.rad_home', false) ?? '~/.radicle');
  const socketEnv = envValue('RAD_SOCKET');
  const socket = socketEnv !== undefined ? resolve(expandHome(socketEnv, opts.homeDir)) : join(radHome, 'node', 'control.sock');

  const worker = readMap(issues, top.worker, 'worker', ['concurrency', 'lock_duration']) ?? {};
  const lockDurationMs = readDuration(issues, worker.lock_duration, 'worker.lock_duration') ?? 30_000;
  if (lockDurationMs < 100) issues.push({ path: 'worker.lock_duration', message: 'must be at least 100ms' });
  let concurrency = 2;
  if (worker.concurrency !== undefined && worker.concurrency !== null) {
    if (typeof worker.concurrency === 'number' && Number.isInteger(worker.concurrency) && worker.concurrency >= 1) {
      concurrency = worker.concurrency;
    } else {
      issues.push({ path: 'worker.concurrency', message: `expected a whole number ≥ 1, found ${JSON.stringify(worker.concurrency)}` });
    }
  }

  if (issues.length > 0) throw new ConfigError(issues, file);
  return deepFreeze({
    path: file,
    db: toPath(db ?? ''),
    reportDir: reportDir === null ? null : toPath(reportDir),
    defaultAdapter,
    adapters,
    filters,
    triggers,
    maxRunTimeMs,
    queueLenIntervalMs,
    supersede,
    killGraceMs,
    drainTimeoutMs,
    maxAttempts,
    logLimitBytes,
    keepRuns,
    reportPrivate,
    redis: { url: redisUrl, prefix },
    node: { radHome, socket },
    worker: { concurrency, lockDurationMs },
  });
}

/** Parses a filter file for `cibq event filter`: `filters: [ … ]` as cib's, or a bare list. */
export function parseFiltersFile(text: string, file: string | null): Filter[] {
  const root = parseDocumentOrThrow(text, file);
  const issues: ConfigIssue[] = [];
  const list = Array.isArray(root) ? root : readMap(issues, root ?? {}, '', ['filters'])?.filters;
  const filters = parseFilterList(list, 'filters', issues);
  if (issues.length > 0) throw new ConfigError(issues, file);
  return filters;
}

/** The resolved configuration as JSON (cib key names), with secrets replaced by "***". */
export function maskedConfig(c: Config): unknown {
  const adapters: Record<string, unknown> = {};
  for (const a of Object.values(c.adapters)) {
    adapters[a.name] = {
      command: a.command,
      env: { ...a.env },
      sensitive_env: Object.fromEntries(Object.keys(a.sensitiveEnv).map((k) => [k, '***'])),
      config: a.config,
      config_env: a.configEnv,
      timeout: formatDuration(a.timeoutMs),
      kill_grace: formatDuration(a.killGraceMs),
      concurrency: a.concurrency,
      supersede: a.supersede,
    };
  }
  return {
    path: c.path,
    db: c.db,
    report_dir: c.reportDir,
    default_adapter: c.defaultAdapter,
    adapters,
    filters: c.filters.map(filterToJson),
    triggers: c.triggers.map((t) => ({ adapter: t.adapter, filters: t.filters.map(filterToJson), ...(t.supersede === null ? {} : { supersede: t.supersede }) })),
    max_run_time: formatDuration(c.maxRunTimeMs),
    queue_len_interval: formatDuration(c.queueLenIntervalMs),
    supersede: c.supersede,
    kill_grace: formatDuration(c.killGraceMs),
    drain_timeout: formatDuration(c.drainTimeoutMs),
    max_attempts: c.maxAttempts,
    log_limit: c.logLimitBytes,
    keep_runs: c.keepRuns,
    report_private: c.reportPrivate,
    redis: { url: maskRedisUrl(c.redis.url), prefix: c.redis.prefix },
    node: { rad_home: c.node.radHome, socket: c.node.socket },
    worker: { concurrency: c.worker.concurrency, lock_duration: formatDuration(c.worker.lockDurationMs) },
  };
}

/** One line per issue: `adapters.native.command: required`. */
export function formatConfigError(e: ConfigError): string {
  return e.issues.map(issueText).join('\n');
}

export function maskRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    if (u.searchParams.has('password')) u.searchParams.set('password', '***');
    return u.href;
  } catch {
    return '***';
  }
}

function parseDocumentOrThrow(text: string, file: string | null): unknown {
  const { value, problems } = parseYaml(text);
  if (problems.length > 0) {
    const issues = problems.map((p) => ({ path: '', message: `YAML syntax error at line ${p.line}, column ${p.column}: ${p.message}` }));
    throw new ConfigError(issues, file);
  }
  return value;
}

function readAdapter(issues: ConfigIssue[], name: string, spec: unknown, maxRunTimeMs: number, killGraceMs: number): AdapterConfig | null {
  const path = `adapters.${name}`;
  const before = issues.length;
  const m = readMap(issues, spec, path, ADAPTER_KEYS);
  if (m === null) return null;
  const command = readString(issues, m.command, `${path}.command`, true);
  const env = readEnvMap(issues, m.env, `${path}.env`);
  const sensitiveEnv = readEnvMap(issues, m.sensitive_env, `${path}.sensitive_env`);
  const config = readPlain(issues, m.config, `${path}.config`) ?? null;
  const configEnv = readString(issues, m.config_env, `${path}.config_env`, false);
  if (config !== null && configEnv === null && m.config_env === undefined) {
    issues.push({ path: `${path}.config_env`, message: 'required when config is set (names the variable that gets the config file path)' });
  }
  const timeoutMs = readDuration(issues, m.timeout, `${path}.timeout`) ?? maxRunTimeMs;
  const grace = readDuration(issues, m.kill_grace, `${path}.kill_grace`) ?? killGraceMs;
  const concurrency = readInt(issues, m.concurrency, `${path}.concurrency`, 1);
  const supersede = readBool(issues, m.supersede, `${path}.supersede`);
  if (issues.length > before || command === null) return null;
  return { name, command, env, sensitiveEnv, config, configEnv, timeoutMs, killGraceMs: grace, concurrency, supersede };
}

function checkRedisUrl(url: string | null | undefined, path: string, issues: ConfigIssue[]): string | null {
  if (url === null || url === undefined) return null;
  let ok: boolean;
  try {
    const u = new URL(url);
    ok = (u.protocol === 'redis:' || u.protocol === 'rediss:') && u.hostname !== '';
  } catch {
    ok = false;
  }
  if (!ok) issues.push({ path, message: `invalid Redis URL ${JSON.stringify(maskRedisUrl(url))} (expected redis://host:port or rediss://…)` });
  return ok ? url : null;
}

function expandHome(p: string, homeDir: string): string {
  if (p === '~') return homeDir;
  if (p.startsWith('~/')) return join(homeDir, p.slice(2));
  return p;
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}
