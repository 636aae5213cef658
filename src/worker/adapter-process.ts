/**
 * Drive one adapter run (reference cib.md §4.1): spawn the adapter without a shell, write the
 * trigger message as one line and close stdin, read `triggered` then `finished` from stdout, hand
 * stderr to `onStderr` (the caller keeps the redacted, bounded run log), and enforce the time limit and cancellation by killing the whole
 * process group (SIGTERM, then SIGKILL after a grace period).
 *
 * A failed, broken or stuck adapter is a value: runAdapter resolves for every adapter behaviour.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { Logger } from 'pino';
import type { AdapterConfig } from '../config/config.ts';
import type { RunResult } from '../model/run.ts';
import type { TriggerMessage } from '../model/trigger-message.ts';
import { AdapterStdout } from './adapter-stdout.ts';
import { spawnGroup } from './process-group.ts';
import { errorMessage } from '../util/coerce-error.ts';
import { formatDuration } from '../config/duration.ts';

export type AdapterOutcome = {
  result: RunResult;
  /** Null when the adapter reported success or failure; otherwise what went wrong. */
  reason: string | null;
  adapterRunId: string | null;
  infoUrl: string | null;
  /** Null if the adapter was killed by a signal or never started. */
  exitCode: number | null;
  signal: string | null;
  startedAt: string;
  finishedAt: string;
};

export type Triggered = { adapterRunId: string; infoUrl: string | null; at: string };

export type RunAdapterOptions = {
  adapter: AdapterConfig;
  message: TriggerMessage;
  /** The complete base environment of the child; adapter.env and adapter.sensitiveEnv go on top. */
  env: Readonly<Record<string, string>>;
  timeoutMs: number;
  /** Time between SIGTERM and SIGKILL. */
  killGraceMs: number;
  /** Aborting it cancels the run (result 'cancelled'; a string reason becomes the outcome's reason). */
  signal?: AbortSignal;
  log: Logger;
  onTriggered?: (t: Triggered) => void | Promise<void>;
  onStderr?: (chunk: string) => void;
  /** Called with the adapter's pid (also its process group id) once it is spawned. */
  onSpawn?: (pid: number) => void;
  /** Masks secrets in each stdout line before it is parsed, quoted in a reason or logged. */
  redact?: (s: string) => string;
};

/** Largest delay Node timers accept. */
const MAX_DELAY = 2 ** 31 - 1;

export async function runAdapter(opts: RunAdapterOptions): Promise<AdapterOutcome> {
  const startedAt = new Date().toISOString();
  const { adapter, log } = opts;
  if (opts.signal?.aborted) {
    log.info('run cancelled before the adapter started');
    return { ...emptyOutcome(startedAt), result: 'cancelled', reason: cancelReason(opts.signal) };
  }
  let config: Awaited<ReturnType<typeof writeConfigFile>>;
  try {
    config = await writeConfigFile(adapter);
  } catch (err) {
    const redact = opts.redact ?? ((s: string): string => s);
    const reason = redact(`could not write the adapter's config file for ${adapter.configEnv ?? 'config_env'}: ${errorMessage(err)}`);
    log.error({ reason }, 'adapter not started');
    return { ...emptyOutcome(startedAt), result: 'error', reason };
  }
  try {
    return await drive(opts, startedAt, config?.env ?? {});
  } finally {
    await config?.remove();
  }
}

