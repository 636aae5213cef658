/**
 * A raw git commit object split into the parts heartwood's COB loader uses
 * (`radicle-cob` `backend/git/commit.rs` `Commit::from_str`): header fields, the `gpgsig` signature
 * headers, the message and its trailers (`Rad-Related`, `Rad-Resource`).
 *
 * The layout heartwood writes (`radicle-git-metadata` `CommitData` Display, trust.md §1.5 step 7):
 * `tree`, `parent`…, `author`, `committer`, `gpgsig <PEM, "\n" → "\n ">`, blank line, the message,
 * blank line, one `Token: value` trailer per line.
 */

export interface Person {
  readonly name: string;
  readonly email: string;
  /** Seconds since the epoch. */
  readonly time: number;
  readonly offset: string;
}

export interface Trailer {
  readonly token: string;
  readonly value: string;
}

export interface CommitObject {
  readonly tree: string;
  readonly parents: readonly string[];
  readonly author: Person | null;
  readonly committer: Person | null;
  /** Every header in stored order, multi-line values joined with "\n" (continuation space removed). */
  readonly headers: readonly { readonly name: string; readonly value: string }[];
  /** Values of the `gpgsig` headers (the PEM text of each signature). */
  readonly signatures: readonly string[];
  /** The message without the trailer paragraph. */
  readonly message: string;
  readonly trailers: readonly Trailer[];
  /** The full text after the header block. */
  readonly body: string;
}

const PERSON_RE = /^(.*) <([^<>]*)> (\d+) ([+-]\d{4})$/;
const TRAILER_RE = /^([A-Za-z0-9][A-Za-z0-9-]*): (.*)$/;

function parsePerson(value: string | undefined): Person | null {
  const m = value === undefined ? null : PERSON_RE.exec(value);
  if (m === null) return null;
  return { name: m[1] ?? '', email: m[2] ?? '', time: Number(m[3]), offset: m[4] ?? '' };
}

/** Splits the final paragraph off as trailers when every one of its lines is a `Token: value` line. */
export function parseTrailers(body: string): { message: string; trailers: Trailer[] } {
  const trimmed = body.replace(/\n+$/, '');
  const cut = trimmed.lastIndexOf('\n\n');
  if (cut < 0) return { message: body, trailers: [] };
  const lines = trimmed.slice(cut + 2).split('\n');
  const matches = lines.map((l) => TRAILER_RE.exec(l));
  if (matches.some((m) => m === null)) return { message: body, trailers: [] };
  return {
    message: trimmed.slice(0, cut + 1),
    trailers: matches.map((m) => ({ token: m?.[1] ?? '', value: m?.[2] ?? '' })),
  };
}

/** Parses a commit object's bytes; `null` if it is not UTF-8 or has no header/body separator. */
export function parseCommitObject(raw: Buffer): CommitObject | null {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    return null;
  }
  const sep = text.indexOf('\n\n');
  if (sep < 0) return null;
  const headers: { name: string; value: string }[] = [];
  for (const line of text.slice(0, sep).split('\n')) {
    const last = headers[headers.length - 1];
    if (line.startsWith(' ') && last !== undefined) {
      last.value += '\n' + line.slice(1);
    } else {
      const sp = line.indexOf(' ');
      headers.push(sp < 0 ? { name: line, value: '' } : { name: line.slice(0, sp), value: line.slice(sp + 1) });
    }
  }
  const body = text.slice(sep + 2);
  const { message, trailers } = parseTrailers(body);
  const first = (name: string) => headers.find((h) => h.name === name)?.value;
  return {
    tree: first('tree') ?? '',
    parents: headers.filter((h) => h.name === 'parent').map((h) => h.value),
    author: parsePerson(first('author')),
    committer: parsePerson(first('committer')),
    headers,
    signatures: headers.filter((h) => h.name === 'gpgsig').map((h) => h.value),
    message,
    trailers,
    body,
  };
}
