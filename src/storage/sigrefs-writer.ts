/**
 * Re-signs a namespace's refs exactly as heartwood does (`storage/refs/sigrefs/write.rs`,
 * reference trust.md §1.5 step 10, §1.5a): every ref under `refs/namespaces/<nid>/` except
 * `refs/rad/sigrefs` and `refs/tmp/heads/*`, plus `refs/rad/sigrefs-parent` = the previous sigrefs
 * commit when there is one; lines `<oid> <name>\n` sorted bytewise; a raw Ed25519 signature over
 * those bytes; a commit `Update signed refs` by `radicle <nid>` with the previous commit as its only
 * parent. Nothing is written when the refs are unchanged. The sigrefs ref moves by compare-and-swap:
 * when another writer (`rad`) signed in between, the refs are read again and signed again on top of
 * its commit, so the chain never forks.
 */
import { ZERO_OID, type GitPlumbing } from './git-plumbing.ts';
import { parseSigrefsBlob } from './sigrefs.ts';
import type { CobSigner } from './change-signature.ts';

const SIGREFS = 'refs/rad/sigrefs';
const PARENT = 'refs/rad/sigrefs-parent';
const ROOT = 'refs/rad/root';

export type SignRefsResult = { at: string; changed: boolean; attempts: number };

export type SignRefsDeps = {
  git: GitPlumbing;
  signer: CobSigner;
  /** Unix seconds for the commit (default: now). */
  now?: () => number;
  /** Called between reading the refs and moving the sigrefs ref (tests race another writer here). */
  beforeSwap?: () => Promise<void>;
  maxAttempts?: number;
};

function bytewise(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The `refs` blob for `refs` (names without the namespace prefix). */
export function canonicalRefs(refs: ReadonlyMap<string, string>): string {
  return [...refs]
    .sort(([a], [b]) => bytewise(a, b))
    .map(([name, oid]) => `${oid} ${name}\n`)
    .join('');
}

/** The namespace's signable refs, names stripped of `refs/namespaces/<nid>/`. */
export async function namespaceRefs(git: GitPlumbing, nid: string): Promise<Map<string, string>> {
  const prefix = `refs/namespaces/${nid}/`;
  const out = new Map<string, string>();
  for (const [full, oid] of await git.refs(prefix)) {
    const name = full.slice(prefix.length);
    if (name === SIGREFS || name.startsWith('refs/tmp/heads/') || oid === ZERO_OID) continue;
    out.set(name, oid);
  }
  return out;
}

/** Points `refs/rad/root` of the namespace at the identity's root commit if it is missing (as sign_refs does). */
export async function ensureIdentityRoot(git: GitPlumbing, nid: string): Promise<void> {
  const ref = `refs/namespaces/${nid}/${ROOT}`;
  if ((await git.revParse(ref)) !== null) return;
  const roots = await git.roots('refs/rad/id');
  if (roots.length !== 1 || roots[0] === undefined) throw new Error(`cannot find the identity root of refs/rad/id (${roots.length} roots)`);
  await git.compareAndSwap(ref, roots[0], null, 'set-id-root (cibq)');
}

export async function signRefs(deps: SignRefsDeps): Promise<SignRefsResult> {
  const { git, signer } = deps;
  const ref = `refs/namespaces/${signer.nid}/${SIGREFS}`;
  const max = deps.maxAttempts ?? 10;
  await ensureIdentityRoot(git, signer.nid);
  for (let attempt = 1; attempt <= max; attempt++) {
    const head = await git.revParse(ref);
    const refs = await namespaceRefs(git, signer.nid);
    if (head !== null) {
      const previous = await git.revParse(`${head}:refs`);
      if (previous !== null) {
        const signed = parseSigrefsBlob(await git.readBlob(previous));
        signed.delete(PARENT);
        if (sameRefs(signed, refs)) return { at: head, changed: false, attempts: attempt };
      }
      refs.set(PARENT, head);
    }
    const text = canonicalRefs(refs);
    const signature = await signer.sign(Buffer.from(text, 'utf8'));
    const refsBlob = await git.writeObject('blob', text);
    const sigBlob = await git.writeObject('blob', signature);
    const tree = await git.writeTree([
      { mode: '100644', type: 'blob', oid: refsBlob, name: 'refs' },
      { mode: '100644', type: 'blob', oid: sigBlob, name: 'signature' },
    ]);
    const time = deps.now?.() ?? Math.floor(Date.now() / 1000);
    const who = `radicle <${signer.nid}> ${time} +0000`;
    const commit = [`tree ${tree}`, ...(head === null ? [] : [`parent ${head}`]), `author ${who}`, `committer ${who}`, '', 'Update signed refs', ''].join('\n');
    const oid = await git.writeObject('commit', commit);
    await deps.beforeSwap?.();
    if (await git.compareAndSwap(ref, oid, head, `Save ${refs.size} signed references (cibq)`)) {
      return { at: oid, changed: true, attempts: attempt };
    }
  }
  throw new Error(`could not sign the refs of ${signer.nid}: another writer kept moving ${SIGREFS} (${max} attempts)`);
}

function sameRefs(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
