/**
 * Node ids and did:key strings (reference radicle-node.md §5).
 * NID = "z" + base58btc(0xed 0x01 ++ ed25519 public key); DID = "did:key:" + NID.
 */
import { base58Decode, base58Encode } from './base58.ts';

const ED25519_MULTICODEC = Buffer.from([0xed, 0x01]);
const DID_PREFIX = 'did:key:';

export function nidFromPublicKey(pub32: Uint8Array): string {
  if (pub32.length !== 32) throw new Error(`ed25519 public key must be 32 bytes, got ${pub32.length}`);
  return 'z' + base58Encode(Buffer.concat([ED25519_MULTICODEC, pub32]));
}

/** The 32-byte ed25519 public key inside a NID; throws if `nid` is not one. */
export function publicKeyFromNid(nid: string): Buffer {
  if (!nid.startsWith('z')) throw new Error(`not a node id: ${JSON.stringify(nid)}`);
  const raw = base58Decode(nid.slice(1));
  if (raw.length !== 34 || raw[0] !== 0xed || raw[1] !== 0x01) {
    throw new Error(`not an ed25519 node id: ${JSON.stringify(nid)}`);
  }
  return raw.subarray(2);
}

export function isNid(s: unknown): s is string {
  if (typeof s !== 'string') return false;
  try {
    publicKeyFromNid(s);
    return true;
  } catch {
    return false;
  }
}

export function didFromNid(nid: string): string {
  if (!isNid(nid)) throw new Error(`not a node id: ${JSON.stringify(nid)}`);
  return DID_PREFIX + nid;
}

/** The bare NID of a `did:key:z6Mk…` DID; throws if it is not an ed25519 did:key. */
export function nidFromDid(did: string): string {
  if (!did.startsWith(DID_PREFIX)) throw new Error(`not a did:key: ${JSON.stringify(did)}`);
  const nid = did.slice(DID_PREFIX.length);
  if (!isNid(nid)) throw new Error(`not an ed25519 did:key: ${JSON.stringify(did)}`);
  return nid;
}
