/**
 * Radicle's canonical JSON, re-implemented from heartwood's `CanonicalFormatter`
 * (`crates/radicle/src/canonical/formatter.rs`, based on olpc-cjson) so that the reader can check action
 * blobs byte for byte: parse, re-serialize canonically, compare.
 *
 * Rules: no whitespace; object members sorted by the bytes of their *serialized* key (so `"a!"` sorts
 * before `"a"`, because `!` < `"`); strings NFC-normalized and escaped like serde_json (`\"`, `\\`,
 * `\b \t \n \f \r`, other controls as lower-case `\u00xx`, everything else raw UTF-8); integers only.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export class CanonicalJsonError extends Error {
  override readonly name = 'CanonicalJsonError';
}

/** Canonical serialization of an already-parsed JSON value. Throws on floats and ill-formed strings. */
export function canonicalJson(value: Json): string {
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new CanonicalJsonError(`not an integer: ${value}`);
    return JSON.stringify(value);
  }
  if (typeof value === 'string') return canonicalString(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const members = Object.entries(value).map(([k, v]) => ({ key: Buffer.from(canonicalString(k)), value: canonicalJson(v) }));
  members.sort((a, b) => Buffer.compare(a.key, b.key));
  return `{${members.map((m) => `${m.key.toString('utf8')}:${m.value}`).join(',')}}`;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function canonicalString(s: string): string {
  if (LONE_SURROGATE.test(s)) throw new CanonicalJsonError('string with a lone surrogate');
  // JSON.stringify escapes exactly what serde_json escapes, with lower-case hex, for well-formed strings.
  return JSON.stringify(s.normalize('NFC'));
}

export type CanonicalCheck =
  | { readonly ok: true; readonly value: Json }
  | { readonly ok: false; readonly value: Json; readonly canonical: string; readonly reason: string }
  | { readonly ok: false; readonly value: undefined; readonly reason: string };

/**
 * Parses `bytes` as UTF-8 JSON and reports whether they are exactly the canonical encoding.
 * `value` is set whenever the bytes are valid JSON (serde_json would still read non-canonical JSON).
 */
export function checkCanonical(bytes: Uint8Array): CanonicalCheck {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, value: undefined, reason: 'not valid UTF-8' };
  }
  let value: Json;
  try {
    value = JSON.parse(text) as Json;
  } catch (e) {
    return { ok: false, value: undefined, reason: `not JSON: ${(e as Error).message}` };
  }
  let canonical: string;
  try {
    canonical = canonicalJson(value);
  } catch (e) {
    return { ok: false, value, canonical: '', reason: (e as Error).message };
  }
  if (Buffer.from(canonical).equals(Buffer.from(bytes))) return { ok: true, value };
  return { ok: false, value, canonical, reason: `bytes differ from the canonical form ${canonical}` };
}
