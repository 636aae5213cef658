/**
 * Storage for the bench, laid out as a Radicle node lays it out (test/fixtures/radicle-storage.ts),
 * with many branches made fast: one `git fast-import` per repository writes a commit per branch
 * (each a child of the repository's first commit) and its ref, where the test fixture would start
 * several git processes per commit.
 */
import { readFile, rm } from 'node:fs/promises';
import { execa } from 'execa';
import { FakeStorage } from '../../test/fixtures/radicle-storage.ts';

export type BenchRepo = { rid: string; gitDir: string; base: string };

/** A repository with `main` on one commit, pushed by `nid` (a delegate) and canonical. */
export async function benchRepo(storage: FakeStorage, nid: string, name: string): Promise<BenchRepo> {
  const { rid, gitDir } = await storage.createRepo({ name, delegates: [nid], defaultBranch: 'main' });
  const base = await storage.commit(rid, { files: { 'README.md': `${name}\n` }, message: 'first' });
  await storage.pushBranch(rid, nid, 'main', base);
  await storage.setCanonicalHead(rid, 'main', base);
  return { rid, gitDir, base };
}

export type NewBranch = { ref: string; oid: string };

/**
 * Writes `names.length` new branches of `nid`, each on a commit of its own on top of the base;
 * returns their refs and commits in order, as the node would announce them.
 */
export async function addBranches(repo: BenchRepo, nid: string, names: readonly string[], tag = ''): Promise<NewBranch[]> {
  const refs = names.map((n) => `refs/namespaces/${nid}/refs/heads/${n}`);
  let script = '';
  refs.forEach((ref, i) => {
    const msg = `branch ${names[i]} ${tag}\n`;
    script += `commit ${ref}\nmark :${i + 1}\ncommitter alice <alice@${nid}> ${1_700_000_000 + i} +0000\n`;
    script += `data ${Buffer.byteLength(msg)}\n${msg}from ${repo.base}\n\n`;
  });
  const marks = `${repo.gitDir}/bench-marks-${process.pid}-${Date.now()}`;
  await execa('git', ['--git-dir', repo.gitDir, 'fast-import', '--quiet', `--export-marks=${marks}`], { input: script });
  const oids = new Map<number, string>();
  for (const line of (await readFile(marks, 'utf8')).split('\n')) {
    const m = /^:(\d+) ([0-9a-f]{40})$/.exec(line);
    if (m) oids.set(Number(m[1]), m[2] as string);
  }
  await rm(marks, { force: true });
  return refs.map((ref, i) => ({ ref, oid: oids.get(i + 1) as string }));
}

/** The refsFetched event announcing `branches` as created. */
export function refsFetched(remote: string, rid: string, branches: readonly NewBranch[]) {
  return { type: 'refsFetched', remote, rid, updated: branches.map((b) => ({ created: { name: b.ref, oid: b.oid } })) };
}
