/**
 * `auditStorage` + `assertClean`, the one call a writer's test makes: clean storage passes, and a
 * failure message lists each problem with its code, so a broken writer is diagnosed from the test log.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { git } from '../../fixtures/heartwood-like/cob-writer.ts';
import { appendToJob, createJob, finished, run } from '../../fixtures/heartwood-like/job-writer.ts';
import { generateNodeKey } from '../../fixtures/heartwood-like/node-key.ts';
import { createStorage, T0 } from '../../fixtures/heartwood-like/storage.ts';
import { assertClean, auditStorage } from './audit.ts';

const dir = mkdtempSync(join(tmpdir(), 'reader-audit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const U1 = '0b0c5c8e-8f7a-4a8e-9d7e-3c1f2a9b4d11';

test('a node that wrote a job as heartwood does passes the audit; a later unsigned ref fails it, named', () => {
  const delegate = generateNodeKey(join(dir, 'delegate'));
  const ci = generateNodeKey(join(dir, 'ci'));
  const s = createStorage(join(dir, 'home'), delegate);
  const id = createJob(s, ci, s.commit, { time: T0 });
  appendToJob(s, ci, id, [run(U1, 'https://ci.example.org/1'), finished(U1, 'Succeeded')], { time: T0 + 1 });

  const audit = auditStorage(s.storagePath, s.rid);
  assertClean(audit);
  assert.deepEqual(audit.sigrefs.map((r) => r.ok), [true, true], 'delegate and CI namespaces');
  assert.equal(audit.jobs.jobs.length, 1);

  git(s.gitDir, ['update-ref', `refs/namespaces/${ci.nid}/refs/heads/stray`, s.commit]);
  assert.throws(() => assertClean(auditStorage(s.storagePath, s.rid)), /\[rejected\] sigrefs-unsigned-ref: refs\/heads\/stray/);
});
