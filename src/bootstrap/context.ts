/**
 * What every subcommand gets from `main`: its arguments and the process's environment, read once.
 * Nothing below reads `process.env` or writes to `process.stdout` directly.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { loadConfig } from '../config/config-load.ts';
import { makeRootLogger } from './logger.ts';
import { configPath, logLevel, type Parsed } from './args.ts';

export type CommandContext = {
  argv: string[];
  env: Readonly<Record<string, string | undefined>>;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  homeDir: string;
  /** Where ./cibq.yaml is looked for when no configuration is named. */
  cwd: string;
  version: string;
};

export function defaultContext(argv: string[]): CommandContext {
  return {
    argv,
    env: Object.freeze({ ...process.env }),
    stdout: process.stdout,
    stderr: process.stderr,
    homeDir: os.homedir(),
    cwd: process.cwd(),
    version: packageVersion(),
  };
}

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

export async function configFor(ctx: CommandContext, p: Parsed): Promise<Config> {
  return loadConfig(configPath(p, ctx.env, ctx.cwd), ctx.env, ctx.homeDir);
}

/**
 * Whether stderr is read by a person: a terminal, unless CIBQ_LOG_FORMAT=json; CIBQ_LOG_FORMAT=human
 * forces it. Then logs are human lines and long-running commands print a start summary.
 */
export function humanOutput(ctx: CommandContext): boolean {
  const format = ctx.env.CIBQ_LOG_FORMAT;
  if (format === 'human') return true;
  if (format === 'json') return false;
  return (ctx.stderr as Partial<NodeJS.WriteStream>).isTTY === true;
}

export function loggerFor(ctx: CommandContext, p: Parsed, name: string): Logger {
  return makeRootLogger({ name, level: logLevel(p, ctx.env), destination: ctx.stderr, human: humanOutput(ctx) });
}

export function print(ctx: CommandContext, text: string): void {
  ctx.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}
