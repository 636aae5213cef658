/**
 * The files a run produced (`artifacts:` in native.yaml): each one's sha256 and size, and a copy in
 * the run directory (the checkout is removed afterwards). Independent nodes building the same commit
 * with SOURCE_DATE_EPOCH set can compare these digests. A name that leads outside the checkout
 * (through a symlink, say) or is not a regular file is refused, never followed.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, realpath, stat } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';

export type Artifact = { name: string; sha256: string; size: number };
export type ArtifactProblem = { name: string; problem: string };
export type CollectedArtifacts = { artifacts: Artifact[]; problems: ArtifactProblem[] };

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Hashes each named file of `checkout` and copies it to `<dest>/<name>`. */
export async function collectArtifacts(checkout: string, names: readonly string[], dest: string): Promise<CollectedArtifacts> {
  const root = await realpath(checkout);
  const artifacts: Artifact[] = [];
  const problems: ArtifactProblem[] = [];
  for (const name of names) {
    let real: string;
    try {
      real = await realpath(join(root, name));
    } catch {
      problems.push({ name, problem: 'was not produced' });
      continue;
    }
    if (!real.startsWith(root + sep)) {
      problems.push({ name, problem: 'leads outside the checkout; refused' });
      continue;
    }
    const st = await stat(real);
    if (!st.isFile()) {
      problems.push({ name, problem: 'is not a regular file' });
      continue;
    }
    const target = join(dest, name);
    await mkdir(dirname(target), { recursive: true });
    await copyFile(real, target);
    // Hash the copy: the file that is published is the file that is described.
    const copied = await stat(target);
    artifacts.push({ name, sha256: await sha256File(target), size: copied.size });
  }
  return { artifacts, problems };
}
