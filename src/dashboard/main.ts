/** `cibq dashboard`: wiring only — flags, credentials from the environment, signals — around `startDashboard`. */
import { bindRefusal, credentialsFromEnv, PASSWORD_ENV, USER_ENV } from './auth.ts';
import { DEFAULT_HOST, DEFAULT_PORT, startDashboard } from './dashboard.ts';
import { UsageError } from '../util/errors.ts';
import { intFlag, parseCommand, stringFlag } from '../bootstrap/args.ts';
import { configFor, loggerFor, print, type CommandContext } from '../bootstrap/context.ts';
import { runUntilSignal } from '../bootstrap/lifecycle.ts';
import { errorMessage } from '../util/coerce-error.ts';

export const DASHBOARD_HELP = `Usage: cibq dashboard [--host HOST] [--port PORT] [--read-only] [--config FILE] [--log-level LEVEL]

Serves the Bull dashboard of every run queue (/queues), the HTML reports of report_dir (/reports/),
/healthz and Prometheus /metrics on http://${DEFAULT_HOST}:${DEFAULT_PORT}/ by default.

  --host HOST    address to listen on (default ${DEFAULT_HOST}); any other address requires
                 basic-auth credentials in ${USER_ENV} and ${PASSWORD_ENV}
  --port PORT    port to listen on (default ${DEFAULT_PORT})
  --read-only    no retry, remove, promote, clean or pause actions

With ${USER_ENV} and ${PASSWORD_ENV} set, every page but /healthz requires them.`;

const FLAGS = { host: { type: 'string' }, port: { type: 'string' }, 'read-only': { type: 'boolean' } } as const;

export async function dashboardMain(ctx: CommandContext): Promise<number> {
  const p = parseCommand(ctx.argv, FLAGS);
  if (p.values.help) {
    print(ctx, DASHBOARD_HELP);
    return 0;
  }
  const host = stringFlag(p, 'host') ?? DEFAULT_HOST;
  const port = intFlag(p, 'port', 0) ?? DEFAULT_PORT;
  if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);
  let credentials;
  try {
    credentials = credentialsFromEnv(ctx.env);
  } catch (e) {
    throw new UsageError(errorMessage(e));
  }
  const refusal = bindRefusal(host, credentials);
  if (refusal !== null) throw new UsageError(refusal);
  const config = await configFor(ctx, p);
  const log = loggerFor(ctx, p, 'cibq-dashboard');
  let dashboard;
  try {
    dashboard = await startDashboard({
      config,
      log,
      version: ctx.version,
      host,
      port,
      readOnly: p.values['read-only'] === true,
      credentials,
    });
  } catch (e) {
    const why = listenProblem(e);
    if (why === null) throw e;
    ctx.stderr.write(`cibq: the dashboard cannot listen on ${host}:${port}: ${why}\n`);
    return 1;
  }
  return runUntilSignal(log, { stop: () => dashboard.close() });
}

/** One line for the ways binding a port fails, or null for anything else. */
function listenProblem(e: unknown): string | null {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code === 'EADDRINUSE') return 'the port is already in use (another dashboard?); choose another with --port';
  if (code === 'EACCES') return 'permission denied (ports below 1024 need privileges); choose another with --port';
  if (code === 'EADDRNOTAVAIL') return 'no such address on this machine; check --host';
  return null;
}
