/**
 * A namespace's signed refs (`refs/namespaces/<nid>/refs/rad/sigrefs`) verified as heartwood verifies them
 * (`storage/refs/sigrefs/read.rs`, `storage/refs.rs`) and as a fetching peer validates them
 * (`storage/git.rs` `validate_remote`): a single mistake makes peers reject or silently drop the whole
 * namespace (trust.md §1.6).
 *
 * Per commit: at most one parent; blobs `refs` and `signature`; `refs` lines "<oid> <name>\n" (zero OIDs
 * and `refs/rad/sigrefs` skipped); Ed25519 by the NID's key over the *re-serialized* (sorted) refs,
 * `refs/rad/sigrefs-parent` included; `refs/rad/root` → its `embeds/radicle.json` blob must hash to the RID
 * (level root); `refs/rad/sigrefs-parent` must equal the commit's parent, is forbidden on a root commit and
 * requires `refs/rad/root` (level parent). The head may not be at a lower level than any ancestor.
 * Then the signed refs (minus `sigrefs-parent`) must equal the namespace's refs (all of them except
 * `refs/rad/sigrefs` and `refs/tmp/heads/*`, symbolic refs resolved).
 */
import { parseCommitObject } from './commit-object.ts';
import { gitTry, listRefs, preloadObjects, readObject, readObjects, readTree, resolveRef, ZERO_OID } from './git.ts';
import { repoPath } from './job-cobs.ts';
import { base58btcEncode, publicKeyFromNid, verifyEd25519 } from './keys.ts';
import { Violations, type Violation } from './violations.ts';

export type FeatureLevel = 'none' | 'root' | 'parent';
const RANK: Record<FeatureLevel, number> = { none: 0, root: 1, parent: 2 };
const SIGREFS = 'refs/rad/sigrefs';
const PARENT = 'refs/rad/sigrefs-parent';

export interface SigrefsCommit {
  readonly oid: string;
  readonly parent: string | null;
  /** Refs as heartwood parses them, `refs/rad/sigrefs-parent` included. */
  readonly refs: Readonly<Record<string, string>>;
  readonly signatureValid: boolean;
  /** `null` when heartwood's verification of this commit fails. */
  readonly level: FeatureLevel | null;
}

export interface SigrefsVerification {
  readonly ok: boolean;
  readonly head: string | null;
  /** Head first, back to the root commit. */
  readonly chain: readonly SigrefsCommit[];
  /** What the head signs, without `refs/rad/sigrefs-parent`: what peers will validate against. */
  readonly signed: Readonly<Record<string, string>>;
  /** The namespace's refs as heartwood's `references_of` lists them, without `refs/rad/sigrefs`. */
  readonly actual: Readonly<Record<string, string>>;
  readonly violations: readonly Violation[];
}

/** RID (`rad:z…`) of an identity document blob OID. */
export function ridFromBlobOid(oid: string): string {
  return 'rad:z' + base58btcEncode(Buffer.from(oid, 'hex'));
}

function canonicalRefs(refs: Record<string, string>): Buffer {
  const names = Object.keys(refs).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return Buffer.from(names.map((n) => `${refs[n]} ${n}\n`).join(''));
}

