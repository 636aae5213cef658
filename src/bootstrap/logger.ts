/**
 * The one pino root per process. Secrets never reach it: callers pass values through the
 * redactor of the run they belong to; the Redis URL is logged only through util/mask-url.ts.
 */
import { pino, type Logger } from 'pino';
import { humanDestination } from './human-log.ts';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export function makeRootLogger(opts: { name: string; level: LogLevel; destination?: NodeJS.WritableStream; human?: boolean }): Logger {
  const out = opts.human === true ? humanDestination(opts.destination ?? process.stderr) : opts.destination;
  return pino(
    {
      name: opts.name,
      level: opts.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['*.password', '*.sensitiveEnv', 'sensitiveEnv', 'password'], censor: '***' },
    },
    // pino writes synchronously to stderr by default in this shape: logs and CLI output stay apart.
    (out as pino.DestinationStream | undefined) ?? pino.destination({ fd: 2, sync: true }),
  );
}

