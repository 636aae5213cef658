/**
 * `cibq-native`: the native CI adapter as an executable (bin/cibq-native), for cibq and for cib.
 * Wiring only: configuration from RADICLE_NATIVE_CI, the admin log, one trigger line from stdin,
 * protocol lines to stdout, everything else to stderr, SIGTERM/SIGINT stopping the script.
 */
import { realpathSync } from 'node:fs';
import { pino } from 'pino';
import { packageVersion } from '../bootstrap/context.ts';
import { ConfigError, issueText } from '../util/errors.ts';
import { CONFIG_ENV, loadNativeConfig } from './native-config.ts';
import { nativeRun } from './native-run.ts';

export const NATIVE_HELP = `Usage: cibq-native < trigger.json

A CI adapter for cibq and Radicle's cib (the adapter protocol: one trigger line in, "triggered" and
"finished" out). It checks the commit out from the node's storage and runs the script in its
.radicle/native.yaml with bash, optionally sandboxed with bubblewrap. Configuration: the YAML file
named by ${CONFIG_ENV} (state, log, base_url, timeout, sandbox, network, keep, git_url).`;

/** The trigger request is one line; anything longer is not one. */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

async function readRequestLine(stdin: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stdin) {
    text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    const nl = text.indexOf('\n');
    if (nl >= 0) return text.slice(0, nl);
    if (text.length > MAX_REQUEST_BYTES) break;
  }
  return text;
}

export async function nativeMain(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const version = packageVersion();
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${NATIVE_HELP}\n`);
    return 0;
  }
  if (argv.includes('--version')) {
    process.stdout.write(`cibq-native ${version}\n`);
    return 0;
  }
  let config;
  try {
    config = loadNativeConfig(env, process.cwd());
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`cibq-native: invalid configuration${e.file ? ` ${e.file}` : ''}:\n${e.issues.map((i) => `  ${issueText(i)}\n`).join('')}`);
    return 2;
  }
  let log;
  try {
    log = pino(
      { name: 'cibq-native', base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
      pino.destination({ dest: config.log, sync: true, mkdir: true, append: true }),
    );
  } catch (e) {
    process.stderr.write(`cibq-native: cannot open the log file ${config.log} (the log key): ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  const stop = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => stop.abort(`cibq-native received ${sig}`);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const line = await readRequestLine(process.stdin);
    return await nativeRun(
      {
        config,
        env,
        version,
        log,
        stderr: (t) => process.stderr.write(t),
        respond: (m) => process.stdout.write(`${JSON.stringify(m)}\n`),
        signal: stop.signal,
      },
      line,
    );
  } catch (e) {
    // A fault of the adapter or the machine (the state directory not writable, a full disk): said
    // in one line; no `finished` is written, so the broker records an error.
    process.stderr.write(`cibq-native: ${e instanceof Error ? e.message : String(e)}\n`);
    log.error({ err: e }, 'run failed');
    return 1;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === import.meta.filename) {
  process.exitCode = await nativeMain(process.argv.slice(2), process.env);
}