const REFNAME_RE = /^refs\/(?!.*(?:\.\.|\/\/|@\{|\.lock(?:\/|$)|\/\.|\/$))[^\0-\x20\x7f~^:?*[\\]+$/;

/** Verifies the signed refs of namespace `nid` in repository `rid` under `storagePath`. */
export function verifySigrefs(storagePath: string, rid: string, nid: string): SigrefsVerification {
  const gitDir = repoPath(storagePath, rid);
  preloadObjects(gitDir);
  const expectedRid = rid.startsWith('rad:') ? rid : `rad:${rid}`;
  const v = new Violations({ namespace: nid });
  const pub = publicKeyFromNid(nid);
  const head = resolveRef(gitDir, `refs/namespaces/${nid}/${SIGREFS}`);
  const actual = Object.fromEntries(
    listRefs(gitDir, `refs/namespaces/${nid}/`)
      .map((r) => ({ ...r, name: r.name.slice(`refs/namespaces/${nid}/`.length) }))
      .filter((r) => r.name !== SIGREFS && !r.name.startsWith('refs/tmp/heads/'))
      .map((r) => [r.name, r.oid]),
  );
  if (pub === null) v.reject('sigrefs-key', `${nid} is not an Ed25519 node id`);
  if (head === null) v.reject('sigrefs-missing', `no refs/namespaces/${nid}/${SIGREFS}`);
  if (pub === null || head === null) return { ok: false, head, chain: [], signed: {}, actual, violations: v.list };

  const chain: SigrefsCommit[] = [];
  const seen = new Set<string>();
  for (let oid: string | null = head; oid !== null && !seen.has(oid); ) {
    seen.add(oid);
    const cv = new Violations({ namespace: nid, commit: oid });
    const commit = readCommit(gitDir, oid, cv, pub, expectedRid, chain.length === 0);
    chain.push(commit);
    // Problems deeper in the chain only matter to heartwood when the head is below level `parent`.
    v.add(chain.length === 1 ? cv.list : cv.list.map((x) => ({ ...x, severity: 'nonstandard' as const })));
    oid = commit.parent;
  }
  const headCommit = chain[0] as SigrefsCommit;
  const signed = { ...headCommit.refs };
  delete signed[PARENT];
  // heartwood cannot read a namespace whose head fails verification: nothing further to compare.
  if (headCommit.level === null) return { ok: false, head, chain, signed, actual, violations: v.list };
  const levels = chain.map((c) => c.level);
  const maxLevel = levels.reduce<FeatureLevel>((m, l) => (l !== null && RANK[l] > RANK[m] ? l : m), 'none');
  if (headCommit.level !== null && RANK[headCommit.level] < RANK[maxLevel]) {
    v.reject('sigrefs-downgrade', `head is at level ${headCommit.level} but history reached ${maxLevel}`);
  }
  if (headCommit.level !== 'parent' && levels.slice(1).includes(null)) {
    v.reject('sigrefs-history', 'an older sigrefs commit fails verification, and the head is below level parent');
  }
  chain.forEach((c, i) => {
    if (i > 0 && c.parent !== null && c.refs[PARENT] === undefined && i < chain.findLastIndex((d) => d.refs[PARENT] !== undefined)) {
      v.nonstandard('sigrefs-gap', `sigrefs commit ${c.oid} lacks ${PARENT} after earlier commits had it`);
    }
  });
  if (headCommit.parent !== null && headCommit.refs[PARENT] === undefined) {
    v.nonstandard('sigrefs-no-parent-entry', `head ${head} has a parent but no ${PARENT} (heartwood ≥ 1.7 always writes it)`);
  }
  if (signed['refs/rad/root'] === undefined) v.nonstandard('sigrefs-no-root', 'head does not sign refs/rad/root');
  for (const [name, oid] of Object.entries(actual)) {
    if (signed[name] === undefined) v.reject('sigrefs-unsigned-ref', `${name} (${oid}) exists but is not signed`);
    else if (signed[name] !== oid) v.reject('sigrefs-mismatched-ref', `${name} is ${oid} but signed as ${signed[name]}`);
  }
  for (const name of Object.keys(signed)) {
    if (actual[name] === undefined) v.reject('sigrefs-missing-ref', `${name} is signed but absent from the namespace`);
  }
  return { ok: v.list.length === 0, head, chain, signed, actual, violations: v.list };
}

const docOids = new Map<string, string | undefined>();

/** Blob OID of `embeds/radicle.json` in identity commit `root` (what heartwood's `IdentityRootReader` reads). */
function identityDocOid(gitDir: string, root: string): string | undefined {
  const key = `${gitDir}\0${root}`;
  if (!docOids.has(key)) {
    docOids.set(key, gitTry(gitDir, ['rev-parse', '-q', '--verify', `${root}^{commit}:embeds/radicle.json`])?.toString().trim());
  }
  return docOids.get(key);
}

function readCommit(gitDir: string, oid: string, v: Violations, pub: Buffer, rid: string, isHead: boolean): SigrefsCommit {
  const raw = readObject(gitDir, 'commit', oid);
  const commit = raw === null ? null : parseCommitObject(raw);
  const broken = (code: string, msg: string): SigrefsCommit => {
    v.reject(code, msg);
    return { oid, parent: commit?.parents[0] ?? null, refs: {}, signatureValid: false, level: null };
  };
  if (commit === null) return broken('sigrefs-commit', `${oid} is not a readable commit`);
  if (commit.parents.length > 1) return broken('sigrefs-parents', `${commit.parents.length} parents; readers ≥ 1.7 require a linear chain`);
  const parent = commit.parents[0] ?? null;
  const entries = readTree(gitDir, commit.tree) ?? [];
  readObjects(gitDir, entries.map((e) => e.oid));
  const blob = (name: string) => {
    const e = entries.find((x) => x.name === name && x.type === 'blob');
    return e ? readObject(gitDir, 'blob', e.oid) : null;
  };
  const refsBlob = blob('refs');
  const sig = blob('signature');
  if (refsBlob === null || sig === null) return broken('sigrefs-blobs', 'tree lacks the `refs` or `signature` blob');
  if (entries.length !== 2) v.nonstandard('sigrefs-tree', `tree has ${entries.length} entries; heartwood writes refs and signature`);
  if (commit.body !== 'Update signed refs\n') v.nonstandard('sigrefs-message', `message ${JSON.stringify(commit.body)}`);

  const refs: Record<string, string> = {};
  for (const line of refsBlob.toString('utf8').split('\n').filter((l, i, all) => l !== '' || i < all.length - 1)) {
    const sp = line.indexOf(' ');
    const [roid, name] = [line.slice(0, sp), line.slice(sp + 1)];
    if (sp < 0 || !/^[0-9a-f]{40}$/.test(roid) || !REFNAME_RE.test(name)) return broken('sigrefs-refs-format', `bad refs line ${JSON.stringify(line)}`);
    if (roid !== ZERO_OID && name !== SIGREFS) refs[name] = roid;
  }
  const canonical = canonicalRefs(refs);
  if (!canonical.equals(refsBlob)) v.nonstandard('sigrefs-not-canonical', 'refs blob is not the sorted canonical serialization');
  if (sig.length !== 64) return broken('sigrefs-signature-size', `signature blob has ${sig.length} bytes`);
  const signatureValid = verifyEd25519(pub, canonical, sig);
  if (!signatureValid) return { ...broken('sigrefs-signature', 'signature does not verify with the namespace key'), refs, parent };

  let level: FeatureLevel = 'none';
  const root = refs['refs/rad/root'];
  if (root !== undefined) {
    const docOid = identityDocOid(gitDir, root);
    if (docOid === undefined) return { ...broken('sigrefs-identity-root', `rad/root ${root} has no embeds/radicle.json`), refs, parent };
    if (ridFromBlobOid(docOid) !== rid) return { ...broken('sigrefs-identity', `rad/root belongs to ${ridFromBlobOid(docOid)}, not ${rid}`), refs, parent };
    level = 'root';
  }
  const claimed = refs[PARENT];
  if (claimed !== undefined && parent === null) return { ...broken('sigrefs-dangling-parent', `root commit names ${PARENT} ${claimed}`), refs, parent };
  if (claimed !== undefined && claimed !== parent) return { ...broken('sigrefs-mismatched-parent', `${PARENT} ${claimed} ≠ parent ${parent}`), refs, parent };
  if (claimed !== undefined && level !== 'root') return { ...broken('sigrefs-root-downgrade', `${PARENT} without refs/rad/root`), refs, parent };
  if (claimed !== undefined || (isHead && parent === null && level === 'root')) level = 'parent';
  return { oid, parent, refs, signatureValid, level };
}
