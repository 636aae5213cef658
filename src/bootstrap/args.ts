/**
 * Command-line parsing for every subcommand: `--config FILE` (or env CIBQ_CONFIG, or ./cibq.yaml),
 * `--help`, `--log-level`. Unknown flags and missing values are usage errors (exit 2).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../util/errors.ts';
import type { LogLevel } from './logger.ts';
import { errorMessage } from '../util/coerce-error.ts';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export const COMMON_OPTIONS = {
  config: { type: 'string', short: 'c' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpec;

export type Parsed = { values: Record<string, string | boolean | undefined>; positionals: string[] };

export function parseCommand(argv: readonly string[], options: OptionSpec, allowPositionals = false): Parsed {
  try {
    const r = parseArgs({ args: [...argv], options: { ...COMMON_OPTIONS, ...options }, allowPositionals, strict: true });
    return { values: r.values, positionals: r.positionals };
  } catch (e) {
    throw new UsageError(errorMessage(e));
  }
}

export function stringFlag(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function intFlag(p: Parsed, name: string, min = 1): number | undefined {
  const v = stringFlag(p, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${v}"`);
  return Number(v);
}

const LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export function logLevel(p: Parsed, env: Readonly<Record<string, string | undefined>>): LogLevel {
  const v = stringFlag(p, 'log-level') ?? env.CIBQ_LOG_LEVEL ?? 'info';
  if (!(LEVELS as readonly string[]).includes(v)) throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}, got "${v}"`);
  return v as LogLevel;
}

/** The file every command reads when neither --config nor CIBQ_CONFIG names one (as the Procfile does). */
export const DEFAULT_CONFIG_FILE = 'cibq.yaml';

/** `--config`, else CIBQ_CONFIG, else `./cibq.yaml` when there is one in `cwd`. */
export function configPath(p: Parsed, env: Readonly<Record<string, string | undefined>>, cwd: string): string {
  const v = stringFlag(p, 'config') ?? (env.CIBQ_CONFIG === '' ? undefined : env.CIBQ_CONFIG);
  if (v !== undefined && v !== '') return v;
  const local = join(cwd, DEFAULT_CONFIG_FILE);
  if (existsSync(local)) return local;
  throw new UsageError(`no configuration: pass --config FILE or set CIBQ_CONFIG, or run where ${DEFAULT_CONFIG_FILE} is (there is none in ${cwd})`);
}