async function drive(opts: RunAdapterOptions, startedAt: string, configVars: Record<string, string>): Promise<AdapterOutcome> {
  const { adapter, log } = opts;
  const redact = opts.redact ?? ((s: string): string => s);
  const child = spawnGroup(adapter.command, { ...opts.env, ...adapter.env, ...adapter.sensitiveEnv, ...configVars });
  const pid = child.process.pid;

  const out = new AdapterStdout({
    redact,
    onProtocolError: (reason) => {
      log.warn({ reason }, 'adapter broke the protocol; stopping it');
      stop(); // SIGTERM to the group, SIGKILL after the grace period
    },
    onTriggered: (triggered) => {
      const t: Triggered = { adapterRunId: triggered.run_id.id, infoUrl: triggered.info_url ?? null, at: new Date().toISOString() };
      log.info({ adapterRunId: t.adapterRunId, infoUrl: t.infoUrl }, 'adapter triggered');
      const onTriggered = opts.onTriggered;
      if (onTriggered) {
        onTriggeredDone = Promise.resolve()
          .then(() => onTriggered(t))
          .catch((err: unknown) => log.warn({ err }, 'onTriggered callback failed'));
      }
    },
    onFinished: (result) => log.info({ result }, 'adapter reported a result'),
  });
  let onTriggeredDone: Promise<void> = Promise.resolve();

  // Stopping: SIGTERM to the whole group, SIGKILL after the grace period (once, whatever asks first).
  let stopping = false;
  let forced = false;
  let graceTimer: NodeJS.Timeout | undefined;
  const stop = (): void => {
    if (stopping || pid === undefined) return;
    stopping = true;
    child.kill('SIGTERM');
    graceTimer = setTimeout(() => {
      if (child.exited) return;
      forced = true;
      child.kill('SIGKILL');
    }, clampDelay(opts.killGraceMs));
  };
  let timedOut = false;
  let cancelled = false;
  const timeoutTimer = setTimeout(() => {
    timedOut = true;
    stop();
  }, clampDelay(opts.timeoutMs));
  const onAbort = (): void => {
    cancelled = true;
    stop();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  child.process.stdout?.on('data', (chunk: Buffer) => out.write(chunk));
  const errDecoder = new StringDecoder('utf8');
  child.process.stderr?.on('data', (chunk: Buffer) => {
    const onStderr = opts.onStderr;
    if (!onStderr) return;
    const text = errDecoder.write(chunk);
    if (text === '') return;
    try {
      onStderr(text);
    } catch (err) {
      log.warn({ err }, 'onStderr callback failed');
    }
  });

  // Once the adapter exits, nothing it left behind may live on: SIGKILL its process group. If a
  // descendant escaped the group and still holds stdout/stderr open, stop waiting for them.
  let streamTimer: NodeJS.Timeout | undefined;
  void child.exit.then(() => {
    clearTimeout(timeoutTimer);
    if (pid === undefined) return;
    child.kill('SIGKILL');
    streamTimer = setTimeout(() => {
      log.warn('adapter output still open after it exited; closing it');
      child.process.stdout?.destroy();
      child.process.stderr?.destroy();
    }, clampDelay(opts.killGraceMs) + 1000);
  });

  if (pid !== undefined) {
    log.info({ command: adapter.command, pid }, 'adapter started');
    opts.onSpawn?.(pid);
    child.process.stdin?.end(`${JSON.stringify(opts.message)}\n`);
  }
  const res = await child.closed;
  clearTimeout(streamTimer);
  clearTimeout(timeoutTimer);
  clearTimeout(graceTimer);
  opts.signal?.removeEventListener('abort', onAbort);
  out.end();
  await onTriggeredDone;

  const outcome: AdapterOutcome = {
    ...emptyOutcome(startedAt),
    adapterRunId: out.triggered?.run_id.id ?? null,
    infoUrl: out.triggered?.info_url ?? null,
    exitCode: res.exitCode,
    signal: res.signal,
    finishedAt: new Date().toISOString(),
  };
  const killed = forced ? `; it ignored SIGTERM and was killed with SIGKILL after ${formatDuration(opts.killGraceMs)}` : '';
  const [result, reason]: [RunResult, string | null] = res.spawnError !== null
    ? ['error', `could not start adapter ${adapter.command}: ${spawnError(res.spawnError)}`]
    : out.protocolError !== null
      ? ['error', out.protocolError]
      : out.finished !== null
        ? [out.finished, null]
        : timedOut
          ? ['timeout', `adapter exceeded time limit of ${formatDuration(opts.timeoutMs)}${killed}`]
          : cancelled
            ? ['cancelled', opts.signal ? cancelReason(opts.signal) : 'run was cancelled']
            : ['error', earlyEnd(outcome.exitCode, outcome.signal, out.triggered !== null)];
  if (out.finished !== null && (timedOut || cancelled)) {
    log.warn('adapter reported a result but did not exit in time; keeping the reported result');
  }
  log.info({ result, reason, exitCode: outcome.exitCode, signal: outcome.signal }, 'adapter run ended');
  return { ...outcome, result, reason };
}

function emptyOutcome(startedAt: string): AdapterOutcome {
  return {
    result: 'error',
    reason: null,
    adapterRunId: null,
    infoUrl: null,
    exitCode: null,
    signal: null,
    startedAt,
    finishedAt: new Date().toISOString(),
  };
}

/** Why a run that did not report a result ended. */
function earlyEnd(exitCode: number | null, signal: string | null, wasTriggered: boolean): string {
  const stage = wasTriggered ? 'after its triggered line, before writing a finished line' : 'before writing a triggered line';
  if (signal !== null) return `adapter was killed by ${signal} ${stage}`;
  if (exitCode !== null && exitCode !== 0) return `adapter exited with code ${exitCode} ${stage}`;
  return wasTriggered
    ? 'adapter exited after its triggered line without writing a finished line'
    : 'adapter exited without writing any response (expected a triggered line)';
}

function spawnError(err: NodeJS.ErrnoException): string {
  const code = err.code;
  const hint = code === 'ENOENT' ? ' (no such file, or not found on PATH)' : code === 'EACCES' ? ' (not executable)' : '';
  return `${code ?? 'error'}${hint}: ${err.message}`;
}

function cancelReason(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  if (typeof r === 'string') return r;
  if (r instanceof Error && r.name !== 'AbortError' && r.message !== '') return r.message;
  return 'run was cancelled';
}

function clampDelay(ms: number): number {
  return Math.min(MAX_DELAY, Math.max(0, Math.round(ms)));
}

/** The adapter's inline `config`, as JSON in a private temp file named by `config_env`. */
async function writeConfigFile(adapter: AdapterConfig): Promise<{ env: Record<string, string>; remove: () => Promise<void> } | null> {
  if (adapter.config == null || adapter.configEnv === null || adapter.configEnv === '') return null;
  const dir = await mkdtemp(join(tmpdir(), 'cibq-adapter-'));
  const file = join(dir, 'config.json');
  try {
    await writeFile(file, `${JSON.stringify(adapter.config)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return { env: { [adapter.configEnv]: file }, remove: () => rm(dir, { recursive: true, force: true }) };
}
