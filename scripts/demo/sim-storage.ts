/**
 * The demo's Radicle storage, written with plain git exactly as a node lays it out
 * (reference radicle-node.md §3–4, §7): `<rad home>/storage/<rid>` bare repositories with an
 * identity document and identity COB, branches in the author's namespace and canonical, signed
 * refs (`rad/sigrefs`), patch COBs whose changes are signed with the author's ed25519 key (SSHSIG),
 * and the node's COB cache `cobs/cache.db`. cibq reads it as it reads a real node's; nothing here
 * is part of cibq itself (the tests build storage with test/fixtures/radicle-storage.ts).
 */
import { createPrivateKey, createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { execa } from 'execa';
import { base58Encode } from '../../src/model/base58.ts';
import { didFromNid, nidFromPublicKey } from '../../src/model/node-id.ts';

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const PATCH = 'xyz.radicle.patch';

export type Person = { alias: string; nid: string; did: string; key: KeyObject; pub: Buffer };

/** A person with a fresh ed25519 key (their node id is derived from it). */
export function person(alias: string): Person {
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, randomBytes(32)]), format: 'der', type: 'pkcs8' });
  const pub = Buffer.from(createPublicKey(key).export({ format: 'jwk' }).x ?? '', 'base64url');
  const nid = nidFromPublicKey(pub);
  return { alias, nid, did: didFromNid(nid), key, pub };
}

/** Sorted keys, no whitespace: how Radicle writes its JSON. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

function sshString(b: Buffer | string): Buffer {
  const buf = typeof b === 'string' ? Buffer.from(b) : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(buf.length);
  return Buffer.concat([len, buf]);
}

/** The `gpgsig` of a COB change: an armored SSHSIG whose signature covers the raw tree OID. */
function changeSignature(p: Person, tree: string): string {
  const sig = sign(null, Buffer.from(tree, 'hex'), p.key);
  const version = Buffer.alloc(4);
  version.writeUInt32BE(1);
  const blob = Buffer.concat([
    Buffer.from('SSHSIG'), version,
    sshString(Buffer.concat([sshString('ssh-ed25519'), sshString(p.pub)])),
    sshString('radicle'), sshString(''), sshString('sha256'),
    sshString(Buffer.concat([sshString('ssh-ed25519'), sshString(sig)])),
  ]).toString('base64');
  return ['-----BEGIN SSH SIGNATURE-----', ...(blob.match(/.{1,70}/g) ?? []), '-----END SSH SIGNATURE-----'].join('\n ');
}

export type Repo = { rid: string; name: string; gitDir: string; delegate: Person; identity: string };

export class SimStorage {
  readonly radHome: string;

  constructor(radHome: string) {
    this.radHome = radHome;
  }

  async init(): Promise<void> {
    await mkdir(join(this.radHome, 'storage'), { recursive: true });
    await mkdir(join(this.radHome, 'cobs'), { recursive: true });
  }

