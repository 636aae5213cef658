/**
 * The orphan watchdog kills adapter process groups when the process that started them dies
 * without a chance to clean up (SIGKILL), and leaves them alone while it lives.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { GroupWatchdog } from '../../src/worker/group-watchdog.ts';
import { isAlive, waitFor } from './fixtures/harness.ts';

const log = pino({ level: 'silent' });
const started: number[] = [];
after(() => {
  for (const pid of started) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

/** A `sleep` in a process group of its own, like an adapter. */
function group(): number {
  const p = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
  p.unref();
  started.push(p.pid as number);
  return p.pid as number;
}

test('when its owner is SIGKILLed, the watchdog kills the groups it was watching, and only those', async () => {
  const watched = group();
  const unwatched = group();
  const script = `
    import { GroupWatchdog } from ${JSON.stringify(new URL('../../src/worker/group-watchdog.ts', import.meta.url).pathname)};
    import { pino } from 'pino';
    const w = new GroupWatchdog(pino({ level: 'silent' }));
    w.start();
    w.watch(${watched}, 200);
    w.watch(${unwatched}, 200);
    w.unwatch(${unwatched});
    setTimeout(() => process.stdout.write('ready\\n'), 300);
    setInterval(() => {}, 1000);`;
  const owner = spawn(process.execPath, ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script], {
    cwd: new URL('../../', import.meta.url).pathname,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await once(owner.stdout, 'data');
  assert.ok(isAlive(watched));
  owner.kill('SIGKILL');
  await waitFor('the watched group to be killed', () => !isAlive(watched), 5000);
  assert.ok(isAlive(unwatched), 'a group no longer watched is left alone');
});

test('closing the watchdog does not touch groups that were unwatched', async () => {
  const g = group();
  const w = new GroupWatchdog(log);
  w.start();
  w.watch(g, 100);
  w.unwatch(g);
  const pid = w.pid;
  w.close();
  assert.ok(pid !== null);
  await waitFor('the watchdog to exit', () => !isAlive(pid), 5000);
  assert.ok(isAlive(g));
});
