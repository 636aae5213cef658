/**
 * One cibq-native run, start to end (reference cib.md §4, §9): check the trigger and the sandbox,
 * answer `triggered`, check the commit out, run its `.radicle/native.yaml`, keep the artifacts,
 * write the run directory (log.txt, log.html, result.json), answer `finished`.
 *
 * A run that fails is a value: the commit's script failing, timing out, or the commit having no
 * (or a bad) run spec all finish `failure` with a log that says why. Only when the adapter cannot
 * do its job at all (bad request, unusable sandbox, storage unreadable) does it end without
 * `finished`, so the broker records an error instead of blaming the commit.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { collectArtifacts, sha256File, type Artifact } from './artifacts.ts';
import { CheckoutError, checkoutCommit, commitSource, describeSource, gitEnv } from './checkout.ts';
import { renderLogPage } from './log-page.ts';
import type { NativeConfig } from './native-config.ts';
import { RESULT_FILE_ENV, writeResult, type RunResultFile } from './run-result.ts';
import { parseRunspec, RUNSPEC_PATH } from './runspec.ts';
import { bwrapArgs, checkBwrap } from './sandbox.ts';
import { scriptEnv, whatIsBuilt } from './script-env.ts';
import { runScript, type ScriptOutcome } from './script-run.ts';
import { parseTriggerLine, type TriggerFacts } from './trigger-request.ts';

export type NativeRunDeps = {
  config: NativeConfig;
  /** The adapter's own environment (PATH, RAD_HOME, HOME, CIBQ_RUN_ID, CIBQ_RESULT_FILE). */
  env: Readonly<Record<string, string | undefined>>;
  version: string;
  /** The admin log. */
  log: Logger;
  /** The adapter's stderr: what it does, and the script's output as it comes. */
  stderr: (text: string | Buffer) => void;
  /** One protocol line on stdout. */
  respond: (message: object) => void;
  /** Aborting stops a running script (the adapter got SIGTERM). */
  signal?: AbortSignal;
  killGraceMs?: number;
};

/** Bytes of log shown on log.html, head and tail; log.txt keeps all. */
const PAGE_LOG_BYTES = 2 * 1024 * 1024;

type Ending = { result: 'success' | 'failure' | 'error'; reason: string | null; script: ScriptOutcome | null; artifacts: Artifact[]; runspecBlob: string | null; commitTime: number | null };

