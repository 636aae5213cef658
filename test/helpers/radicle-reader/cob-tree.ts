/**
 * The tree of a COB change: `manifest`, the action blobs `0`, `1`, … and the optional `embeds/` tree,
 * read as heartwood reads them (`backend/git/change.rs` `load_manifest`, `load_contents`) and checked
 * against what its `write_manifest` writes.
 *
 * heartwood: `manifest` must be a blob holding JSON `{typeName (alias typename), version?: positive int}`;
 * actions are the blob entries whose name parses as an `i8`, applied in numeric order, at least one.
 * Its writer: manifest bytes `{"typeName":"…","version":1}` (serde field order, not canonical), blobs named
 * exactly `0`…`n-1`, embeds as blobs in a tree named `embeds`, every blob with mode 100644, nothing else.
 */
import { readObject, readObjects, readTree } from './git.ts';
import { Violations, type Violation } from './violations.ts';

export interface Manifest {
  readonly typeName: string;
  readonly version: number;
}

export interface Embed {
  readonly name: string;
  readonly oid: string;
  readonly content: Buffer;
}

export interface CobTree {
  /** heartwood's manifest and contents loading succeeds. */
  readonly loadable: boolean;
  readonly manifest: Manifest | null;
  readonly actionBlobs: readonly Buffer[];
  readonly embeds: readonly Embed[];
  readonly violations: readonly Violation[];
}

/** Rust's `str::parse::<i8>()`: optional sign, decimal digits, in range. */
function parseI8(name: string): number | null {
  if (!/^[+-]?\d+$/.test(name)) return null;
  const n = Number(name);
  return n >= -128 && n <= 127 ? n : null;
}

function readManifest(bytes: Buffer, v: Violations): Manifest | null {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    v.reject('manifest-invalid', 'manifest is not JSON');
    return null;
  }
  const obj = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : null;
  const typeName = obj?.['typeName'] ?? obj?.['typename'];
  const version = obj?.['version'] ?? 1;
  if (typeof typeName !== 'string' || !Number.isSafeInteger(version) || (version as number) < 1) {
    v.reject('manifest-invalid', `manifest ${bytes.toString('utf8')} lacks typeName or a positive version`);
    return null;
  }
  return { typeName, version: version as number };
}

export function readCobTree(gitDir: string, treeOid: string, typeName: string): CobTree {
  const v = new Violations();
  const entries = readTree(gitDir, treeOid);
  if (entries === null) {
    v.reject('tree-missing', `tree ${treeOid} is not in storage`);
    return { loadable: false, manifest: null, actionBlobs: [], embeds: [], violations: v.list };
  }
  readObjects(gitDir, entries.map((e) => e.oid)); // one batch for every entry, then served from cache
  let loadable = true;
  const manifestEntry = entries.find((e) => e.name === 'manifest');
  let manifest: Manifest | null = null;
  const manifestBytes = manifestEntry?.type === 'blob' ? readObject(gitDir, 'blob', manifestEntry.oid) : null;
  if (manifestBytes === null) {
    v.reject('manifest-missing', 'no `manifest` blob in the change tree');
  } else {
    manifest = readManifest(manifestBytes, v);
    const expected = JSON.stringify({ typeName, version: 1 });
    if (manifest !== null && manifest.typeName !== typeName) {
      v.nonstandard('manifest-type', `manifest typeName ${manifest.typeName}, expected ${typeName}`);
    } else if (manifest !== null && manifest.version !== 1) {
      v.nonstandard('manifest-version', `manifest version ${manifest.version}; heartwood writes 1`);
    } else if (manifest !== null && manifestBytes.toString('utf8') !== expected) {
      v.nonstandard('manifest-bytes', `manifest ${manifestBytes.toString('utf8')}; heartwood writes ${expected}`);
    }
  }
  if (manifest === null) loadable = false;

  // Contents: later entries with the same i8 value win (BTreeMap collect), applied in numeric order.
  const byIndex = new Map<number, Buffer>();
  for (const e of entries) {
    const n = e.type === 'blob' ? parseI8(e.name) : null;
    const blob = n === null ? null : readObject(gitDir, 'blob', e.oid);
    if (n !== null && blob !== null) byIndex.set(n, blob);
  }
  const indices = [...byIndex.keys()].sort((a, b) => a - b);
  const actionBlobs = indices.map((i) => byIndex.get(i) as Buffer);
  if (actionBlobs.length === 0) {
    loadable = false;
    v.reject('no-actions', 'no action blob (`0`, `1`, …) in the change tree');
  }
  const expectedNames = new Set(['manifest', ...actionBlobs.map((_, i) => String(i))]);
  for (const e of entries) {
    if (e.name === 'embeds' && e.type === 'tree' && e.mode === '040000') continue;
    if (!expectedNames.has(e.name) || e.type !== 'blob' || e.mode !== '100644') {
      v.nonstandard('tree-entry', `unexpected tree entry ${e.mode} ${e.type} ${e.name}`);
    }
  }

  const embeds: Embed[] = [];
  const embedsEntry = entries.find((e) => e.name === 'embeds' && e.type === 'tree');
  const embedEntries = embedsEntry ? (readTree(gitDir, embedsEntry.oid) ?? []) : [];
  readObjects(gitDir, embedEntries.map((e) => e.oid));
  for (const e of embedEntries) {
    const content = e.type === 'blob' ? readObject(gitDir, 'blob', e.oid) : null;
    if (content === null || e.mode !== '100644') v.nonstandard('embed-entry', `embed ${e.name} is not a plain blob`);
    if (content !== null) embeds.push({ name: e.name, oid: e.oid, content });
  }
  return { loadable, manifest, actionBlobs, embeds, violations: v.list };
}
