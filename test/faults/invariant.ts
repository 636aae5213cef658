/**
 * The fault suite's one invariant: every event the producer accepted ends in exactly one finished
 * run record — nothing lost, nothing stuck in a non-final state, nothing recorded twice — and, once
 * everything settled, no run is left waiting or active in its queue and the reporter has no backlog.
 * Each scenario prints one summary line with its counts (t.diagnostic, shown by the test reporter).
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { Queue } from 'bullmq';
import type { RunRecord } from '../../src/model/run.ts';
import type { FaultEnv, Push } from './fault-env.ts';

export type Tally = {
  events: number;
  finished: number;
  duplicates: number;
  lost: number;
  stuck: number;
  /** Runs whose adapter started more than once, and how many of those show fewer attempts than starts. */
  repeated: number;
  undercounted: number;
  queued: number;
  backlog: number;
};

function tally(pushes: readonly Push[], runs: readonly RunRecord[], executions: Map<string, number>): Tally & { missing: Push[]; notFinal: RunRecord[]; twice: RunRecord[][] } {
  const byCommit = new Map<string, RunRecord[]>();
  for (const r of runs) byCommit.set(r.commit, [...(byCommit.get(r.commit) ?? []), r]);
  const missing: Push[] = [];
  const notFinal: RunRecord[] = [];
  const twice: RunRecord[][] = [];
  let finished = 0;
  let repeated = 0;
  let undercounted = 0;
  for (const p of pushes) {
    const rs = byCommit.get(p.commit) ?? [];
    if (rs.length === 0) missing.push(p);
    if (rs.length > 1) twice.push(rs);
    for (const r of rs) {
      if (r.state === 'finished') finished++;
      else notFinal.push(r);
      const n = executions.get(r.id) ?? 0;
      if (n > 1) repeated++;
      if (n > 1 && r.attempts < n) undercounted++;
    }
  }
  return {
    events: pushes.length, finished, duplicates: twice.reduce((n, rs) => n + rs.length - 1, 0), lost: missing.length,
    stuck: notFinal.length, repeated, undercounted, queued: 0, backlog: 0, missing, notFinal, twice,
  };
}

/** Waits (up to `timeoutMs`) until every push has a finished record, lets a moment pass, then checks. */
export async function checkInvariant(
  t: TestContext,
  e: FaultEnv,
  label: string,
  opts: { pushes?: readonly Push[]; timeoutMs?: number; quietMs?: number; attempts?: boolean } = {},
): Promise<Tally> {
  const pushes = opts.pushes ?? e.pushes;
  const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
  let last = tally(pushes, e.runs(), e.executions());
  while (last.finished < pushes.length || last.stuck > 0) {
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 250));
    last = tally(pushes, e.runs(), e.executions());
  }
  await new Promise((r) => setTimeout(r, opts.quietMs ?? 1500));
  const final = tally(pushes, e.runs(), e.executions());
  const c = e.client();
  const queue = new Queue(e.keys.runQueue('ci'), { connection: c, prefix: e.keys.bullPrefix });
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
  await queue.close();
  final.queued = Object.values(counts).reduce((a, b) => a + b, 0);
  final.backlog = await c.xlen(e.keys.runUpdates);
  const line = `${label}: events accepted ${final.events}, runs finished ${final.finished}, duplicates ${final.duplicates}, lost ${final.lost}, ` +
    `stuck ${final.stuck}, repeated runs ${final.repeated} (attempts below starts: ${final.undercounted}), left in queue ${final.queued}, reporter backlog ${final.backlog}`;
  t.diagnostic(line);
  const detail = JSON.stringify({ missing: final.missing.slice(0, 5), notFinal: final.notFinal.slice(0, 5), twice: final.twice.slice(0, 3) });
  assert.equal(final.lost, 0, `${line}\n${detail}`);
  assert.equal(final.duplicates, 0, `${line}\n${detail}`);
  assert.equal(final.stuck, 0, `${line}\n${detail}`);
  assert.equal(final.finished, final.events, line);
  assert.equal(final.queued, 0, line);
  assert.equal(final.backlog, 0, line);
  if (opts.attempts === true) assert.equal(final.undercounted, 0, `a run that ran again shows as a further attempt: ${line}`);
  return final;
}
