/**
 * One COB change (a commit) decoded the way heartwood's `radicle-cob` loads it
 * (`backend/git/change.rs` `load`, `load_manifest`, `load_contents`), plus the checks that it was written
 * the way heartwood writes it (`store`, `write_manifest`, `write_commit`; trust.md §1.5 steps 3–7).
 *
 * heartwood's load fails (the change is skipped, so the job or the branch is invisible) on: an unparsable
 * commit, a bad `Rad-Related`/`Rad-Resource` OID, an undecodable SSH signature, no SSH signature, more than
 * one signing key, more than one `Rad-Resource`, a missing or invalid `manifest`, no action blobs.
 * COB parents are the git parents not named in a `Rad-Related` or `Rad-Resource` trailer; the op
 * timestamp is the committer time in seconds; the author of the op is the signing key.
 */
import { checkCanonical } from './canonical-json.ts';
import { parseCommitObject, type Trailer } from './commit-object.ts';
import { readCobTree, type Embed, type Manifest } from './cob-tree.ts';
import { OID_RE, readObject } from './git.ts';
import { decodeJobAction, type JobAction } from './job-action.ts';
import { didFromPublicKey, nidFromPublicKey } from './keys.ts';
import { parseArmoredSshSig, verifyTreeSignature } from './sshsig.ts';
import { Violations, type Violation } from './violations.ts';

export interface Signer {
  /** Raw Ed25519 public key, hex. */
  readonly publicKey: string;
  readonly nid: string;
  readonly did: string;
}

export interface DecodedChange {
  readonly oid: string;
  readonly tree: string;
  /** Git parents in stored order. */
  readonly gitParents: readonly string[];
  /** COB parents (previous changes): git parents not named by a trailer. */
  readonly parents: readonly string[];
  readonly related: readonly string[];
  readonly resource: string | null;
  readonly signer: Signer | null;
  /** Ed25519 by `signer` over the 20 raw tree-OID bytes. */
  readonly signatureValid: boolean;
  /** heartwood's `load` succeeds (otherwise the change is not in the graph at all). */
  readonly loadable: boolean;
  /** Committer time, seconds. radicle-job shows it ×1000 (ms). */
  readonly timestamp: number;
  readonly message: string;
  readonly trailers: readonly Trailer[];
  readonly manifest: Manifest | null;
  /** Raw action blobs, in the order heartwood applies them. */
  readonly actionBlobs: readonly Buffer[];
  /** Decoded actions; `null` where radicle-job cannot decode the blob. */
  readonly actions: readonly (JobAction | null)[];
  /** Every action decodes (otherwise Radicle prunes this change and its descendants). */
  readonly decodable: boolean;
  readonly embeds: readonly Embed[];
  readonly violations: readonly Violation[];
}

export interface DecodeOptions {
  readonly typeName: string;
}

