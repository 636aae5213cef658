import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cibq } from '../helpers/cli.ts';
import { readJobCobs } from '../helpers/radicle-reader/index.ts';
import { TrustStorage } from '../fixtures/trust-storage.ts';

const SHA1 = '1'.repeat(64);
const SHA2 = '2'.repeat(64);
const art = (sha256: string) => [{ name: 'mytool', sha256, size: 10 }];

let t: TrustStorage;
let server: Server;
let served: Map<string, string>;
const commits: Record<string, string> = {};

before(async () => {
  served = new Map();
  server = createServer((req, res) => {
    const body = served.get(req.url ?? '');
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'text/plain' }).end(body ?? 'no');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  t = await TrustStorage.create(`http://127.0.0.1:${port}/cibq`);
  const { a, b, c } = t.nodes;
  commits.agree = await t.newCommit();
  for (const n of [a, b, c]) await t.run(n, commits.agree, { result: 'success', artifacts: art(SHA1), logText: `log ${n.name}\n` });
  commits.disagree = await t.newCommit();
  await t.run(a, commits.disagree, { result: 'success' });
  await t.run(b, commits.disagree, { result: 'success' });
  await t.run(c, commits.disagree, { result: 'failure' });
  commits.foreign = await t.newCommit();
  const first = await t.run(a, commits.foreign, { result: 'success' });
  await t.run(c, commits.foreign, { result: 'failure' });
  t.moveJobRef(c, b, first.jobId);
  commits.tampered = await t.newCommit();
  await t.run(a, commits.tampered, { result: 'success' });
  await t.run(b, commits.tampered, {
    result: 'failure',
    tamper: (line) => {
      const env = JSON.parse(line) as { payload: string };
      env.payload = Buffer.from(Buffer.from(env.payload, 'base64').toString().replace('"FAILED"', '"PASSED"')).toString('base64');
      return JSON.stringify(env);
    },
  });
  commits.artifacts = await t.newCommit();
  await t.run(a, commits.artifacts, { result: 'success', artifacts: art(SHA1) });
  await t.run(b, commits.artifacts, { result: 'success', artifacts: art(SHA2) });
});
after(async () => {
  server.close();
  if (t === undefined) return;
  await t.close();
  await rm(t.home, { recursive: true, force: true });
});

const verify = (commit: string, ...extra: string[]) => cibq(['verify', '--repo', t.rid, '--commit', commit, ...extra], { RAD_HOME: t.home });
const trustAll = () => ['--trust', t.nodes.a.did, '--trust', t.nodes.b.did, '--trust', t.nodes.c.did];
type Json = {
  verdict: string; trusted: string[];
  groups: { verdict: string; passed: string[]; failed: string[]; otherPassed: string[]; otherFailed: string[]; nodes: { did: string; trusted: boolean; result: string }[]; artifacts: { name: string; class: string; digests: { sha256: string; nodes: string[] }[] }[] }[];
  invalid: { did: string; why: string }[]; foreignChanges: number; badSignatures: number;
  logs?: { did: string; ok: boolean }[];
};
const json = (stdout: string) => JSON.parse(stdout) as Json;

