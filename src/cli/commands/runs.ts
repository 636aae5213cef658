/** `cibq runs list|show`: read runs from the reporter's SQLite database (works while it writes). */
import { existsSync } from 'node:fs';
import { RUN_RESULTS, RUN_STATES, type RunRecord, type RunResult, type RunState } from '../../model/run.ts';
import { UsageError } from '../../util/errors.ts';
import { openDbReadOnly } from '../../db/open-db.ts';
import { getRun, getRunDetail } from '../../db/runs.ts';
import { intFlag, parseCommand, stringFlag, type Parsed } from '../../bootstrap/args.ts';
import { configFor, print, type CommandContext } from '../../bootstrap/context.ts';
import { printable, printableLog } from '../printable.ts';
import { queryRuns, type RunQuery } from '../../db/run-query.ts';

const DEFAULT_LIMIT = 50;

export const RUNS_HELP = `Usage: cibq runs list [--repo RID|NAME] [--branch NAME] [--patch ID] [--result RESULT]
                      [--state STATE] [--adapter NAME] [--limit N] [--json]
       cibq runs show RUN_ID [--log] [--json]

Lists runs newest first (at most --limit, default ${DEFAULT_LIMIT}), or shows one run. Filters combine:
--branch matches pushes to that branch in any namespace and the canonical one; --patch takes a
patch id or a prefix of it; --result is one of ${RUN_RESULTS.join(', ')};
--state one of ${RUN_STATES.join(', ')}. --json prints the runs' JSON (keys: id, adapter,
adapter_run_id, info_url, repo, repo_name, event_type, ref, patch, commit, state, result, reason,
queued_at, started_at, finished_at, attempts). runs show --log also prints the run's log (the
adapter's stderr as kept, up to log_limit); with --json it is the "log" key.`;

const FLAGS = {
  repo: { type: 'string' },
  branch: { type: 'string' },
  patch: { type: 'string' },
  result: { type: 'string' },
  state: { type: 'string' },
  adapter: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
  log: { type: 'boolean' },
} as const;

function oneOf<T extends string>(p: Parsed, name: string, allowed: readonly T[]): T | undefined {
  const v = stringFlag(p, name);
  if (v !== undefined && !(allowed as readonly string[]).includes(v)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got "${v}"`);
  }
  return v as T | undefined;
}

/** The list filters from the flags; usage errors for values that can never match. */
function runQuery(p: Parsed): RunQuery {
  const q: RunQuery = { limit: intFlag(p, 'limit') ?? DEFAULT_LIMIT };
  const repo = stringFlag(p, 'repo');
  const branch = stringFlag(p, 'branch');
  const patch = stringFlag(p, 'patch');
  const adapter = stringFlag(p, 'adapter');
  const result = oneOf<RunResult>(p, 'result', RUN_RESULTS);
  const state = oneOf<RunState>(p, 'state', RUN_STATES);
  if (patch !== undefined && !/^[0-9a-f]{4,40}$/.test(patch)) throw new UsageError(`--patch must be a patch id or a prefix of at least 4 hex digits, got "${patch}"`);
  if (branch !== undefined && (branch === '' || branch.startsWith('refs/'))) throw new UsageError('--branch takes a branch name (main), not a ref');
  if (repo !== undefined) q.repo = repo;
  if (branch !== undefined) q.branch = branch;
  if (patch !== undefined) q.patch = patch;
  if (adapter !== undefined) q.adapter = adapter;
  if (result !== undefined) q.result = result;
  if (state !== undefined) q.state = state;
  return q;
}

function status(r: RunRecord): string {
  return r.state === 'finished' ? (r.result ?? 'unknown') : r.state;
}

const HEADER = ['RUN', 'QUEUED', 'ADAPTER', 'REPOSITORY', 'BRANCH OR PATCH', 'COMMIT', 'STATUS'];

function columns(r: RunRecord): string[] {
  const what = r.patch ? `patch ${r.patch.slice(0, 10)}` : r.ref.replace(/^refs\/namespaces\/[^/]+\//, '');
  return [r.id, r.queued_at, r.adapter, printable(r.repo_name || r.repo), printable(what), r.commit.slice(0, 10), status(r)];
}

/** A header row, then one row per run, in columns two spaces apart. */
function table(runs: readonly RunRecord[]): string {
  const rows = [HEADER, ...runs.map(columns)];
  const widths = HEADER.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

export async function runsMain(ctx: CommandContext): Promise<number> {
  const [sub, ...rest] = ctx.argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    print(ctx, RUNS_HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'list' && sub !== 'show') throw new UsageError(`unknown runs subcommand "${sub}" (list, show)`);
  const p = parseCommand(rest, FLAGS, sub === 'show');
  if (p.values.help) {
    print(ctx, RUNS_HELP);
    return 0;
  }
  const id = p.positionals[0];
  const query = sub === 'list' ? runQuery(p) : null;
  if (sub === 'show' && (id === undefined || p.positionals.length > 1)) throw new UsageError('usage: cibq runs show RUN_ID [--log] [--json]');
  if (sub === 'list' && p.values.log === true) throw new UsageError('--log goes with runs show RUN_ID');
  const config = await configFor(ctx, p);
  const json = p.values.json === true;
  if (!existsSync(config.db)) {
    if (sub === 'show') {
      print({ ...ctx, stdout: ctx.stderr }, `no run ${id}: the database ${config.db} does not exist yet`);
      return 1;
    }
    print(ctx, json ? '[]' : 'no runs yet');
    return 0;
  }
  const db = openDbReadOnly(config.db);
  try {
    if (sub === 'show') {
      const run = getRun(db, id as string);
      if (run === null) {
        print({ ...ctx, stdout: ctx.stderr }, `no run ${id}`);
        return 1;
      }
      const log = p.values.log === true ? (getRunDetail(db, id as string)?.log ?? null) : undefined;
      if (json) print(ctx, JSON.stringify(log === undefined ? run : { ...run, log }, null, 2));
      else print(ctx, Object.entries(run).map(([k, v]) => `${k}: ${v === null ? '-' : printable(String(v))}`).join('\n'));
      if (!json && log !== undefined) print(ctx, log === null || log === '' ? '\n(no log recorded)' : `\n${printableLog(log)}`);
      return 0;
    }
    const runs = queryRuns(db, query as RunQuery);
    if (json) print(ctx, JSON.stringify(runs, null, 2));
    else print(ctx, runs.length === 0 ? 'no runs' : table(runs));
    return 0;
  } finally {
    db.close();
  }
}