/** Runs the trigger on `line`; resolves to the process exit code (0 once `finished` is written). */
export async function nativeRun(deps: NativeRunDeps, line: string): Promise<number> {
  const { config, log } = deps;
  const parsed = parseTriggerLine(line);
  if (!parsed.ok) {
    deps.stderr(`cibq-native: ${parsed.reason}\n`);
    log.error({ reason: parsed.reason }, 'bad trigger request');
    return 1;
  }
  const facts = parsed.facts;
  const path = deps.env.PATH ?? null;
  if (config.sandbox === 'bwrap') {
    const check = await checkBwrap({ PATH: path ?? '/usr/bin:/bin' });
    if (!check.ok) {
      deps.stderr(`cibq-native: ${check.reason}\n`);
      log.error({ reason: check.reason }, 'sandbox unusable; run not started');
      return 2;
    }
  }
  const runId = randomUUID();
  const runDir = join(config.state, runId);
  await mkdir(runDir, { recursive: true });
  const infoUrl = config.baseUrl === null ? null : `${config.baseUrl}/${runId}/log.html`;
  deps.respond(infoUrl === null ? { response: 'triggered', run_id: { id: runId } } : { response: 'triggered', run_id: { id: runId }, info_url: infoUrl });
  const startedAt = new Date();
  const runLog = log.child({ runId, rid: facts.rid, commit: facts.commit });
  runLog.info({ what: whatIsBuilt(facts) }, 'run started');

  const logFile = createWriteStream(join(runDir, 'log.txt'));
  const say = (text: string | Buffer): void => {
    deps.stderr(text);
    logFile.write(text);
  };
  const sandbox = config.sandbox === 'bwrap' ? `yes: bubblewrap, ${config.network ? 'with' : 'no'} network` : 'no: the script runs on the host as the adapter\'s user';
  say(`cibq-native ${deps.version}: run ${runId}\n`);
  say(`cibq-native: ${facts.repoName} (${facts.rid}) ${whatIsBuilt(facts)} at ${facts.commit}\n`);
  say(`cibq-native: sandboxed: ${sandbox}\n`);

  const work = await mkdtemp(join(tmpdir(), 'cibq-native-'));
  let ending: Ending;
  try {
    ending = await build(deps, facts, runId, work, runDir, say);
  } catch (e) {
    const reason = e instanceof CheckoutError ? e.message : `cibq-native failed: ${e instanceof Error ? e.message : String(e)}`;
    ending = { result: 'error', reason, script: null, artifacts: [], runspecBlob: null, commitTime: null };
  }
  if (config.keep) say(`cibq-native: keeping the checkout in ${work}\n`);
  else await rm(work, { recursive: true, force: true }).catch((e: unknown) => runLog.warn({ err: e }, 'cannot remove the checkout'));
  say(`cibq-native: ${ending.result}${ending.reason === null ? '' : `: ${ending.reason}`}\n`);
  await new Promise<void>((resolve, reject) => logFile.end((e?: Error | null) => (e ? reject(e) : resolve())));

  const finishedAt = new Date();
  const logTxt = join(runDir, 'log.txt');
  const result: RunResultFile = {
    version: 1,
    adapter: { name: 'cibq-native', version: deps.version },
    adapter_version: deps.version,
    run_id: runId,
    repository: facts.rid,
    commit: facts.commit,
    result: ending.result,
    reason: ending.reason,
    exit_code: ending.script?.exitCode ?? null,
    timed_out: ending.script?.timedOut ?? false,
    sandbox: { kind: config.sandbox, network: config.sandbox === 'bwrap' ? config.network : true },
    runspec: ending.runspecBlob === null ? null : { path: RUNSPEC_PATH, git_blob: ending.runspecBlob },
    source_date_epoch: ending.commitTime,
    started_at: startedAt.toISOString(),
    finished_at: finishedAt.toISOString(),
    duration_ms: finishedAt.getTime() - startedAt.getTime(),
    log: { url: config.baseUrl === null ? null : `${config.baseUrl}/${runId}/log.txt`, info_url: infoUrl, sha256: await sha256File(logTxt), size: (await stat(logTxt)).size },
    artifacts: ending.artifacts,
  };
  await writeFile(join(runDir, 'log.html'), renderLogPage({
    runId, repoName: facts.repoName, rid: facts.rid, commit: facts.commit, what: whatIsBuilt(facts), result: ending.result, reason: ending.reason,
    exitCode: result.exit_code, durationMs: ending.script?.durationMs ?? null, startedAt: result.started_at, finishedAt: result.finished_at,
    sandbox, runspecBlob: ending.runspecBlob, artifacts: ending.artifacts, log: await pageLog(logTxt),
  }));
  const resultFile = deps.env[RESULT_FILE_ENV];
  await writeResult(result, [join(runDir, 'result.json'), ...(resultFile ? [resultFile] : [])]);
  runLog.info({ result: ending.result, reason: ending.reason, exitCode: result.exit_code, durationMs: result.duration_ms }, 'run finished');
  if (ending.result === 'error') return 1;
  deps.respond({ response: 'finished', result: ending.result });
  return 0;
}