describe('cibq verify on three nodes sharing one storage', () => {
  test('the independent reader finds every honest attestation valid and the tampered one invalid', () => {
    const reading = readJobCobs(join(t.home, 'storage'), t.rid);
    for (const key of ['agree', 'disagree', 'artifacts']) {
      for (const job of reading.jobs.filter((j) => j.state?.oid === commits[key])) {
        for (const a of job.attestations) assert.deepEqual(a.violations, [], `${key}: ${JSON.stringify(a.violations)}`);
        assert.ok(job.attestations.length >= 2);
      }
    }
    const tampered = reading.jobs.find((j) => j.state?.oid === commits.tampered);
    assert.equal(tampered?.attestations.filter((a) => !a.valid).length, 1);
  });

  test('all agree: verified (t=2), artifacts reproduced by 3/3 trusted; exit 0', async () => {
    const r = await verify(commits.agree as string, ...trustAll(), '--threshold', '2');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^verified \(t=2\)/);
    assert.match(r.stdout, /PASSED by 3\/3 trusted/);
    assert.match(r.stdout, /artifact mytool: GOOD sha256 111111111111… reproduced by 3\/3 trusted/);
    const j = json((await verify(commits.agree as string, ...trustAll(), '--threshold', '2', '--json')).stdout);
    assert.equal(j.verdict, 'verified');
    assert.equal(j.groups.length, 1);
    assert.equal(j.groups[0]?.passed.length, 3);
    assert.equal(j.groups[0]?.artifacts[0]?.class, 'GOOD');
  });

  test('without --trust the repository delegates (this node and ci-b) are trusted; ci-c is another node that agrees', async () => {
    const r = await verify(commits.agree as string);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /PASSED by 2\/2 trusted .* · 1 other node agrees/);
    assert.deepEqual(json((await verify(commits.agree as string, '--json')).stdout).trusted.sort(), [t.nodes.a.did, t.nodes.b.did].sort());
  });

  test('a trusted node disagrees: disputed, naming it; exit 1', async () => {
    const r = await verify(commits.disagree as string, ...trustAll(), '--threshold', '2');
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^disputed/);
    assert.match(r.stdout, new RegExp(`FAILED by 1/3 \\(${t.nodes.c.did.slice(0, 16)}`));
    const j = json((await verify(commits.disagree as string, ...trustAll(), '--json')).stdout);
    assert.equal(j.verdict, 'disputed');
    assert.deepEqual(j.groups[0]?.failed, [t.nodes.c.did]);
    assert.equal(j.groups[0]?.artifacts.length, 0);
  });

  test('an untrusted node disagrees: no effect on the verdict; it is shown as another node that disagrees', async () => {
    const r = await verify(commits.disagree as string, '--trust', t.nodes.a.did, '--trust', t.nodes.b.did, '--threshold', '2');
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /^verified \(t=2\)/);
    assert.match(r.stdout, /PASSED by 2\/2 trusted .* · 1 other node disagrees/);
    const j = json((await verify(commits.disagree as string, '--trust', t.nodes.a.did, '--trust', t.nodes.b.did, '--threshold', '2', '--json')).stdout);
    assert.equal(j.verdict, 'verified');
    assert.deepEqual(j.groups[0]?.otherFailed, [t.nodes.c.did]);
  });

  test("a change signed by a key that is not its namespace's is ignored and counted", async () => {
    const r = await verify(commits.foreign as string, ...trustAll());
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /ignored: 1 change\(s\) signed by a key that is not their namespace's/);
    assert.doesNotMatch(r.stdout, /FAILED/);
    const j = json((await verify(commits.foreign as string, ...trustAll(), '--json')).stdout);
    assert.equal(j.foreignChanges, 1);
    assert.deepEqual(j.groups[0]?.nodes.map((n) => n.did), [t.nodes.a.did]);
  });

  test('a tampered envelope is rejected: counted as invalid, never shown as a result', async () => {
    const r = await verify(commits.tampered as string, '--trust', t.nodes.a.did, '--trust', t.nodes.b.did, '--threshold', '2');
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^insufficient \(1 < t=2\)/);
    assert.match(r.stdout, /invalid: did:key:z6Mk.* run .*: no signature verifies/);
    const j = json((await verify(commits.tampered as string, '--trust', t.nodes.a.did, '--trust', t.nodes.b.did, '--threshold', '2', '--json')).stdout);
    assert.equal(j.verdict, 'insufficient');
    assert.deepEqual(j.invalid.map((i) => i.did), [t.nodes.b.did]);
    assert.deepEqual(j.groups[0]?.nodes.map((n) => n.did), [t.nodes.a.did]);
  });

  test('differing artifact digests: BAD, each digest with the nodes that produced it', async () => {
    const r = await verify(commits.artifacts as string, '--trust', t.nodes.a.did, '--trust', t.nodes.b.did);
    assert.match(r.stdout, /artifact mytool: BAD \(digests differ\): 111111111111… ← did:key:z6Mk.*; 222222222222… ← did:key:z6Mk/);
    const j = json((await verify(commits.artifacts as string, '--trust', t.nodes.a.did, '--trust', t.nodes.b.did, '--json')).stdout);
    const a = j.groups[0]?.artifacts[0];
    assert.equal(a?.class, 'BAD');
    assert.deepEqual(a?.digests.map((d) => [d.sha256, d.nodes]).sort(), [[SHA1, [t.nodes.a.did]], [SHA2, [t.nodes.b.did]]].sort());
  });

  test('--fetch-logs compares each published log with its attested sha256', async () => {
    const j0 = json((await verify(commits.agree as string, ...trustAll(), '--json')).stdout);
    const byDid = new Map(j0.groups[0]?.nodes.map((n) => [n.did, n]));
    assert.equal(byDid.size, 3);
    const reading = readJobCobs(join(t.home, 'storage'), t.rid);
    for (const job of reading.jobs.filter((x) => x.state?.oid === commits.agree)) {
      for (const a of job.attestations) {
        const radicle = a.envelopes[0]?.statement?.predicate.radicle;
        const uri = new URL(radicle?.log?.uri ?? '');
        const name = Object.values(t.nodes).find((n) => n.did === radicle?.node)?.name ?? '';
        served.set(uri.pathname, name === 'ci-c' ? 'a different log\n' : `log ${name}\n`);
      }
    }
    const r = await verify(commits.agree as string, ...trustAll(), '--fetch-logs');
    assert.equal(r.code, 1, 'a trusted node whose log does not match fails the check');
    assert.equal((r.stdout.match(/log ✓/g) ?? []).length, 2);
    assert.match(r.stdout, new RegExp(`${t.nodes.c.did}.*log ✗ \\(sha256 [0-9a-f]{64} ≠ attested`));
    const j = json((await verify(commits.agree as string, '--trust', t.nodes.a.did, '--fetch-logs', '--json')).stdout);
    assert.deepEqual(j.logs?.map((l) => [l.did, l.ok]).sort(), [[t.nodes.a.did, true], [t.nodes.b.did, true], [t.nodes.c.did, false]].sort());
  });

  test('cibq verify FILE checks one envelope file against the given did:key', async () => {
    const reading = readJobCobs(join(t.home, 'storage'), t.rid);
    const job = reading.jobs.find((x) => x.state?.oid === commits.disagree);
    const change = job?.attestations.find((a) => a.envelopes[0]?.signers[0] === t.nodes.c.did)?.change ?? '';
    const { git } = await import('../storage/job-checks.ts');
    const file = join(t.home, 'run.intoto.jsonl');
    await writeFile(file, git(t.gitDir, ['cat-file', 'blob', `${change}:embeds/attestation.intoto.jsonl`]));
    const ok = await cibq(['verify', file, '--trust', t.nodes.c.did]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, new RegExp(`^valid: FAILED ${t.rid}@${commits.disagree} signed by ${t.nodes.c.did}`));
    const bad = await cibq(['verify', file, '--trust', t.nodes.a.did, '--json']);
    assert.equal(bad.code, 1);
    assert.equal((JSON.parse(bad.stdout) as { valid: boolean }).valid, false);
    const none = await cibq(['verify', file]);
    assert.equal(none.code, 2);
  });
});
