/**
 * cibq-native's configuration: the Radicle native CI adapter's YAML file, named by the
 * RADICLE_NATIVE_CI variable (reference cib.md §9: `state`, `log`, `base_url`, `timeout`), plus
 * cibq-native's own keys: `sandbox`, `network`, `keep` and `git_url`. cibq's adapter `config` key
 * writes it as JSON, which is YAML too. Every problem is reported with its key; relative paths are
 * taken from the working directory, as the Rust adapter takes them.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../util/errors.ts';

export const CONFIG_ENV = 'RADICLE_NATIVE_CI';
const DEFAULT_TIMEOUT_SECONDS = 3600;

export type NativeConfig = Readonly<{
  /** Directory of the per-run directories (`<state>/<run id>/log.html`), served at base_url. */
  state: string;
  /** The admin log: one JSON line per adapter event, appended. */
  log: string;
  /** Where `state` is served, without a trailing slash; info_url = `<base_url>/<run id>/log.html`. */
  baseUrl: string | null;
  timeoutMs: number;
  sandbox: 'none' | 'bwrap';
  /** Whether a sandboxed script may use the network. */
  network: boolean;
  /** Keep the checkout (and the run's home) after the run. */
  keep: boolean;
  /** Where to fetch a repository that is not in the node's storage: `{rid}` is its id without `rad:`. */
  gitUrl: string | null;
}>;

const Schema = z
  .object({
    state: z.string().min(1),
    log: z.string().min(1),
    base_url: z.url({ protocol: /^https?$/ }).nullish(),
    timeout: z.number().int().positive().nullish(),
    sandbox: z.enum(['none', 'bwrap']).nullish(),
    network: z.boolean().nullish(),
    keep: z.boolean().nullish(),
    git_url: z
      .string()
      .refine((s) => s.includes('{rid}'), 'must contain {rid}, e.g. https://seed.example.org/{rid}.git')
      .nullish(),
  })
  .strict();

/** Parses the configuration text; throws ConfigError naming every bad key. */
export function parseNativeConfig(text: string, file: string | null, cwd: string): NativeConfig {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((e) => ({ path: '', message: `YAML syntax error: ${e.message.split('\n')[0] ?? ''}` }));
    throw new ConfigError(issues, file);
  }
  const parsed = Schema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    const issues: ConfigIssue[] = parsed.error.issues.flatMap((i) =>
      i.code === 'unrecognized_keys'
        ? i.keys.map((k) => ({ path: k, message: 'unknown key' }))
        : [{ path: i.path.join('.'), message: i.message }],
    );
    throw new ConfigError(issues, file);
  }
  const c = parsed.data;
  if (c.network === false && c.sandbox !== 'bwrap') {
    throw new ConfigError([{ path: 'network', message: 'false needs sandbox: bwrap (without a sandbox the script has the host network)' }], file);
  }
  return {
    state: resolve(cwd, c.state),
    log: resolve(cwd, c.log),
    baseUrl: c.base_url == null ? null : c.base_url.replace(/\/+$/, ''),
    timeoutMs: (c.timeout ?? DEFAULT_TIMEOUT_SECONDS) * 1000,
    sandbox: c.sandbox ?? 'none',
    network: c.network ?? false,
    keep: c.keep ?? false,
    gitUrl: c.git_url ?? null,
  };
}

/** Reads the file named by RADICLE_NATIVE_CI. */
export function loadNativeConfig(env: Readonly<Record<string, string | undefined>>, cwd: string): NativeConfig {
  const file = env[CONFIG_ENV];
  if (file === undefined || file === '') {
    throw new ConfigError([{ path: '', message: `${CONFIG_ENV} is not set: it must name cibq-native's configuration file` }]);
  }
  let text: string;
  try {
    text = readFileSync(resolve(cwd, file), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError([{ path: '', message: `cannot read ${CONFIG_ENV}=${file}: ${code === 'ENOENT' ? 'no such file' : String(e)}` }], file);
  }
  return parseNativeConfig(text, resolve(cwd, file), cwd);
}