/** Checkout, run spec, script, artifacts: the part of a run whose problems are the commit's. */
async function build(deps: NativeRunDeps, facts: TriggerFacts, runId: string, work: string, runDir: string, say: (t: string | Buffer) => void): Promise<Ending> {
  const { config, env } = deps;
  const none = { script: null, artifacts: [], runspecBlob: null, commitTime: null };
  const source = commitSource(facts.rid, env.RAD_HOME ?? join(env.HOME ?? '/', '.radicle'), config.gitUrl);
  if ('error' in source) return { ...none, result: 'error', reason: source.error };
  const checkout = join(work, 'src');
  const home = join(work, 'home');
  const tmp = join(work, 'tmp');
  for (const d of [checkout, home, tmp]) await mkdir(d);
  say(`cibq-native: fetching ${facts.commit} from ${describeSource(source)}\n`);
  const co = await checkoutCommit({ source, commit: facts.commit, dir: checkout, env: gitEnv(env) });
  const base = { ...none, commitTime: co.commitTime };
  if (co.runspec === null) {
    return { ...base, result: 'failure', reason: `this commit has no ${RUNSPEC_PATH}, so there is nothing to run; add one with the script to run, e.g.\n  shell: |\n    make test` };
  }
  const spec = parseRunspec(co.runspec.text);
  const runspecBlob = co.runspec.blob;
  if (!spec.ok) return { ...base, runspecBlob, result: 'failure', reason: spec.reason };
  if (spec.spec.ignoredKeys.length > 0) say(`cibq-native: ${RUNSPEC_PATH}: ignoring keys cibq-native does not use: ${spec.spec.ignoredKeys.map((k) => JSON.stringify(k)).join(', ')}\n`);
  say(`cibq-native: running ${RUNSPEC_PATH} (blob ${runspecBlob}) with bash -euo pipefail, time limit ${config.timeoutMs / 1000} s\n`);
  const script = await runScript({
    script: spec.spec.shell,
    cwd: checkout,
    env: scriptEnv({ path: env.PATH ?? null, home, tmpdir: config.sandbox === 'bwrap' ? '/tmp' : tmp, facts, runId, brokerRunId: env.CIBQ_RUN_ID ?? null, commitTime: co.commitTime }),
    timeoutMs: config.timeoutMs,
    killGraceMs: deps.killGraceMs ?? 5000,
    sandbox: config.sandbox === 'bwrap' ? bwrapArgs({ checkout, home, network: config.network }) : null,
    onOutput: say,
    ...(deps.signal ? { signal: deps.signal } : {}),
  });
  const failed = scriptFailure(script, config.timeoutMs);
  const collected = await collectArtifacts(checkout, spec.spec.artifacts, join(runDir, 'artifacts'));
  for (const a of collected.artifacts) say(`cibq-native: artifact ${a.name}: sha256 ${a.sha256}, ${a.size} bytes\n`);
  for (const p of collected.problems) say(`cibq-native: artifact ${p.name} ${p.problem}\n`);
  await writeFile(join(runDir, 'artifacts.json'), `${JSON.stringify(collected.artifacts, null, 2)}\n`);
  const end = { ...base, runspecBlob, script, artifacts: collected.artifacts };
  if (failed !== null) return { ...end, result: 'failure', reason: failed };
  const missing = collected.problems[0];
  if (missing !== undefined) return { ...end, result: 'failure', reason: `artifact ${missing.name} ${missing.problem}` };
  return { ...end, result: 'success', reason: null };
}

function scriptFailure(s: ScriptOutcome, timeoutMs: number): string | null {
  const forced = s.forced ? '; it ignored SIGTERM and was killed with SIGKILL' : '';
  if (s.timedOut) return `the script exceeded the time limit of ${timeoutMs / 1000} s and was stopped${forced}`;
  if (s.stopped !== null) return `the script was stopped: ${s.stopped}${forced}`;
  if (s.signal !== null) return `the script was killed by ${s.signal}`;
  if (s.exitCode !== 0) return `the script exited with code ${s.exitCode ?? 'unknown'}`;
  return null;
}

/** log.txt for the page: all of it, or its head and tail with a marker between. */
async function pageLog(file: string): Promise<string> {
  const size = (await stat(file)).size;
  const fh = await open(file, 'r');
  try {
    if (size <= PAGE_LOG_BYTES) return (await fh.readFile()).toString('utf8');
    const half = PAGE_LOG_BYTES / 2;
    const head = Buffer.alloc(half);
    const tail = Buffer.alloc(half);
    await fh.read(head, 0, half, 0);
    await fh.read(tail, 0, half, size - half);
    return `${head.toString('utf8')}\n… ${size - PAGE_LOG_BYTES} bytes omitted: see log.txt …\n${tail.toString('utf8')}`;
  } finally {
    await fh.close();
  }
}