/** Decodes change `oid` from the bare repository `gitDir`. */
export function decodeChange(gitDir: string, oid: string, opts: DecodeOptions): DecodedChange {
  const v = new Violations({ change: oid });
  const raw = readObject(gitDir, 'commit', oid);
  const commit = raw === null ? null : parseCommitObject(raw);
  const base = {
    oid, tree: '', gitParents: [], parents: [], related: [], resource: null, signer: null, signatureValid: false,
    loadable: false, timestamp: 0, message: '', trailers: [], manifest: null, actionBlobs: [], actions: [],
    decodable: false, embeds: [],
  };
  if (commit === null) {
    v.reject('change-unreadable', raw === null ? 'not a commit in storage' : 'commit object does not parse');
    return { ...base, violations: v.list };
  }
  let loadable = true;
  const reject = (code: string, msg: string) => {
    loadable = false;
    v.reject(code, msg);
  };

  // Trailers: only Rad-Related / Rad-Resource count; a bad OID in either fails the load.
  const related: string[] = [];
  const resources: string[] = [];
  for (const t of commit.trailers) {
    if (t.token !== 'Rad-Related' && t.token !== 'Rad-Resource') continue;
    if (!OID_RE.test(t.value)) reject('trailer-oid', `${t.token}: "${t.value}" is not an OID`);
    else (t.token === 'Rad-Related' ? related : resources).push(t.value);
  }
  if (resources.length > 1) reject('too-many-resources', `${resources.length} Rad-Resource trailers`);
  if (/^Rad-(Related|Resource):/m.test(commit.message)) {
    v.nonstandard('trailer-placement', 'a Rad- trailer line is not in the final trailer paragraph');
  }
  const parents = commit.parents.filter((p) => !related.includes(p) && !resources.includes(p));

  // Signature: PGP signatures are skipped, every SSH one must decode, exactly one key may sign.
  let signer: Signer | null = null;
  let signatureValid = false;
  const ssh = commit.signatures.filter((s) => s.startsWith('-----BEGIN SSH SIGNATURE-----'));
  const decoded = ssh.map(parseArmoredSshSig);
  for (const d of decoded) v.add(d.violations);
  const sigs = decoded.map((d) => d.sig);
  const keys = new Set(sigs.map((s) => s?.publicKey.toString('hex')));
  if (sigs.includes(null)) loadable = false;
  else if (sigs.length === 0) reject('unsigned', 'no SSH signature in a gpgsig header');
  else if (keys.size > 1) reject('too-many-signatures', `${keys.size} different signing keys`);
  else if (sigs[0]) {
    const sig = sigs[0];
    signer = { publicKey: sig.publicKey.toString('hex'), nid: nidFromPublicKey(sig.publicKey), did: didFromPublicKey(sig.publicKey) };
    signatureValid = verifyTreeSignature(sig, commit.tree);
    if (!signatureValid) {
      v.reject('signature-invalid', 'Ed25519 signature does not verify over the raw tree OID');
    }
  }
  if (commit.signatures.length !== 1) v.nonstandard('gpgsig-count', `${commit.signatures.length} gpgsig headers; heartwood writes 1`);

  const treeRead = readCobTree(gitDir, commit.tree, opts.typeName);
  v.add(treeRead.violations);
  if (!treeRead.loadable) loadable = false;
  const actions = treeRead.actionBlobs.map((blob, i) => {
    const canon = checkCanonical(blob);
    if (!canon.ok) v.nonstandard('action-not-canonical', `action ${i}: ${canon.reason}`);
    if (canon.value === undefined) {
      v.reject('action-decode', `action ${i} is not JSON`);
      return null;
    }
    const res = decodeJobAction(canon.value);
    v.add(res.violations);
    return res.action;
  });

  checkCommitLayout(commit, { parents, related, resources }, v);
  return {
    oid,
    tree: commit.tree,
    gitParents: commit.parents,
    parents,
    related,
    resource: resources[0] ?? null,
    signer,
    signatureValid,
    loadable,
    timestamp: commit.committer?.time ?? 0,
    message: commit.message,
    trailers: commit.trailers,
    manifest: treeRead.manifest,
    actionBlobs: treeRead.actionBlobs,
    actions,
    decodable: actions.length > 0 && actions.every((a) => a !== null),
    embeds: treeRead.embeds,
    violations: v.list,
  };
}

const sortedUnique = (xs: readonly string[]) => [...new Set(xs)].sort();

/** What heartwood's `store`/`write_commit` always produce; Radicle's readers do not depend on it. */
function checkCommitLayout(
  commit: NonNullable<ReturnType<typeof parseCommitObject>>,
  split: { parents: string[]; related: string[]; resources: string[] },
  v: Violations,
): void {
  const { parents, related, resources } = split;
  const expected = [...[...parents].sort(), ...sortedUnique(related), ...resources];
  if (expected.join(',') !== commit.parents.join(',')) {
    v.nonstandard('parent-order', `parents ${commit.parents.join(',')} ≠ tips (sorted), related (sorted), resource: ${expected.join(',')}`);
  }
  if (related.join(',') !== sortedUnique(related).join(',')) v.nonstandard('related-order', 'Rad-Related trailers not sorted and unique');
  for (const t of [...related, ...resources]) {
    if (!commit.parents.includes(t)) v.nonstandard('trailer-not-parent', `trailer OID ${t} is not a git parent`);
  }
  if (resources.length === 0) v.nonstandard('no-resource', 'no Rad-Resource trailer (heartwood always names the identity head)');
  const order = commit.headers.map((h) => h.name).filter((n) => n !== 'parent');
  if (order.join(' ') !== 'tree author committer gpgsig') {
    v.nonstandard('header-layout', `headers ${order.join(' ')}; heartwood writes tree, parent…, author, committer, gpgsig`);
  }
  if (commit.author?.time !== commit.committer?.time) v.nonstandard('author-time', 'author and committer times differ');
  if (commit.message.trim().length === 0) v.nonstandard('empty-message', 'empty change message');
}
