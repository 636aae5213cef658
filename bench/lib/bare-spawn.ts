/**
 * The anchor for dispatch and latency: a bare loop that does only what running an adapter needs —
 * `child_process.spawn` the same adapter, write the trigger message to its stdin, read its stdout
 * until it exits — at a given concurrency. Whatever cibq adds on top is its overhead.
 */
import { spawn } from 'node:child_process';
import type { StartPipe } from './fifo.ts';

function runOnce(command: string, message: string, env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    child.on('error', reject);
    child.stdout.resume();
    child.stderr.resume();
    child.stdin.on('error', () => {});
    child.stdin.end(message);
    child.on('close', () => resolve());
  });
}

/** Runs `runs` adapters, `concurrency` at a time; returns runs per second. */
export async function bareLoop(command: string, message: string, env: Record<string, string>, runs: number, concurrency: number): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < runs) {
        next++;
        await runOnce(command, message, env);
      }
    }),
  );
  return (runs / (performance.now() - t0)) * 1000;
}

/** Latency of `spawn()` → the adapter's first action, one at a time with the loop idle in between. */
export async function bareLatencies(command: string, message: string, env: Record<string, string>, pipe: StartPipe, samples: number, gapMs: number): Promise<number[]> {
  const out: number[] = [];
  pipe.clear();
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    const done = runOnce(command, message, env);
    out.push((await pipe.next()) - t0);
    await done;
    await new Promise((r) => setTimeout(r, gapMs));
  }
  return out;
}