  /** A repository whose identity `delegate` signs: identity document, identity COB, refs/rad/id. */
  async createRepo(name: string, description: string, delegate: Person): Promise<Repo> {
    const doc = canonical({
      delegates: [delegate.did],
      payload: { 'xyz.radicle.project': { defaultBranch: 'main', description, name } },
      threshold: 1,
    });
    const docOid = await this.#git(null, ['hash-object', '--stdin'], { input: doc });
    const rid = `rad:z${base58Encode(Buffer.from(docOid, 'hex'))}`;
    const gitDir = join(this.radHome, 'storage', rid.slice(4));
    await execa('git', ['init', '-q', '--bare', gitDir]);
    const repo: Repo = { rid, name, gitDir, delegate, identity: '' };
    await this.#blob(repo, doc);
    const action = canonical({ blob: docOid, parent: null, signature: `z${base58Encode(sign(null, Buffer.from(docOid, 'hex'), delegate.key))}`, title: 'Initial revision', type: 'revision' });
    const embeds = await this.#git(repo, ['mktree'], { input: `100644 blob ${docOid}\tradicle.json\n` });
    const tree = await this.#git(repo, ['mktree'], {
      input: `100644 blob ${await this.#blob(repo, action)}\t0\n040000 tree ${embeds}\tembeds\n100644 blob ${await this.#blob(repo, '{"typeName":"xyz.radicle.id","version":1}')}\tmanifest\n`,
    });
    repo.identity = await this.#change(repo, delegate, tree, [], 'Initialize identity\n');
    const ns = `refs/namespaces/${delegate.nid}/refs`;
    await this.#git(repo, ['update-ref', `${ns}/cobs/xyz.radicle.id/${repo.identity}`, repo.identity]);
    await this.#git(repo, ['symbolic-ref', `${ns}/rad/id`, `${ns}/cobs/xyz.radicle.id/${repo.identity}`]);
    await this.#git(repo, ['update-ref', `${ns}/rad/root`, repo.identity]);
    await this.#git(repo, ['update-ref', 'refs/rad/id', repo.identity]);
    return repo;
  }

  /** A commit (no ref) whose tree is exactly `files` (`*.sh` files are executable). */
  async commit(repo: Repo, files: Record<string, string>, opts: { parent: string | null; message: string; author: Person }): Promise<string> {
    const index = join(repo.gitDir, `demo-index-${randomBytes(4).toString('hex')}`);
    const lines = await Promise.all(Object.entries(files).map(async ([path, content]) => `${path.endsWith('.sh') ? '100755' : '100644'} ${await this.#blob(repo, content)}\t${path}\n`));
    try {
      await this.#git(repo, ['update-index', '--add', '--index-info'], { input: lines.join(''), env: { GIT_INDEX_FILE: index } });
      const tree = await this.#git(repo, ['write-tree'], { env: { GIT_INDEX_FILE: index } });
      return await this.#git(repo, ['commit-tree', tree, ...(opts.parent ? ['-p', opts.parent] : []), '-m', opts.message], { env: who(opts.author) });
    } finally {
      await rm(index, { force: true });
    }
  }

  /** `author` pushes `oid` to `branch`: their namespace's branch, the canonical branch, signed refs. Returns the previous tip. */
  async push(repo: Repo, author: Person, branch: string, oid: string): Promise<string | null> {
    const ref = `refs/namespaces/${author.nid}/refs/heads/${branch}`;
    const old = await this.#git(repo, ['rev-parse', '-q', '--verify', ref], { reject: false });
    await this.#git(repo, ['update-ref', ref, oid]);
    await this.#git(repo, ['update-ref', `refs/heads/${branch}`, oid]);
    await this.#git(repo, ['symbolic-ref', 'HEAD', `refs/heads/${branch}`]);
    await this.#signRefs(repo, author);
    return old === '' ? null : old;
  }

  /** `author` opens a patch from `base` to `head`: a signed patch COB, its refs and its cache row. Returns the patch id. */
  async openPatch(repo: Repo, author: Person, p: { title: string; description: string; base: string; head: string }): Promise<string> {
    const actions = [
      { base: p.base, description: p.description, oid: p.head, type: 'revision' },
      { target: 'delegates', title: p.title, type: 'edit' },
    ];
    const entries = [`100644 blob ${await this.#blob(repo, `{"typeName":"${PATCH}","version":1}`)}\tmanifest\n`];
    for (const [i, a] of actions.entries()) entries.push(`100644 blob ${await this.#blob(repo, canonical(a))}\t${i}\n`);
    const tree = await this.#git(repo, ['mktree'], { input: entries.join('') });
    const related = [p.base, p.head].sort();
    const trailers = [...related.map((r) => `Rad-Related: ${r}`), `Rad-Resource: ${repo.identity}`].join('\n');
    const id = await this.#change(repo, author, tree, [...related, repo.identity], `Create patch\n\n${trailers}\n`);
    await this.#git(repo, ['update-ref', `refs/namespaces/${author.nid}/refs/cobs/${PATCH}/${id}`, id]);
    await this.#git(repo, ['update-ref', `refs/namespaces/${author.nid}/refs/heads/patches/${id}`, p.head]);
    await this.#signRefs(repo, author);
    const now = Date.now();
    const cache = new DatabaseSync(join(this.radHome, 'cobs', 'cache.db'));
    try {
      cache.exec('CREATE TABLE IF NOT EXISTS patches (id TEXT PRIMARY KEY NOT NULL, repo TEXT NOT NULL, patch TEXT NOT NULL) STRICT');
      const revision = { id, author: { id: author.did }, description: [{ author: author.nid, timestamp: now, body: p.description, embeds: [] }], base: p.base, oid: p.head, discussion: { comments: {}, timeline: [] }, reviews: {}, timestamp: now, resolves: [], reactions: [] };
      const json = { title: p.title, author: { id: author.did }, state: { status: 'open' }, target: 'delegates', labels: [], merges: {}, revisions: { [id]: revision }, assignees: [], timeline: [id], reviews: {} };
      cache.prepare('INSERT OR REPLACE INTO patches (id, repo, patch) VALUES (?, ?, ?)').run(id, repo.rid, JSON.stringify(json));
    } finally {
      cache.close();
    }
    return id;
  }

  /** A new `rad/sigrefs` commit signing the namespace's refs, its parent the previous one. */
  async #signRefs(repo: Repo, p: Person): Promise<void> {
    const prefix = `refs/namespaces/${p.nid}/`;
    const out = await this.#git(repo, ['for-each-ref', '--format=%(objectname) %(refname)', prefix]);
    const refs = out.split('\n').filter((l) => l !== '').map((l) => {
      const [oid = '', ref = ''] = l.split(' ');
      return { oid, ref: ref.slice(prefix.length) };
    }).filter((e) => /^refs\/(heads|tags|notes|rad|cobs)\//.test(e.ref) && e.ref !== 'refs/rad/sigrefs')
      .sort((a, b) => Buffer.compare(Buffer.from(a.ref), Buffer.from(b.ref)));
    const text = refs.map((e) => `${e.oid} ${e.ref}\n`).join('');
    const tree = await this.#git(repo, ['mktree'], {
      input: `100644 blob ${await this.#blob(repo, text)}\trefs\n100644 blob ${await this.#blob(repo, sign(null, Buffer.from(text), p.key))}\tsignature\n`,
    });
    const prev = await this.#git(repo, ['rev-parse', '-q', '--verify', `${prefix}refs/rad/sigrefs`], { reject: false });
    const commit = await this.#git(repo, ['commit-tree', tree, ...(prev === '' ? [] : ['-p', prev]), '-m', 'Update signed refs'], { env: who(p) });
    await this.#git(repo, ['update-ref', `${prefix}refs/rad/sigrefs`, commit]);
  }

  /** A COB change commit signed by `p`. */
  async #change(repo: Repo, p: Person, tree: string, parents: string[], message: string): Promise<string> {
    const stamp = `${p.alias} <${p.alias}@${p.nid}> ${Math.floor(Date.now() / 1000)} +0000`;
    const header = [`tree ${tree}`, ...parents.map((x) => `parent ${x}`), `author ${stamp}`, `committer ${stamp}`, `gpgsig ${changeSignature(p, tree)}`];
    return this.#git(repo, ['hash-object', '-t', 'commit', '-w', '--stdin'], { input: `${header.join('\n')}\n\n${message}` });
  }

  #blob(repo: Repo, content: string | Buffer): Promise<string> {
    return this.#git(repo, ['hash-object', '-w', '--stdin'], { input: content });
  }

  async #git(repo: Repo | null, args: string[], opts: { input?: string | Buffer; env?: Record<string, string>; reject?: boolean } = {}): Promise<string> {
    const r = await execa('git', repo === null ? args : ['--git-dir', repo.gitDir, ...args], {
      env: { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', ...opts.env },
      reject: opts.reject ?? true,
      ...(opts.input === undefined ? {} : { input: opts.input }),
    });
    return String(r.stdout).trim();
  }
}

function who(p: Person): Record<string, string> {
  const date = `${Math.floor(Date.now() / 1000)} +0000`;
  return { GIT_AUTHOR_NAME: p.alias, GIT_AUTHOR_EMAIL: `${p.alias}@${p.nid}`, GIT_AUTHOR_DATE: date, GIT_COMMITTER_NAME: p.alias, GIT_COMMITTER_EMAIL: `${p.alias}@${p.nid}`, GIT_COMMITTER_DATE: date };
}
