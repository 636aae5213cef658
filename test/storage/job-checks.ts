/**
 * Checks, with `git cat-file`, `git fsck --strict` and node:crypto only (no code from src/storage),
 * that a job-COB change and a namespace's sigrefs are laid out as trust.md §1.5/§1.5a says. The
 * independent reader (test/helpers, branch `reader`) decodes them fully; these are the raw checks.
 */
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { assertClean, auditStorage, jobsForCommit, readJobCobs, type JobState } from '../helpers/radicle-reader/index.ts';

export function git(gitDir: string, args: string[], input?: string | Buffer): Buffer {
  return execFileSync('git', ['--git-dir', gitDir, ...args], { input: input ?? '', maxBuffer: 64 << 20 });
}

function str(b: Buffer, at: number): [Buffer, number] {
  const n = b.readUInt32BE(at);
  return [b.subarray(at + 4, at + 4 + n), at + 4 + n];
}

function verifyEd(pub: Buffer, data: Buffer, sig: Buffer): boolean {
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: pub.toString('base64url') }, format: 'jwk' });
  return verify(null, data, key, sig);
}

export type RawChange = { tree: string; parents: string[]; message: string; trailers: string[]; actions: string[]; manifest: string; signer: Buffer };

/** Reads change `oid` and checks its signature, armor width and header layout; returns its parts. */
export function readChange(gitDir: string, oid: string): RawChange {
  const text = git(gitDir, ['cat-file', 'commit', oid]).toString('utf8');
  const split = text.indexOf('\n\n');
  const head = text.slice(0, split).split('\n');
  const message = text.slice(split + 2);
  assert.match(head[0] ?? '', /^tree [0-9a-f]{40}$/);
  const tree = (head[0] ?? '').slice(5);
  const parents = head.filter((l) => l.startsWith('parent ')).map((l) => l.slice(7));
  const sigStart = head.findIndex((l) => l.startsWith('gpgsig '));
  assert.ok(sigStart > 0, 'a gpgsig header');
  assert.equal(head.filter((l) => l.startsWith('gpgsig ')).length, 1);
  const armor = [head[sigStart]?.slice(7) ?? '', ...head.slice(sigStart + 1).map((l) => { assert.ok(l.startsWith(' ')); return l.slice(1); })];
  assert.equal(armor[0], '-----BEGIN SSH SIGNATURE-----');
  assert.equal(armor[armor.length - 1], '-----END SSH SIGNATURE-----');
  const body = armor.slice(1, -1);
  body.slice(0, -1).forEach((l) => assert.equal(l.length, 70, 'armor lines are 70 columns'));
  assert.ok((body[body.length - 1]?.length ?? 0) <= 70);
  const blob = Buffer.from(body.join(''), 'base64');
  assert.equal(blob.subarray(0, 6).toString(), 'SSHSIG');
  const [pk, at1] = str(blob, 10);
  const [ns, at2] = str(blob, at1);
  const [reserved, at3] = str(blob, at2);
  const [hash, at4] = str(blob, at3);
  const [sig] = str(blob, at4);
  assert.equal(ns.toString(), 'radicle');
  assert.equal(reserved.length, 0);
  assert.equal(hash.toString(), 'sha256');
  const [pkType, pkAt] = str(pk, 0);
  assert.equal(pkType.toString(), 'ssh-ed25519');
  const [pub] = str(pk, pkAt);
  const [sigType, sigAt] = str(sig, 0);
  assert.equal(sigType.toString(), 'ssh-ed25519');
  const [sig64] = str(sig, sigAt);
  assert.ok(verifyEd(pub, Buffer.from(tree, 'hex'), sig64), 'Ed25519 over the 20 raw bytes of the tree OID');
  const order = head.map((l) => l.split(' ')[0]);
  assert.deepEqual(order.slice(0, 1 + parents.length + 2), ['tree', ...parents.map(() => 'parent'), 'author', 'committer']);
  const entries = git(gitDir, ['ls-tree', tree]).toString().trim().split('\n').map((l) => /^(\d+) (\w+) ([0-9a-f]+)\t(.*)$/.exec(l));
  const byName = new Map(entries.map((m) => [m?.[4] ?? '', m?.[3] ?? '']));
  const manifest = git(gitDir, ['cat-file', 'blob', byName.get('manifest') ?? '']).toString();
  const actions: string[] = [];
  for (let i = 0; byName.has(String(i)); i++) actions.push(git(gitDir, ['cat-file', 'blob', byName.get(String(i)) ?? '']).toString());
  const paragraphs = message.trimEnd().split('\n\n');
  const trailers = (paragraphs[paragraphs.length - 1] ?? '').split('\n');
  return { tree, parents, message, trailers, actions, manifest, signer: pub };
}

/** Checks the namespace's sigrefs: exactly its refs (+ sigrefs-parent), a valid signature, one parent. */
export function checkSigrefs(gitDir: string, nid: string, pub: Buffer): { head: string; parent: string | null } {
  const prefix = `refs/namespaces/${nid}/`;
  const head = git(gitDir, ['rev-parse', `${prefix}refs/rad/sigrefs`]).toString().trim();
  const commit = git(gitDir, ['cat-file', 'commit', head]).toString();
  const parents = commit.split('\n\n')[0]?.split('\n').filter((l) => l.startsWith('parent ')).map((l) => l.slice(7)) ?? [];
  assert.ok(parents.length <= 1, 'sigrefs commits have at most one parent');
  assert.match(commit, new RegExp(`\nauthor radicle <${nid}> \\d+ \\+0000\ncommitter radicle <${nid}> \\d+ \\+0000\n\nUpdate signed refs\n$`));
  const refsBlob = git(gitDir, ['cat-file', 'blob', `${head}:refs`]);
  const signature = git(gitDir, ['cat-file', 'blob', `${head}:signature`]);
  assert.equal(signature.length, 64);
  assert.ok(verifyEd(pub, refsBlob, signature), 'sigrefs signature over the refs blob');
  const actual = git(gitDir, ['for-each-ref', '--format=%(objectname) %(refname)', prefix]).toString().trim().split('\n')
    .map((l) => [l.slice(41).slice(prefix.length), l.slice(0, 40)] as const)
    .filter(([name]) => name !== 'refs/rad/sigrefs' && !name.startsWith('refs/tmp/heads/'));
  const expected = [...actual, ...(parents[0] ? [['refs/rad/sigrefs-parent', parents[0]] as const] : [])]
    .sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    .map(([name, oid]) => `${oid} ${name}\n`).join('');
  assert.equal(refsBlob.toString(), expected, 'sigrefs list exactly the namespace refs');
  return { head, parent: parents[0] ?? null };
}

export function fsckStrict(gitDir: string): void {
  execFileSync('git', ['--git-dir', gitDir, 'fsck', '--strict', '--no-dangling'], { stdio: 'pipe' });
}

/**
 * The independent reader's view (test/helpers/radicle-reader, no code from src/): every job COB and
 * the sigrefs of every namespace with jobs are what Radicle expects, and `git fsck --strict` passes;
 * returns Radicle's state of the one visible job for `commit`.
 */
export function radicleState(radHome: string, rid: string, commit: string): { id: string; state: JobState } {
  const storage = join(radHome, 'storage');
  assertClean(auditStorage(storage, rid), 'storage after cibq wrote');
  const jobs = jobsForCommit(readJobCobs(storage, rid), commit);
  assert.equal(jobs.length, 1, `one visible job for ${commit}`);
  const job = jobs[0];
  assert.ok(job?.state);
  return { id: job.id, state: job.state };
}
