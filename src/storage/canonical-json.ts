/**
 * Radicle's canonical JSON (`crates/radicle/src/canonical/formatter.rs`, reference trust.md §1.1):
 * object keys sorted by their serialized bytes, no whitespace, strings in NFC with lower-case
 * `\u00xx` escapes for control characters. COB action blobs are written in it; the same value
 * always gives the same bytes, so the same action always gives the same blob OID.
 */

function sortKeyBytes(key: string): Buffer {
  return Buffer.from(JSON.stringify(key.normalize('NFC')), 'utf8');
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error(`canonical JSON holds only safe integers, not ${value}`);
    return String(value);
  }
  if (typeof value === 'string') return JSON.stringify(value.normalize('NFC'));
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => ({ key: sortKeyBytes(k), v }));
    entries.sort((a, b) => Buffer.compare(a.key, b.key));
    return `{${entries.map((e) => `${e.key.toString('utf8')}:${canonicalJson(e.v)}`).join(',')}}`;
  }
  throw new Error(`cannot encode ${typeof value} as canonical JSON`);
}
