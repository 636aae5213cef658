/**
 * What a long-running command prints first when a person is watching (stderr is a terminal): which
 * configuration it read, where it looks for the node, which Redis, which adapters (and whether their
 * commands exist here), where the database and the reports are, and how to see them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/config.ts';
import { findExecutable } from '../util/find-executable.ts';
import { maskUrl } from '../util/mask-url.ts';

const CIBQ_BIN = join(import.meta.dirname, '..', '..', 'bin', 'cibq');

export type SummaryContext = { env: Readonly<Record<string, string | undefined>>; cwd: string; version: string };

function nodeState(config: Config): string {
  if (!existsSync(config.node.radHome)) return `not there yet: ${config.node.radHome} does not exist (cibq waits for it)`;
  if (!existsSync(config.node.socket)) return 'not running yet: no control socket (cibq waits for it)';
  return 'control socket present';
}

/** The summary, one fact a line; `what` names the command (`up: producer, worker and reporter`). */
export function startSummary(config: Config, ctx: SummaryContext, what: string): string {
  const row = (label: string, text: string): string => `  ${label.padEnd(10)} ${text}\n`;
  const adapters = Object.values(config.adapters).map((a) => {
    const found = findExecutable(a.command, ctx.env.PATH, ctx.cwd);
    return `${a.name}: ${a.command}${found.ok ? '' : `  (missing here: ${found.problem})`}`;
  });
  const configArg = config.path === null ? '' : ` --config ${config.path}`;
  return [
    `cibq ${ctx.version} ${what}\n`,
    row('config', config.path ?? '(none)'),
    row('node', `${config.node.socket}: ${nodeState(config)}`),
    row('redis', `${maskUrl(config.redis.url)} (prefix ${config.redis.prefix})`),
    ...(adapters.length === 0 ? [row('adapters', 'none configured: no run can start')] : adapters.map((a, i) => row(i === 0 ? 'adapters' : '', a))),
    row('database', config.db),
    row('reports', config.reportDir === null ? 'none (report_dir is not set)' : join(config.reportDir, 'index.html')),
    row('dashboard', `${CIBQ_BIN} dashboard${configArg}  (then open http://127.0.0.1:3000/)`),
    'Logs follow. Ctrl-C stops (running runs finish first; Ctrl-C again to force).\n',
  ].join('');
}
