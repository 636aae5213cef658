/**
 * A CI run as users see it (`cibq runs show --json`, SQLite, HTML), and the state changes that
 * workers and the producer publish for the reporter.
 */
import { z } from 'zod';
import { Oid, Rid } from './ci-event.ts';

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

/** One state change. Fields not known at that state are absent. */
export const RunUpdate = z
  .object({
    subject: RunSubject,
    state: RunState,
    at: z.iso.datetime(),
    attempts: z.number().int().min(0).optional(),
    adapter_run_id: z.string().nullable().optional(),
    info_url: z.string().nullable().optional(),
    result: RunResult.nullable().optional(),
    reason: z.string().nullable().optional(),
    exit_code: z.number().int().nullable().optional(),
    log: z.string().optional(),
    worker: z.string().optional(),
    /** The trigger message sent to the adapter (JSON), for the run page. */
    trigger: z.string().optional(),
  })
  .strict();
export type RunUpdate = z.infer<typeof RunUpdate>;

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
