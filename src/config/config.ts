/**
 * cibq's configuration: cib's YAML keys (reference cib.md §2–3) plus cibq's own, as one zod schema
 * whose output is the Config type. A key is one line of a section below (its type, default and
 * checks, and its name in Config when that differs), so adding one is a one-line change. Parsed once
 * at start-up into a deeply frozen object; nothing reads process.env afterwards.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { bool, deepFreeze, duration, envMap, int, list, map, plain, section, size, text } from './config-fields.ts';
import { FilterList } from './filter.ts';
import { maskUrl } from '../util/mask-url.ts';

export type Env = Readonly<Record<string, string | undefined>>;
/** What the schema needs besides the document: the file, the home directory, the environment's overrides, the declared adapters. */
export type SchemaContext = Readonly<{ file: string | null; homeDir: string; env: EnvOverrides; adapterNames: readonly string[] }>;

export type Config = z.output<ReturnType<typeof configSchema>>;
export type AdapterConfig = Config['adapters'][string];
export type TriggerConfig = Config['triggers'][number];

const HOUR_MS = 3_600_000;
const ADAPTER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function configSchema(cx: SchemaContext) {
  const base = cx.file === null ? process.cwd() : dirname(cx.file);
  /** A path: `~` is the home directory, relative paths are relative to the config file (or cwd). */
  const path = text.transform((p) => resolve(base, expandHome(p, cx.homeDir)));
  const adapterName = text.refine((n) => cx.adapterNames.includes(n), { error: (i) => `adapter "${String(i.input)}" is not defined in adapters` });
  const orNull = <S extends z.ZodType>(s: S) => s.nullable().default(null);
  /** A path that must name an existing file. */
  const file = path.refine((p) => existsSync(p), { error: (i) => `no such file ${String(i.input)}` });

  const adapter = section({
    /** Spawned directly, never through a shell. */
    command: text,
    env: envMap,
    sensitive_env: ['sensitiveEnv', envMap],
    /** Inline adapter configuration, written to a file whose path goes in `config_env`. */
    config: plain.default(null),
    config_env: ['configEnv', orNull(text)],
    /** This adapter's time limit; defaults to max_run_time. */
    timeout: ['timeoutMs', duration.optional()],
    /** Grace between SIGTERM and SIGKILL; defaults to the global kill_grace. */
    kill_grace: ['killGraceMs', duration.optional()],
    /** Runs of this adapter at once across all workers (BullMQ global concurrency), or null for no cap. */
    concurrency: orNull(int(1)),
    /** Whether a newer commit cancels older runs of this adapter; null inherits the global setting. */
    supersede: orNull(bool),
    /** Publish this adapter's runs as job COBs; null inherits the global job_cobs. */
    job_cobs: ['jobCobs', orNull(bool)],
  }, (a, problem) => {
    if (a.config != null && a.config_env == null) problem('config_env', 'required when config is set (names the variable that gets the config file path)');
  });

  const trigger = section({
    adapter: adapterName,
    filters: FilterList,
    /** Overrides the adapter's and the global supersede setting for runs this trigger starts. */
    supersede: orNull(bool),
  });

  // Problems are reported in this order, so default_adapter comes after what it depends on.
  const top = section({
    /** The SQLite database. */
    db: path,
    /** The report directory, or null for no reports. */
    report_dir: ['reportDir', orNull(path)],
    max_run_time: ['maxRunTimeMs', duration.default(HOUR_MS)],
    /** Accepted for cib compatibility. */
    queue_len_interval: ['queueLenIntervalMs', duration.default(HOUR_MS)],
    status_update_interval_seconds: [null, z.unknown().optional()],
    /** A newer commit for the same repository and branch or patch cancels older runs of the same adapter. */
    supersede: bool.default(false),
    /** Grace between SIGTERM and SIGKILL when a run is stopped. */
    kill_grace: ['killGraceMs', duration.default(10_000)],
    /** How long a draining worker lets running runs go on before cancelling them (default max_run_time). */
    drain_timeout: ['drainTimeoutMs', duration.optional()],
    /** Attempts of a run whose worker was lost before it ends with error. */
    max_attempts: ['maxAttempts', int(1).default(2)],
    /** Bytes of adapter log kept per run, head and tail. */
    log_limit: ['logLimitBytes', size.default(1024 * 1024)],
    /** Runs kept per repository in the database, or null to keep all. */
    keep_runs: ['keepRuns', orNull(int(1))],
    /** Publish runs of private repositories in the reports. */
    report_private: ['reportPrivate', bool.default(false)],
    /** The public URL report_dir is served at: run pages linked from job COBs live under it. */
    report_url: ['reportUrl', orNull(httpUrl)],
    /** Publish every run to the Radicle network as a signed xyz.radworks.job COB (per adapter: job_cobs). */
    job_cobs: ['jobCobs', bool.default(false)],
    adapters: map(z.record(z.string().regex(ADAPTER_NAME), adapter, { error: 'adapter names may contain only letters, digits, ".", "_" and "-" (up to 64)' })).default({}),
    filters: FilterList.default([]),
    default_adapter: ['defaultAdapter', orNull(adapterName)],
    triggers: list(trigger, 'a list of {adapter, filters}').default([]),
    redis: section({
      url: redisUrl.default('redis://127.0.0.1:6379').transform((url) => cx.env.REDIS_URL ?? url),
      prefix: text.default('cibq'),
      /** For a rediss:// URL: the CA that signed Redis's certificate, and a client certificate and its key. */
      tls: orNull(section({ ca: file, cert: orNull(file), key: orNull(file) }, (t, problem) => {
        if ((t.cert == null) !== (t.key == null)) problem(t.cert == null ? 'cert' : 'key', 'cert and key go together (a client certificate and its key)');
      })),
      /** Find the primary through these Sentinels ("host:port"), under `name`; the URL then gives only scheme, credentials and db. */
      sentinels: orNull(list(sentinelAddress, 'a list of "host:port"').min(1, 'expected a non-empty list of "host:port"')),
      name: orNull(text),
    }, (r, problem) => {
      if (r.tls != null && typeof r.url === 'string' && !r.url.startsWith('rediss:')) problem('tls', 'needs a rediss:// URL (redis.url or REDIS_URL)');
      if (r.sentinels != null && r.name == null) problem('name', 'required with redis.sentinels (the name the Sentinels monitor)');
      if (r.sentinels == null && r.name != null) problem('name', 'only used with redis.sentinels');
    }).prefault({}),
    node: section({ rad_home: ['radHome', path.prefault('~/.radicle').transform((p) => cx.env.RAD_HOME ?? p)] }).prefault({}),
    /** Whose signed results count (`cibq verify`, the agreement view): nodes null = the repository's delegates. */
    trust: section({
      nodes: orNull(list(text.regex(/^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]{44}$/, 'a did:key:z6Mk… node id'), 'a list of did:key:z6Mk… node ids')),
      threshold: int(1).default(1),
    }).prefault({}),
    /** Runs at once per worker process; how long a run stays locked to its worker without a renewal. */
    worker: section({
      concurrency: int(1, (v) => JSON.stringify(v)).default(2),
      lock_duration: ['lockDurationMs', duration.refine((ms) => ms >= 100, 'must be at least 100ms').default(30_000)],
    }).prefault({}),
  }, (c, problem) => {
    if (c.default_adapter == null && Array.isArray(c.filters) && c.filters.length > 0) {
      problem('default_adapter', 'required when filters is not empty (filters start runs on the default adapter)');
    }
    const silent = adaptersWithoutLogUrl(c.adapters, c.job_cobs === true);
    if (c.report_url == null && silent.length > 0) {
      problem('report_url', `required when job_cobs is on for adapters that give no info_url of their own (${silent.join(', ')}): a job's log link points at the run page under it`);
    }
  });

  return top.transform((c) => deepFreeze({
    ...c,
    /** The file the config came from, or null. */
    path: cx.file,
    drainTimeoutMs: c.drainTimeoutMs ?? c.maxRunTimeMs,
    adapters: Object.fromEntries(Object.entries(c.adapters).map(([name, a]) => [name, { name, ...a, timeoutMs: a.timeoutMs ?? c.maxRunTimeMs, killGraceMs: a.killGraceMs ?? c.killGraceMs }])),
    node: { ...c.node, socket: cx.env.RAD_SOCKET ?? join(c.node.radHome, 'node', 'control.sock') },
  }));
}

