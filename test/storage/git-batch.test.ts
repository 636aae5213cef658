import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { GitBatch } from '../../src/storage/git-batch.ts';

const log = pino({ level: 'silent' });
let dir: string;
const git = (args: string[], input?: Buffer | string): string =>
  execFileSync('git', ['--git-dir', dir, ...args], input === undefined ? {} : { input }).toString().trim();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gb-'));
  git(['init', '-q', '--bare', dir]);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('reads blobs byte-for-byte, including newlines, NULs and data larger than a pipe chunk', async () => {
  const small = Buffer.from('line 1\nline 2\n\0binary\n');
  const large = Buffer.alloc(300_000, 'x\n');
  const smallOid = git(['hash-object', '-w', '--stdin'], small);
  const largeOid = git(['hash-object', '-w', '--stdin'], large);
  const batch = new GitBatch(dir, log);
  try {
    const [a, b, c] = await Promise.all([batch.read(smallOid), batch.read(largeOid), batch.read(smallOid)]);
    assert.deepEqual(a, { oid: smallOid, type: 'blob', size: small.length, content: small });
    assert.equal(b?.size, large.length);
    assert.ok(b?.content.equals(large));
    assert.ok(c?.content.equals(small));
  } finally {
    await batch.close();
  }
});

test('resolves refs and <rev>:<path>, and answers null for missing objects', async () => {
  const blob = git(['hash-object', '-w', '--stdin'], 'hello\n');
  const tree = git(['mktree'], `100644 blob ${blob}\thello.txt\n`);
  const commit = git(['commit-tree', tree, '-m', 'c'], undefined);
  git(['update-ref', 'refs/heads/main', commit]);
  const batch = new GitBatch(dir, log);
  try {
    assert.equal((await batch.read('refs/heads/main'))?.type, 'commit');
    assert.equal((await batch.read('refs/heads/main'))?.oid, commit);
    assert.equal((await batch.read('refs/heads/main:hello.txt'))?.content.toString(), 'hello\n');
    assert.equal((await batch.read(`${commit}^{tree}`))?.type, 'tree');
    assert.equal(await batch.read('refs/heads/nope'), null);
    assert.equal(await batch.read('0000000000000000000000000000000000000001'), null);
    assert.equal(await batch.read('refs/heads/main:nope.txt'), null);
  } finally {
    await batch.close();
  }
});

test('rejects revisions with whitespace, newlines or NUL without talking to git', async () => {
  const batch = new GitBatch(dir, log);
  for (const rev of ['a b', 'HEAD\nHEAD', 'x\0y', '', 'tab\there']) {
    await assert.rejects(batch.read(rev), /invalid git revision/);
  }
  assert.equal(batch.spawnCount, 0);
  await batch.close();
});

test('a burst of 3000 reads is pipelined through one git process', async () => {
  const oids = Array.from({ length: 30 }, (_, i) => git(['hash-object', '-w', '--stdin'], `blob ${i}\n`));
  const batch = new GitBatch(dir, log);
  try {
    const reads = Array.from({ length: 3000 }, (_, i) => batch.read(oids[i % oids.length] ?? ''));
    const results = await Promise.all(reads);
    results.forEach((r, i) => assert.equal(r?.content.toString(), `blob ${i % 30}\n`));
    assert.equal(batch.spawnCount, 1);
  } finally {
    await batch.close();
  }
});

test('rejects pending reads when git dies, and restarts on the next read', async () => {
  const broken = new GitBatch(join(dir, 'does-not-exist'), log);
  await assert.rejects(broken.read('HEAD'), /git cat-file/);
  await broken.close();

  const oid = git(['hash-object', '-w', '--stdin'], 'again\n');
  const batch = new GitBatch(dir, log);
  try {
    assert.equal((await batch.read(oid))?.content.toString(), 'again\n');
    const pid = batch.pid;
    assert.ok(pid !== undefined);
    process.kill(pid, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await batch.read(oid))?.content.toString(), 'again\n');
    assert.equal(batch.spawnCount, 2);
    assert.notEqual(batch.pid, pid);
  } finally {
    await batch.close();
  }
  await assert.rejects(batch.read(oid), /closed/);
});
