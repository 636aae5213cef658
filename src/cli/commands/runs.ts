/** `cibq runs list|show`: read runs from the reporter's SQLite database (works while it writes). */
import { existsSync } from 'node:fs';
import type { RunRecord } from '../../shared/run.ts';
import { UsageError } from '../../shared/errors.ts';
import { openDbReadOnly } from '../../reporter/store/open-db.ts';
import { getRun, listRuns } from '../../reporter/store/runs.ts';
import { intFlag, parseCommand, stringFlag } from '../args.ts';
import { configFor, print, type CommandContext } from '../context.ts';

export const RUNS_HELP = `Usage: cibq runs list [--repo RID] [--limit N] [--json]
       cibq runs show RUN_ID [--json]

Lists runs newest first, or shows one run. --json prints the runs' JSON (keys: id, adapter,
adapter_run_id, info_url, repo, repo_name, event_type, ref, patch, commit, state, result, reason,
queued_at, started_at, finished_at, attempts).`;

const FLAGS = { repo: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } } as const;

function status(r: RunRecord): string {
  return r.state === 'finished' ? (r.result ?? 'unknown') : r.state;
}

function line(r: RunRecord): string {
  const what = r.patch ? `patch ${r.patch.slice(0, 10)}` : r.ref.replace(/^refs\/namespaces\/[^/]+\//, '');
  return [r.id, r.queued_at, r.adapter, r.repo_name || r.repo, what, r.commit.slice(0, 10), status(r)].join('  ');
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
  if (sub === 'show' && (id === undefined || p.positionals.length > 1)) throw new UsageError('usage: cibq runs show RUN_ID');
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
      if (json) print(ctx, JSON.stringify(run, null, 2));
      else print(ctx, Object.entries(run).map(([k, v]) => `${k}: ${v === null ? '-' : String(v)}`).join('\n'));
      return 0;
    }
    const repo = stringFlag(p, 'repo');
    const limit = intFlag(p, 'limit');
    const runs = listRuns(db, { ...(repo !== undefined ? { repo } : {}), ...(limit !== undefined ? { limit } : {}) });
    if (json) print(ctx, JSON.stringify(runs, null, 2));
    else print(ctx, runs.length === 0 ? 'no runs' : runs.map(line).join('\n'));
    return 0;
  } finally {
    db.close();
  }
}
