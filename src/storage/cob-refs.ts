/**
 * The tips of one COB in every namespace (`refs/namespaces/<nid>/refs/cobs/<type>/<id>`), read from
 * the ref files themselves instead of forking `git for-each-ref` for every patch event: loose ref
 * files first, then `packed-refs` (a loose ref wins). That order is safe against a concurrent
 * `git pack-refs`, which writes packed-refs before it deletes the loose files. The COB entries of
 * packed-refs are parsed once per version of the file (same inode, size and mtime).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

const OID = /^[0-9a-f]{40}$/;
const SAFE = /^[A-Za-z0-9._-]+$/;

type Packed = { version: string; cobs: Map<string, Map<string, string>> };

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

export class CobRefReader {
  /** Per git dir and COB type: the last parsed packed-refs. */
  readonly #packed = new Map<string, Packed>();

  /** namespace (NID) → tip oid of COB `<type>/<id>`; empty when no namespace has it. */
  async tips(gitDir: string, type: string, id: string): Promise<Map<string, string>> {
    if (!SAFE.test(type) || !SAFE.test(id)) throw new Error(`invalid COB ${JSON.stringify(`${type}/${id}`)}`);
    const out = new Map<string, string>();
    let namespaces: string[] = [];
    try {
      namespaces = (await readdir(join(gitDir, 'refs', 'namespaces'), { withFileTypes: true }))
        .filter((d) => d.isDirectory() && SAFE.test(d.name))
        .map((d) => d.name);
    } catch (e) {
      if (errno(e) !== 'ENOENT') throw e;
    }
    await Promise.all(
      namespaces.map(async (ns) => {
        try {
          const text = (await readFile(join(gitDir, 'refs', 'namespaces', ns, 'refs', 'cobs', type, id), 'utf8')).trim();
          if (OID.test(text)) out.set(ns, text);
        } catch (e) {
          const code = errno(e);
          if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EISDIR') throw e;
        }
      }),
    );
    for (const [ns, oid] of (await this.#packedCobs(gitDir, type)).get(id) ?? []) {
      if (!out.has(ns)) out.set(ns, oid);
    }
    return out;
  }

  async #packedCobs(gitDir: string, type: string): Promise<Map<string, Map<string, string>>> {
    const file = join(gitDir, 'packed-refs');
    let version: string;
    try {
      const st = await stat(file);
      version = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    } catch (e) {
      if (errno(e) === 'ENOENT') return new Map();
      throw e;
    }
    const key = `${gitDir}\0${type}`;
    const cached = this.#packed.get(key);
    if (cached?.version === version) return cached.cobs;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if (errno(e) === 'ENOENT') return new Map();
      throw e;
    }
    const cobs = new Map<string, Map<string, string>>();
    const marker = `/refs/cobs/${type}/`;
    for (const line of text.split('\n')) {
      if (line.startsWith('#') || line.startsWith('^') || !line.includes(marker)) continue;
      const sp = line.indexOf(' ');
      const oid = line.slice(0, sp);
      const m = /^refs\/namespaces\/([^/]+)\/refs\/cobs\/[^/]+\/([^/]+)$/.exec(line.slice(sp + 1));
      if (!OID.test(oid) || !m?.[1] || !m[2] || !line.slice(sp + 1).includes(marker)) continue;
      let byNs = cobs.get(m[2]);
      if (byNs === undefined) cobs.set(m[2], (byNs = new Map()));
      byNs.set(m[1], oid);
    }
    this.#packed.set(key, { version, cobs });
    return cobs;
  }
}
