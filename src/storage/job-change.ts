/**
 * Writes one signed change of a job COB with git plumbing (reference trust.md §1.5 steps 3–7 and
 * §1.5a; heartwood `radicle-cob` `backend/git/change.rs`): a tree of `manifest` and one canonical
 * JSON blob per action (`0`, `1`, …) and an optional `embeds/` tree of files; an Ed25519 signature over the 20 raw bytes of the tree OID in
 * a 70-column SSHSIG `gpgsig` header; parents in the order tips, related (sorted, deduplicated),
 * resource; the message, then `Rad-Related` trailers and one `Rad-Resource` trailer. The author and
 * committer are the storage's `user.name`/`user.email`; the committer time is the op's timestamp.
 * Returns the commit OID; moves no ref.
 */
import type { GitPlumbing, TreeEntry } from './git-plumbing.ts';
import { JOB_MANIFEST, encodeJobAction, type JobAction } from './job-action.ts';
import { changeSignatureArmor, type CobSigner } from './change-signature.ts';

export type JobChange = {
  /** Current tips of the COB (empty for the root change). */
  tips: readonly string[];
  /** Related commits (the tested commit, on the root change only). */
  related: readonly string[];
  /** The repository identity commit (`refs/rad/id`). */
  resource: string;
  actions: readonly JobAction[];
  message: string;
  /** Unix seconds. */
  time: number;
  /** Files of the change's `embeds/` tree (the run's attestation on a `Finished` change). */
  embeds?: readonly { name: string; content: Buffer }[];
};

const MAX_ACTIONS = 127;

export async function writeJobChange(git: GitPlumbing, signer: CobSigner, change: JobChange): Promise<string> {
  if (change.actions.length === 0 || change.actions.length > MAX_ACTIONS) throw new Error('a change holds 1 to 127 actions');
  const entries: TreeEntry[] = [{ mode: '100644', type: 'blob', oid: await git.writeObject('blob', JOB_MANIFEST), name: 'manifest' }];
  for (const [i, action] of change.actions.entries()) {
    entries.push({ mode: '100644', type: 'blob', oid: await git.writeObject('blob', encodeJobAction(action)), name: String(i) });
  }
  if (change.embeds !== undefined && change.embeds.length > 0) {
    const files: TreeEntry[] = [];
    for (const e of change.embeds) files.push({ mode: '100644', type: 'blob', oid: await git.writeObject('blob', e.content), name: e.name });
    entries.push({ mode: '040000', type: 'tree', oid: await git.writeTree(files), name: 'embeds' });
  }
  const tree = await git.writeTree(entries);
  const gpgsig = (await changeSignatureArmor(signer, tree)).replace(/\n/g, '\n ');
  const related = [...new Set(change.related)].sort();
  const parents = [...change.tips, ...related, change.resource];
  const clean = (v: string | null): string | null => (v === null ? null : v.replace(/[<>\n\r\0]/g, '').trim() || null);
  const name = clean(await git.config('user.name')) ?? 'radicle';
  const email = clean(await git.config('user.email')) ?? `radicle@${signer.nid}`;
  const who = `${name} <${email}> ${change.time} +0000`;
  const trailers = [...related.map((r) => `Rad-Related: ${r}`), `Rad-Resource: ${change.resource}`];
  const text = [
    `tree ${tree}`,
    ...parents.map((p) => `parent ${p}`),
    `author ${who}`,
    `committer ${who}`,
    `gpgsig ${gpgsig}`,
    '',
    change.message.trim(),
    '',
    ...trailers,
    '',
  ].join('\n');
  return git.writeObject('commit', text);
}
