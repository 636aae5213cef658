/**
 * The orphan watchdog: a tiny process each worker starts next to itself (see group-watchdog.ts).
 * The worker writes "+PGID GRACE_MS" when an adapter's process group starts and "-PGID" when it is
 * gone. When the worker's end of the pipe closes without warning (SIGKILL, crash, OOM killer), the
 * watchdog SIGTERMs every group still listed, SIGKILLs each after its grace period, and exits.
 * Signals meant for the worker's terminal or group do not stop it: only the pipe closing does.
 */
import { takeLines } from '../util/lines.ts';

const groups = new Map<number, number>();
let pending = '';
let ending = false;

function onLine(line: string): void {
  const m = /^([+-])(\d+)(?: (\d+))?$/.exec(line.trim());
  if (!m) return;
  const pgid = Number(m[2]);
  if (pgid <= 1) return;
  if (m[1] === '+') groups.set(pgid, Number(m[3] ?? '10000'));
  else groups.delete(pgid);
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

function killAll(): void {
  if (ending) return;
  ending = true;
  let longest = 0;
  for (const [pgid, grace] of groups) {
    signalGroup(pgid, 'SIGTERM');
    longest = Math.max(longest, grace);
    setTimeout(() => signalGroup(pgid, 'SIGKILL'), grace);
  }
  setTimeout(() => process.exit(0), longest + 50);
}

for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGPIPE'] as const) process.on(s, () => {});
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  const split = takeLines(pending, chunk);
  pending = split.rest;
  for (const line of split.lines) onLine(line);
});
process.stdin.on('end', killAll);
process.stdin.on('close', killAll);
process.stdin.on('error', killAll);
