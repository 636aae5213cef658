/**
 * `npm run procfile [-- FORMATION]`: runs the Procfile with foreman's `nf start`, and stops it the
 * way cibq's processes expect, which nf alone does not:
 * - nf dies on SIGTERM without stopping its processes; here SIGTERM or SIGINT (Ctrl-C) becomes one
 *   SIGINT to nf, which passes it to each process once: workers drain, the others stop cleanly.
 * - nf runs in its own process group, so Ctrl-C is not also delivered to every process directly
 *   (two signals would force the workers to cancel their runs instead of draining).
 * - a second SIGTERM or SIGINT (more than a second later) forces: SIGTERM to the whole group.
 * Arguments go to `nf start`, e.g. `npm run procfile -- producer,reporter,dashboard,worker=3`.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

const nfBin = path.join(import.meta.dirname, '..', 'node_modules', '.bin', 'nf');
const nf = spawn(nfBin, ['start', ...process.argv.slice(2)], { detached: true, stdio: ['ignore', 'inherit', 'inherit'] });

let firstSignalAt: number | null = null;
function onSignal(signal: NodeJS.Signals): void {
  if (nf.pid === undefined || nf.exitCode !== null || nf.signalCode !== null) return;
  const now = Date.now();
  if (firstSignalAt === null) {
    firstSignalAt = now;
    process.stderr.write(`procfile: ${signal}: stopping (workers drain; send it again to force)\n`);
    nf.kill('SIGINT');
  } else if (now - firstSignalAt > 1000) {
    // The same Ctrl-C can arrive twice (from the terminal and from npm): only a later one forces.
    process.stderr.write(`procfile: ${signal} again: forcing\n`);
    try {
      process.kill(-nf.pid, 'SIGTERM');
    } catch {
      // the group is already gone
    }
  }
}
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);

nf.on('error', (e) => {
  process.stderr.write(`procfile: cannot run ${nfBin}: ${e.message}\n`);
  process.exit(1);
});
nf.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal !== null ? 1 : 0);
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
});
