/**
 * Standard detached SSHSIG signatures (OpenSSH PROTOCOL.sshsig, reference trust.md §2.4) by the
 * node key, verifiable with `ssh-keygen -Y verify` against an allowed_signers line derived from the
 * node's did:key; armored as `-----BEGIN SSH SIGNATURE-----` with the base64 at 70 columns, as
 * OpenSSH and the ssh-key crate write it. (A COB change's `gpgsig`, which is not a standard SSHSIG,
 * is made in src/storage/change-signature.ts.)
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
