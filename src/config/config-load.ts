/**
 * Loading cibq's configuration: the file is read, its YAML turned into plain values (yaml-document.ts)
 * and those parsed by the schema (config.ts). Every problem is collected into one ConfigError.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Config, Env } from './config.ts';
import { configSchema, envOverrides } from './config.ts';
import { maskUrl } from '../util/mask-url.ts';
import { formatDuration } from './duration.ts';
import { ConfigError, issueText } from '../util/errors.ts';
import type { ConfigIssue } from '../util/errors.ts';
import { parseInto, section } from './config-fields.ts';
import type { Filter } from './filter.ts';
import { FilterList, filterToJson } from './filter.ts';
import { isPlainMap, parseYaml } from './yaml-document.ts';

export type ParseConfigOptions = Readonly<{ path: string | null; env: Env; homeDir: string }>;

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
  const root = parseDocumentOrThrow(text, file) ?? {};
  const issues: ConfigIssue[] = [];
  const env = parseInto(envOverrides(opts.homeDir), opts.env, '', issues) ?? {};
  // References to adapters are checked against every name the file declares, even one whose definition is broken.
  const adapterNames = isPlainMap(root) && isPlainMap(root.adapters) ? Object.keys(root.adapters) : [];
  const config = parseInto(configSchema({ file, homeDir: opts.homeDir, env, adapterNames }), root, '', issues);
  if (config === null || issues.length > 0) throw new ConfigError(issues, file);
  return config;
}

/** Parses a filter file for `cibq event filter`: `filters: [ … ]` as cib's, or a bare list. */
export function parseFiltersFile(text: string, file: string | null): Filter[] {
  const root = parseDocumentOrThrow(text, file);
  const issues: ConfigIssue[] = [];
  const parsed = parseInto(section({ filters: FilterList.default([]) }), Array.isArray(root) ? { filters: root } : root ?? {}, '', issues);
  if (parsed === null) throw new ConfigError(issues, file);
  return parsed.filters;
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
      job_cobs: a.jobCobs,
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
    report_url: c.reportUrl,
    job_cobs: c.jobCobs,
    redis: {
      url: maskUrl(c.redis.url),
      prefix: c.redis.prefix,
      tls: c.redis.tls === null ? null : { ...c.redis.tls },
      sentinels: c.redis.sentinels === null ? null : c.redis.sentinels.map((s) => `${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`),
      name: c.redis.name,
    },
    node: { rad_home: c.node.radHome, socket: c.node.socket },
    trust: { nodes: c.trust.nodes, threshold: c.trust.threshold },
    worker: { concurrency: c.worker.concurrency, lock_duration: formatDuration(c.worker.lockDurationMs) },
  };
}

/** One line per issue: `adapters.native.command: required`. */
export function formatConfigError(e: ConfigError): string {
  return e.issues.map(issueText).join('\n');
}

function parseDocumentOrThrow(text: string, file: string | null): unknown {
  const { value, problems } = parseYaml(text);
  if (problems.length > 0) {
    const issues = problems.map((p) => ({ path: '', message: `YAML syntax error at line ${p.line}, column ${p.column}: ${p.message}` }));
    throw new ConfigError(issues, file);
  }
  return value;
}
