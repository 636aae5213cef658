/**
 * The job-COB writer: N runs (default 50) of N commits, each started and then finished, in a
 * repository that already holds J other jobs (default 200). Prints the time per write (a job change
 * plus the re-signed sigrefs) and shows whether the (repository, commit) → job cache keeps lookups
 * from scanning every job: the finish of a run must cost about what its start cost.
 *
 *   node_modules/.bin/node --disable-warning=ExperimentalWarning bench/job-publish.ts [N] [J]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { seedSigner } from '../src/signing/node-signer.ts';
import { JobStore } from '../src/storage/job-store.ts';
import { FakeStorage, makeNodeKey } from '../test/fixtures/radicle-storage.ts';

const n = Number(process.argv[2] ?? 50);
const j = Number(process.argv[3] ?? 200);
const dir = mkdtempSync(path.join(os.tmpdir(), 'cq-bench-jobs-'));
const fake = await FakeStorage.create(dir);
const alice = makeNodeKey(1);
const { rid } = await fake.createRepo({ name: 'bench', delegates: [alice.nid] });
const commits: string[] = [];
let parent: string | null = null;
for (let i = 0; i < n + j; i++) commits.push((parent = await fake.commit(rid, { files: { f: `${i}\n` }, parent })));
const log = pino({ level: 'silent' });
const other = new JobStore({ radHome: dir, signer: seedSigner(Buffer.alloc(32, 2)), log });
const uuid = (i: number): string => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
for (let i = 0; i < j; i++) await other.publish(rid, commits[n + i] as string, { uuid: uuid(100_000 + i), log: 'https://o.example/', finished: 'Succeeded' });
await other.close();
const store = new JobStore({ radHome: dir, signer: seedSigner(Buffer.alloc(32, 1)), log });
let startMs = 0;
let finishMs = 0;
for (let i = 0; i < n; i++) {
  const step = { uuid: uuid(i), log: `https://ci.example/runs/${i}` };
  let t = performance.now();
  await store.publish(rid, commits[i] as string, { ...step, finished: null });
  startMs += performance.now() - t;
  t = performance.now();
  await store.publish(rid, commits[i] as string, { ...step, finished: 'Succeeded' });
  finishMs += performance.now() - t;
}
await store.close();
console.log(`${n} runs among ${j} other jobs: start ${(startMs / n).toFixed(1)} ms/run (creates the job, scans for one first), finish ${(finishMs / n).toFixed(1)} ms/run (cached job)`);
rmSync(dir, { recursive: true, force: true });
