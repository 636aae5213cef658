/**
 * `cibq event record|ci|filter` (cibtool's event tools): record the node's events, turn them into
 * CI events, and explain which adapters each one would start. The three compose through files
 * (or pipes, with `-` for stdin) of JSON lines.
 */
import { accessSync, constants } from 'node:fs';
import { pino } from 'pino';
import { parseNodeEventLine } from '../../node/node-event.ts';
import { CiEvent } from '../../model/ci-event.ts';
import { UsageError } from '../../util/errors.ts';
import { Storage } from '../../storage/storage.ts';
import { parseCommand, stringFlag, type Parsed } from '../../bootstrap/args.ts';
import { configFor, loggerFor, print, type CommandContext } from '../../bootstrap/context.ts';
import { recordNodeEvents } from '../event-record.ts';
import { NodeUnavailable } from '../../util/errors.ts';
import { eventLine, explainEvent, formatExplanation } from '../explain-event.ts';
import { openSink, readLines } from '../json-lines.ts';
import { NodeEventConverter } from '../node-events-to-ci.ts';

export const EVENT_HELP = `Usage: cibq event record [--output FILE]
       cibq event ci NODE_EVENTS_FILE [--output FILE] [--json]
       cibq event filter CI_EVENTS_FILE [--json]

  record   subscribe to the node (node.socket) and write its events as JSON lines, exactly as
           received, until the node closes the stream or SIGINT/SIGTERM; unusable lines are
           reported on stderr and skipped
  ci       turn recorded node events into CI events, as the producer does (reads node storage
           for local pushes and patches); --output or --json write one CI event JSON per line
  filter   for each CI event (JSON lines as written by 'event ci'), which adapters the
           configuration's filters and triggers would start, and every filter's decision;
           --json writes one JSON object per event: {"event","allowed_by","starts","note","decisions"}

FILE may be - for stdin. 'ci' and 'filter' exit 1 if some input lines could not be used.
Every subcommand takes --config FILE (or env CIBQ_CONFIG; default ./cibq.yaml).`;

const FLAGS = { output: { type: 'string', short: 'o' }, json: { type: 'boolean' } } as const;

function problem(ctx: CommandContext, text: string): void {
  ctx.stderr.write(`cibq: ${text}\n`);
}

function inputFile(p: Parsed, sub: string): string {
  const [file, ...extra] = p.positionals;
  if (file === undefined || extra.length > 0) throw new UsageError(`usage: cibq event ${sub} FILE (one input file, or - for stdin)`);
  if (file !== '-') {
    try {
      accessSync(file, constants.R_OK);
    } catch (e) {
      throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  }
  return file;
}

async function record(ctx: CommandContext, p: Parsed): Promise<number> {
  if (p.positionals.length > 0) throw new UsageError('cibq event record takes no arguments');
  const config = await configFor(ctx, p);
  const sink = await openSink(stringFlag(p, 'output'), ctx.stdout);
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const r = await recordNodeEvents({
      socketPath: config.node.socket,
      onEvent: (line) => sink.write(line),
      onProblem: (m) => problem(ctx, m),
      onSubscribed: () => problem(ctx, `recording events from ${config.node.socket} (stop with Ctrl-C)`),
      signal: abort.signal,
    });
    problem(ctx, `recorded ${r.events} event${r.events === 1 ? '' : 's'}, skipped ${r.skipped} line${r.skipped === 1 ? '' : 's'}${r.end === 'eof' ? '; the node closed the stream' : ''}`);
    return 0;
  } catch (e) {
    if (!(e instanceof NodeUnavailable)) throw e;
    problem(ctx, e.message);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await sink.close();
  }
}

async function ci(ctx: CommandContext, p: Parsed): Promise<number> {
  const file = inputFile(p, 'ci');
  const config = await configFor(ctx, p);
  const output = stringFlag(p, 'output');
  const json = p.values.json === true || output !== undefined;
  const storage = new Storage({ radHome: config.node.radHome, log: loggerFor(ctx, p, 'cibq-event') });
  const sink = await openSink(output, ctx.stdout);
  const converter = new NodeEventConverter(storage);
  let bad = 0;
  try {
    for await (const { n, text } of readLines(file)) {
      const parsed = parseNodeEventLine(text);
      if (!parsed.ok) {
        bad += 1;
        problem(ctx, `${file}:${n}: skipping line (${parsed.reason})`);
        continue;
      }
      const r = await converter.convert(parsed.event);
      for (const m of r.problems) problem(ctx, `${file}:${n}: ${m}`);
      for (const e of r.events) sink.write(json ? JSON.stringify(e) : eventLine(e));
    }
  } finally {
    await sink.close();
    await storage.close();
  }
  return bad > 0 ? 1 : 0;
}

async function filter(ctx: CommandContext, p: Parsed): Promise<number> {
  const file = inputFile(p, 'filter');
  if (stringFlag(p, 'output') !== undefined) throw new UsageError('cibq event filter writes to stdout only (no --output)');
  const config = await configFor(ctx, p);
  const json = p.values.json === true;
  const storage = new Storage({ radHome: config.node.radHome, log: pino({ level: 'silent' }) });
  let bad = 0;
  let index = 0;
  try {
    for await (const { n, text } of readLines(file)) {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        value = undefined;
      }
      const r = CiEvent.safeParse(value);
      if (!r.success) {
        bad += 1;
        const why = value === undefined ? 'not JSON' : r.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`).join('; ');
        problem(ctx, `${file}:${n}: skipping line, not a CI event (${why})`);
        continue;
      }
      index += 1;
      const x = await explainEvent(config, storage, r.data);
      print(ctx, json ? JSON.stringify(x) : formatExplanation(x, index));
    }
  } finally {
    await storage.close();
  }
  return bad > 0 ? 1 : 0;
}

export async function eventMain(ctx: CommandContext): Promise<number> {
  const [sub, ...rest] = ctx.argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    print(ctx, EVENT_HELP);
    return sub === undefined ? 2 : 0;
  }
  const subs: Record<string, (ctx: CommandContext, p: Parsed) => Promise<number>> = { record, ci, filter };
  const run = Object.hasOwn(subs, sub) ? subs[sub] : undefined;
  if (run === undefined) throw new UsageError(`unknown event subcommand "${sub}" (record, ci, filter)`);
  const p = parseCommand(rest, FLAGS, true);
  if (p.values.help) {
    print(ctx, EVENT_HELP);
    return 0;
  }
  return run(ctx, p);
}
