/**
 * SSHSIG containers (OpenSSH PROTOCOL.sshsig), armored as `-----BEGIN SSH SIGNATURE-----` with the
 * base64 wrapped at exactly 70 columns: Radicle's reader (the ssh-key crate) reads the armor with a
 * fixed 70-column reader, so any other width makes a COB change unloadable (reference trust.md §1.5a).
 *
 * Two kinds:
 * - `radicleChangeSignature`: what Radicle puts in a COB change's `gpgsig` header. Namespace
 *   `radicle`, hash `sha256`, but the inner Ed25519 signature covers the raw bytes given (the 20 bytes
 *   of the tree OID), not SSHSIG's signed data, so `ssh-keygen -Y verify` rejects it by design.
 * - `sshsigSign`: a standard detached signature, verifiable with `ssh-keygen -Y verify` (trust.md §2.4).
 */
import { createHash } from 'node:crypto';
import type { Signer } from './node-signer.ts';
import { ed25519KeyBlob, ed25519SignatureBlob, sshString, u32 } from './ssh-wire.ts';

const PREAMBLE = Buffer.from('SSHSIG', 'latin1');

export function armorSshSig(blob: Buffer): string {
  const lines = blob.toString('base64').match(/.{1,70}/g) ?? [];
  return ['-----BEGIN SSH SIGNATURE-----', ...lines, '-----END SSH SIGNATURE-----'].join('\n') + '\n';
}

function container(publicKey: Buffer, namespace: string, hash: string, sig64: Buffer): Buffer {
  return Buffer.concat([
    PREAMBLE,
    u32(1),
    sshString(ed25519KeyBlob(publicKey)),
    sshString(namespace),
    sshString(''),
    sshString(hash),
    sshString(ed25519SignatureBlob(sig64)),
  ]);
}

/** The armored `gpgsig` value of a Radicle COB change whose tree is `treeOid` (hex). */
export async function radicleChangeSignature(signer: Signer, treeOid: string): Promise<string> {
  if (!/^[0-9a-f]{40}$/.test(treeOid)) throw new Error(`not a tree oid: ${JSON.stringify(treeOid)}`);
  const sig = await signer.sign(Buffer.from(treeOid, 'hex'));
  return armorSshSig(container(signer.publicKey, 'radicle', 'sha256', sig));
}

/** A standard armored SSHSIG of `message` in `namespace` (hash sha512, as ssh-keygen -Y sign). */
export async function sshsigSign(signer: Signer, namespace: string, message: Buffer): Promise<string> {
  if (namespace === '') throw new Error('an SSHSIG namespace must not be empty');
  const digest = createHash('sha512').update(message).digest();
  const signedData = Buffer.concat([PREAMBLE, sshString(namespace), sshString(''), sshString('sha512'), sshString(digest)]);
  const sig = await signer.sign(signedData);
  return armorSshSig(container(signer.publicKey, namespace, 'sha512', sig));
}

/** An `allowed_signers` line for `ssh-keygen -Y verify` naming the key by its DID. */
export function allowedSignersLine(did: string, publicKey: Buffer): string {
  return `${did} ssh-ed25519 ${ed25519KeyBlob(publicKey).toString('base64')}\n`;
}
