/**
 * One call for a writer's test: everything Radicle would check in a node's storage after cibq wrote to
 * it. Reads every job COB, verifies the signed refs of the given namespaces (default: every namespace
 * with a job ref or sigrefs), and runs `git fsck --strict`; `assertClean` fails with every violation.
 */
import assert from 'node:assert/strict';
import { fsckStrict, listRefs, type FsckResult } from './git.ts';
import { readJobCobs, repoPath, type JobCobsReading } from './job-cobs.ts';
import { verifySigrefs, type SigrefsVerification } from './sigrefs.ts';
import { formatViolations, type Violation } from './violations.ts';

export interface StorageAudit {
  readonly jobs: JobCobsReading;
  readonly sigrefs: readonly SigrefsVerification[];
  readonly fsck: FsckResult;
  /** Job, sigrefs and fsck problems together (fsck failure as code `git-fsck`). */
  readonly violations: readonly Violation[];
}

export interface AuditOptions {
  /** NIDs whose sigrefs to verify; default: every namespace holding a job ref or `refs/rad/sigrefs`. */
  readonly namespaces?: readonly string[];
}

export function auditStorage(storagePath: string, rid: string, opts: AuditOptions = {}): StorageAudit {
  const gitDir = repoPath(storagePath, rid);
  const found = listRefs(gitDir, 'refs/namespaces/')
    .filter((r) => /\/refs\/(rad\/sigrefs|cobs\/xyz\.radworks\.job\/.+)$/.test(r.name))
    .map((r) => r.name.split('/')[2] ?? '');
  const namespaces = opts.namespaces ?? [...new Set(found)].sort();
  const jobs = readJobCobs(storagePath, rid);
  const sigrefs = namespaces.map((nid) => verifySigrefs(storagePath, rid, nid));
  const fsck = fsckStrict(gitDir);
  const fsckViolations: Violation[] = fsck.ok ? [] : [{ code: 'git-fsck', severity: 'rejected', message: fsck.output }];
  return { jobs, sigrefs, fsck, violations: [...jobs.violations, ...sigrefs.flatMap((s) => s.violations), ...fsckViolations] };
}

/** Throws an AssertionError listing every violation (of every severity) when there is any. */
export function assertClean(audit: { readonly violations: readonly Violation[] }, what = 'storage'): void {
  assert.deepEqual(audit.violations, [], `${what} is not what Radicle expects:\n${formatViolations(audit.violations)}`);
}
