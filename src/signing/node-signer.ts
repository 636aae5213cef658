/**
 * The node's signer, found the way `rad` finds it: the key `$RAD_HOME/keys/radicle` is used through
 * ssh-agent when SSH_AUTH_SOCK holds it, else it is opened in memory, with RAD_PASSPHRASE when it is
 * encrypted. Every signature is plain Ed25519 over raw bytes, which is what Radicle signs (COB tree
 * OIDs, sigrefs). A missing or unopenable key is a NodeKeyError naming the file and the cause, never
 * the passphrase or key bytes.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nidFromPublicKey } from '../model/node-id.ts';
import { agentIdentities, agentSign } from './ssh-agent.ts';
import { KeyFileError, parseOpenSshKey, type KeyProblem } from './openssh-key.ts';
import { WireReader, ed25519KeyBlob } from './ssh-wire.ts';

export type Signer = {
  /** The node id (z6Mk…) of the key. */
  readonly nid: string;
  readonly publicKey: Buffer;
  /** How it signs, for the start-up log line. */
  readonly via: 'key-file' | 'ssh-agent';
  /** A raw 64-byte Ed25519 signature of `data`. */
  sign: (data: Buffer) => Promise<Buffer>;
};

export class NodeKeyError extends Error {
  override readonly name = 'NodeKeyError';
  readonly problem: KeyProblem | 'missing';
  readonly path: string;
  constructor(path: string, problem: KeyProblem | 'missing', message: string) {
    super(message);
    this.path = path;
    this.problem = problem;
  }
}

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

export function publicKeyObject(pub32: Buffer): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: pub32.toString('base64url') }, format: 'jwk' });
}

/** A signer over an in-memory seed (tests and the key-file path). */
export function seedSigner(seed: Buffer): Signer {
  const priv = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = Buffer.from(createPublicKey(priv).export({ format: 'jwk' }).x ?? '', 'base64url');
  return {
    nid: nidFromPublicKey(publicKey),
    publicKey,
    via: 'key-file',
    sign: async (data) => sign(null, data, priv),
  };
}

export function verifyEd25519(pub32: Buffer, data: Buffer, sig: Buffer): boolean {
  return sig.length === 64 && verify(null, data, publicKeyObject(pub32), sig);
}

export type NodeSignerOptions = {
  radHome: string;
  /** RAD_PASSPHRASE, if set. */
  passphrase: string | null;
  /** SSH_AUTH_SOCK, if set. */
  agentSocket: string | null;
};

async function agentSigner(socket: string, publicKey: Buffer): Promise<Signer | null> {
  const blob = ed25519KeyBlob(publicKey);
  let ids;
  try {
    ids = await agentIdentities(socket);
  } catch {
    return null;
  }
  if (!ids.some((id) => id.keyBlob.equals(blob))) return null;
  return {
    nid: nidFromPublicKey(publicKey),
    publicKey,
    via: 'ssh-agent',
    sign: async (data) => {
      const r = new WireReader(await agentSign(socket, blob, data), 'ssh-agent signature');
      if (r.text() !== 'ssh-ed25519') throw new Error('ssh-agent returned a signature that is not ssh-ed25519');
      const sig = Buffer.from(r.string());
      if (!verifyEd25519(publicKey, data, sig)) throw new Error('ssh-agent returned an invalid signature');
      return sig;
    },
  };
}

/** The node's signer; throws NodeKeyError when the key is missing or cannot be opened. */
export async function loadNodeSigner(opts: NodeSignerOptions): Promise<Signer> {
  const path = join(opts.radHome, 'keys', 'radicle');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new NodeKeyError(path, 'missing', `cannot read the node key ${path} (${code})`);
  }
  let key;
  try {
    key = parseOpenSshKey(text);
  } catch (e) {
    if (e instanceof KeyFileError) throw new NodeKeyError(path, e.problem, `the node key ${path} cannot be used: ${e.message}`);
    throw e;
  }
  if (opts.agentSocket !== null && opts.agentSocket !== '') {
    const viaAgent = await agentSigner(opts.agentSocket, key.publicKey);
    if (viaAgent !== null) return viaAgent;
  }
  try {
    return seedSigner(key.decrypt(opts.passphrase));
  } catch (e) {
    if (!(e instanceof KeyFileError)) throw e;
    const hint =
      e.problem === 'needs-passphrase'
        ? 'it is encrypted: set RAD_PASSPHRASE, or add it to the ssh-agent in SSH_AUTH_SOCK (rad auth)'
        : e.problem === 'wrong-passphrase'
          ? 'RAD_PASSPHRASE is wrong for it'
          : e.message;
    throw new NodeKeyError(path, e.problem, `cannot open the node key ${path}: ${hint}`);
  }
}

/**
 * The node's public key from its key file, without the passphrase (the reporter tells its own runs
 * from other nodes' by it), or null when the key is missing or unreadable.
 */
export async function readNodePublicKey(radHome: string): Promise<Buffer | null> {
  try {
    return parseOpenSshKey(await readFile(join(radHome, 'keys', 'radicle'), 'utf8')).publicKey;
  } catch {
    return null;
  }
}
