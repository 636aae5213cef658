/**
 * The adapters the bench drives: small `/bin/sh` scripts speaking the adapter protocol, written
 * into the bench's directory. `BENCH_FIFO`, when set, gets one line the moment the adapter starts,
 * so the bench can time "event → adapter started" with the adapter's own first action.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const REPLY = `echo '{"response":"triggered","run_id":{"id":"bench"}}'
echo '{"response":"finished","result":"success"}'`;

const SCRIPTS = {
  /** Replies at once. */
  instant: `#!/bin/sh
[ -n "$BENCH_FIFO" ] && echo "s" > "$BENCH_FIFO"
read -r line
${REPLY}
`,
  /** Takes one second. */
  second: `#!/bin/sh
read -r line
echo '{"response":"triggered","run_id":{"id":"bench"}}'
sleep 1
echo '{"response":"finished","result":"success"}'
`,
  /** Writes 5 MB of log to stderr, then replies. */
  chatty: `#!/bin/sh
read -r line
echo '{"response":"triggered","run_id":{"id":"bench"}}'
yes 'compiling module 0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ' | head -c 5242880 >&2
echo '{"response":"finished","result":"success"}'
`,
} as const;

export type AdapterName = keyof typeof SCRIPTS;

/** Writes every bench adapter into `dir`; returns their paths by name. */
export function writeAdapters(dir: string): Record<AdapterName, string> {
  const out = {} as Record<AdapterName, string>;
  for (const [name, script] of Object.entries(SCRIPTS) as [AdapterName, string][]) {
    const file = path.join(dir, `${name}.sh`);
    writeFileSync(file, script);
    chmodSync(file, 0o755);
    out[name] = file;
  }
  return out;
}