/** "host:port" (an IPv6 host in brackets) → { host, port }. */
const sentinelAddress = text
  .refine((s) => /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/.test(s) && Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535, {
    error: (i) => `expected "host:port", found ${JSON.stringify(i.input)}`,
  })
  .transform((s) => ({ host: s.slice(0, s.lastIndexOf(':')).replace(/^\[|\]$/g, ''), port: Number(s.slice(s.lastIndexOf(':') + 1)) }));

const httpUrl = text.refine((u) => /^https?:$/.test(URL.parse(u)?.protocol ?? ''), 'must be an absolute http:// or https:// URL');

/**
 * Adapters whose runs go out as job COBs without a log URL of their own: only cibq-native and the
 * Radicle native adapter with a `base_url` are known to give every run an info_url.
 */
function adaptersWithoutLogUrl(raw: unknown, globalOn: boolean): string[] {
  if (typeof raw !== 'object' || raw === null) return [];
  return Object.entries(raw as Record<string, unknown>).flatMap(([name, a]) => {
    // Parsed adapters carry `jobCobs`; one that failed to parse still has its raw `job_cobs`.
    const spec = (typeof a === 'object' && a !== null ? a : {}) as { jobCobs?: unknown; job_cobs?: unknown; command?: unknown; config?: unknown };
    const own = spec.jobCobs ?? spec.job_cobs;
    const on = typeof own === 'boolean' ? own : globalOn;
    const cmd = typeof spec.command === 'string' ? (spec.command.split('/').pop() ?? '') : '';
    const baseUrl = typeof spec.config === 'object' && spec.config !== null && 'base_url' in spec.config;
    const givesUrl = (cmd === 'cibq-native' || cmd === 'radicle-native-ci') && baseUrl;
    return on && !givesUrl ? [name] : [];
  });
}

const isRedisUrl = (url: string): boolean => {
  const u = URL.parse(url);
  return u !== null && (u.protocol === 'redis:' || u.protocol === 'rediss:') && u.hostname !== '';
};
const redisUrl = text.refine(isRedisUrl, {
  error: (i) => `invalid Redis URL ${JSON.stringify(maskUrl(String(i.input)))} (expected redis://host:port or rediss://…)`,
});

/** The environment's overrides of the file: REDIS_URL, RAD_HOME, RAD_SOCKET (empty values count as unset). */
export const envOverrides = (homeDir: string) => {
  const path = z.string().transform((p) => resolve(expandHome(p, homeDir))).optional();
  const set = (env: unknown) => Object.fromEntries(Object.entries(env as Env).filter(([, v]) => v !== ''));
  return z.preprocess(set, z.object({ REDIS_URL: redisUrl.optional(), RAD_HOME: path, RAD_SOCKET: path }));
};
export type EnvOverrides = Readonly<z.output<ReturnType<typeof envOverrides>>>;

function expandHome(p: string, homeDir: string): string {
  if (p === '~') return homeDir;
  if (p.startsWith('~/')) return join(homeDir, p.slice(2));
  return p;
}
