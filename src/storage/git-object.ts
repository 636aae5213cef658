/**
 * Parsers for raw git objects as returned by `git cat-file --batch`: commits, trees and tags.
 */

export type Commit = {
  tree: string;
  parents: string[];
  /** Author e-mail (between < and >). */
  authorEmail: string;
  /** Committer time, seconds since the epoch. */
  committerTime: number;
  /** Multi-line header values joined with "\n" (continuation spaces removed), e.g. `gpgsig`. */
  headers: Map<string, string>;
  message: string;
};

export type TreeEntry = { mode: string; name: string; oid: string };

export function parseCommit(content: Buffer): Commit {
  const text = content.toString('utf8');
  const split = text.indexOf('\n\n');
  const head = split < 0 ? text : text.slice(0, split);
  const message = split < 0 ? '' : text.slice(split + 2);
  const headers = new Map<string, string>();
  const parents: string[] = [];
  let last: string | null = null;
  for (const line of head.split('\n')) {
    if (line.startsWith(' ') && last !== null) {
      headers.set(last, `${headers.get(last) ?? ''}\n${line.slice(1)}`);
      continue;
    }
    const sp = line.indexOf(' ');
    const key = sp < 0 ? line : line.slice(0, sp);
    const value = sp < 0 ? '' : line.slice(sp + 1);
    if (key === 'parent') parents.push(value);
    else headers.set(key, value);
    last = key;
  }
  const tree = headers.get('tree');
  if (tree === undefined) throw new Error('commit has no tree header');
  const committer = headers.get('committer') ?? '';
  const time = /> (\d+) [+-]\d{4}$/.exec(committer);
  const email = /<([^>]*)>/.exec(headers.get('author') ?? '');
  return {
    tree,
    parents,
    authorEmail: email?.[1] ?? '',
    committerTime: time ? Number(time[1]) : 0,
    headers,
    message,
  };
}

/** Values of `Key: value` trailers in the last paragraph of a commit message. */
export function trailerValues(message: string, key: string): string[] {
  const paragraphs = message.trimEnd().split(/\n\s*\n/);
  const lastParagraph = paragraphs[paragraphs.length - 1] ?? '';
  const prefix = `${key.toLowerCase()}:`;
  const out: string[] = [];
  for (const line of lastParagraph.split('\n')) {
    if (line.toLowerCase().startsWith(prefix)) out.push(line.slice(prefix.length).trim());
  }
  return out;
}

export function parseTree(content: Buffer): TreeEntry[] {
  const entries: TreeEntry[] = [];
  let i = 0;
  while (i < content.length) {
    const sp = content.indexOf(0x20, i);
    const nul = content.indexOf(0, sp + 1);
    if (sp < 0 || nul < 0 || nul + 21 > content.length) throw new Error('malformed tree object');
    entries.push({
      mode: content.subarray(i, sp).toString('latin1'),
      name: content.subarray(sp + 1, nul).toString('utf8'),
      oid: content.subarray(nul + 1, nul + 21).toString('hex'),
    });
    i = nul + 21;
  }
  return entries;
}

/** The `object` an annotated tag points at. */
export function tagTarget(content: Buffer): string | null {
  const m = /^object ([0-9a-f]{40,64})$/m.exec(content.toString('utf8').split('\n\n')[0] ?? '');
  return m?.[1] ?? null;
}
