/**
 * A reader, for tests only, of what cibq writes for other Radicle software to read (issues 8 and 9):
 * `xyz.radworks.job` COBs, the namespace's re-signed sigrefs, and DSSE/in-toto attestations embedded in
 * job changes. "What Radicle reads, a reader in the tests checks": this code shares nothing with cibq's
 * writer in src/ (it imports only node built-ins and zod), and is written from
 * /work/shared/reference/trust.md and heartwood's, radicle-job's and radicle-httpd's source.
 *
 * Main entry points:
 * - `auditStorage(storagePath, rid)` + `assertClean(audit)` → jobs + sigrefs + `git fsck --strict` at once;
 * - `readJobCobs(storagePath, rid)` → every job COB, every change decoded and checked, Radicle's state;
 * - `jobsForCommit(reading, commit)`, `httpdJobs(reading, commit)` → what `rad job`/httpd show;
 * - `evaluateJob(changes, rootId, commitExists)` → radicle-job's `{oid, runs}` from decoded changes;
 * - `verifySigrefs(storagePath, rid, nid)` → signed refs chain + "signs exactly the namespace's refs";
 * - `verifyDsse(envelope, didKeys, {commit, rid})` → DSSE PAE + Ed25519 + in-toto Test Result statement;
 * - `fsckStrict(gitDir)`; did:key ⇄ raw key ⇄ OpenSSH key helpers; `formatViolations` for messages.
 * Every result carries `violations` (see violations.ts for the severities); a correct writer yields none.
 */
export { assertClean, auditStorage, type AuditOptions, type StorageAudit } from './audit.ts';
export { checkCanonical, canonicalJson, type Json } from './canonical-json.ts';
export { decodeChange, type DecodedChange, type Signer } from './cob-change.ts';
export type { Embed, Manifest } from './cob-tree.ts';
export { parseCommitObject, type CommitObject } from './commit-object.ts';
export { INTOTO_PAYLOAD_TYPE, pae, parseIntotoBundle, verifyDsse, type DsseVerification } from './dsse.ts';
export { fsckStrict, type FsckResult } from './git.ts';
export { httpdJobs, httpdStatus, type HttpdJob, type HttpdRun } from './httpd-view.ts';
export { parseTestResultStatement, STATEMENT_TYPE, TEST_RESULT_TYPE, type TestResultStatement } from './in-toto.ts';
export { decodeJobAction, parseUuid, type JobAction, type Reason } from './job-action.ts';
export { ATTESTATION_EMBED, checkAttestations, type AttestationCheck } from './job-attestations.ts';
export { JOB_TYPE_NAME, jobsForCommit, readJobCobs, repoPath, type JobCobsReading, type JobReading, type JobTip } from './job-cobs.ts';
export { evaluateJob, type JobEvaluation, type JobState, type RunState, type RunStatus } from './job-evaluate.ts';
export {
  base58btcDecode,
  base58btcEncode,
  didFromPublicKey,
  nidFromPublicKey,
  openSshPublicKey,
  parseOpenSshPublicKey,
  publicKeyFromNid,
  verifyEd25519,
} from './keys.ts';
export { ridFromBlobOid, verifySigrefs, type FeatureLevel, type SigrefsCommit, type SigrefsVerification } from './sigrefs.ts';
export { parseArmoredSshSig, verifySshSigSignedData, verifyTreeSignature, type SshSig } from './sshsig.ts';
export { formatViolations, type Severity, type Violation } from './violations.ts';
