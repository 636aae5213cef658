/**
 * A CI run as users see it (`cibq runs show --json`, SQLite, HTML), and the state changes that
 * workers and the producer publish for the reporter.
 */
import { z } from 'zod';
import { Oid, Rid } from './ci-event.ts';
import { RunReport } from './run-report.ts';

export const RUN_STATES = ['queued', 'triggered', 'running', 'finished'] as const;
export const RunState = z.enum(RUN_STATES);
export type RunState = z.infer<typeof RunState>;

export const RUN_RESULTS = ['success', 'failure', 'error', 'timeout', 'cancelled'] as const;
export const RunResult = z.enum(RUN_RESULTS);
export type RunResult = z.infer<typeof RunResult>;

/** Order of states: a run never moves backwards, whatever order updates arrive in. */
export function stateRank(s: RunState): number {
  return RUN_STATES.indexOf(s);
}

/** What is known about a run when it is queued; carried by every update so any one can create the row. */
export const RunSubject = z
  .object({
    id: z.string().min(1),
    adapter: z.string().min(1),
    repo: Rid,
    repo_name: z.string(),
    event_type: z.enum(['push', 'patch']),
    /** Full ref name (`branch` of a push trigger, or the patch COB ref). */
    ref: z.string(),
    patch: Oid.nullable(),
    /** Patch title, for display; null for pushes. */
    title: z.string().nullable(),
    /** DID of the pusher or patch author. */
    author: z.string().nullable(),
    commit: Oid,
    private: z.boolean(),
    queued_at: z.iso.datetime(),
  })
  .strict();
export type RunSubject = z.infer<typeof RunSubject>;

/** What every state change carries: the run, when, which attempt, and (from a worker) which worker. */
const UpdateBase = {
  subject: RunSubject,
  at: z.iso.datetime(),
  attempts: z.number().int().min(0).optional(),
  worker: z.string().optional(),
};

/** What a started run carries: the trigger message sent to the adapter (JSON, for the run page). */
const Started = { trigger: z.string().optional(), log: z.string().optional() };

/** The adapter's own id and page for the run, known once it said `triggered`. */
const AdapterIds = {
  adapter_run_id: z.string().nullable().optional(),
  info_url: z.string().nullable().optional(),
};

/**
 * One state change, told apart by `state`: only a finished run has a result, only a started one
 * has the adapter's ids; the trigger message and the log so far travel with any change after the
 * adapter was started.
 */
export const RunUpdate = z.discriminatedUnion('state', [
  z.object({ ...UpdateBase, state: z.literal('queued') }).strict(),
  z.object({ ...UpdateBase, ...Started, state: z.literal('triggered') }).strict(),
  z.object({ ...UpdateBase, ...Started, ...AdapterIds, state: z.literal('running') }).strict(),
  z
    .object({
      ...UpdateBase,
      ...Started,
      ...AdapterIds,
      state: z.literal('finished'),
      result: RunResult,
      reason: z.string().nullable().optional(),
      exit_code: z.number().int().nullable().optional(),
      /** What the adapter wrote to CIBQ_RESULT_FILE (artifacts, test counts), when it wrote valid JSON. */
      report: RunReport.optional(),
      /** When the adapter was started (the attestation's startedOn). */
      started_at: z.iso.datetime().optional(),
    })
    .strict(),
]);
export type RunUpdate = z.infer<typeof RunUpdate>;
export type FinishedUpdate = Extract<RunUpdate, { state: 'finished' }>;

/** The JSON of a run (`cibq runs show --json`). */
export type RunRecord = {
  id: string;
  adapter: string;
  adapter_run_id: string | null;
  info_url: string | null;
  repo: string;
  repo_name: string;
  event_type: 'push' | 'patch';
  ref: string;
  patch: string | null;
  commit: string;
  state: RunState;
  result: RunResult | null;
  reason: string | null;
  queued_at: string;
  started_at: string | null;
  finished_at: string | null;
  attempts: number;
};
