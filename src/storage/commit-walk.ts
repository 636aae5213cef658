/**
 * `git rev-list <tip> ^<old>` done with object reads: a walk in committer-date order (newest
 * first) that marks everything reachable from `old` uninteresting, the way git's revision walk
 * does, and stops once only uninteresting commits are left in the queue.
 */
import type { Commit } from './git-object.ts';

export type ReadCommit = (oid: string) => Promise<Commit | null>;

type Entry = { oid: string; time: number; seq: number };

/** Newest first: higher committer time first, then insertion order (like git's prio-queue). */
function before(a: Entry, b: Entry): boolean {
  return a.time !== b.time ? a.time > b.time : a.seq < b.seq;
}

class Queue {
  readonly items: Entry[] = [];
  push(e: Entry): void {
    const a = this.items;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i] as Entry, a[p] as Entry)) break;
      [a[i], a[p]] = [a[p] as Entry, a[i] as Entry];
      i = p;
    }
  }
  pop(): Entry | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l] as Entry, a[m] as Entry)) m = l;
        if (r < a.length && before(a[r] as Entry, a[m] as Entry)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m] as Entry, a[i] as Entry];
        i = m;
      }
    }
    return top;
  }
}

/**
 * Commits reachable from `tip` but not from `old`, newest first, at most `limit`.
 * `old` null, or nothing new (old is ahead of or equal to tip) => `[tip]`.
 */
export async function commitsBetween(
  readCommit: ReadCommit,
  tip: string,
  old: string | null,
  limit = 1000,
): Promise<string[]> {
  if (old === null || limit < 1) return [tip];
  const flags = new Map<string, 'interesting' | 'uninteresting'>();
  const commits = new Map<string, Commit>();
  const queue = new Queue();
  let seq = 0;

  const mark = async (oids: string[], flag: 'interesting' | 'uninteresting'): Promise<void> => {
    const fresh: string[] = [];
    for (const oid of oids) {
      const had = flags.get(oid);
      if (had === undefined) {
        flags.set(oid, flag);
        fresh.push(oid);
      } else if (had === 'interesting' && flag === 'uninteresting') {
        // Reached from `old` after being reached from `tip`: re-queue so its parents follow.
        flags.set(oid, flag);
        const c = commits.get(oid);
        if (c !== undefined) queue.push({ oid, time: c.committerTime, seq: seq++ });
      }
    }
    const loaded = await Promise.all(fresh.map((oid) => readCommit(oid)));
    fresh.forEach((oid, i) => {
      const c = loaded[i];
      if (c === null || c === undefined) return;
      commits.set(oid, c);
      queue.push({ oid, time: c.committerTime, seq: seq++ });
    });
  };

  await mark([tip], 'interesting');
  await mark([old], 'uninteresting');
  const result: string[] = [];
  const emitted = new Set<string>();
  while (queue.items.length > 0 && emitted.size < limit) {
    if (queue.items.every((e) => flags.get(e.oid) === 'uninteresting')) break;
    const e = queue.pop() as Entry;
    const c = commits.get(e.oid) as Commit;
    if (flags.get(e.oid) === 'uninteresting') {
      await mark(c.parents, 'uninteresting');
    } else if (!emitted.has(e.oid)) {
      emitted.add(e.oid);
      result.push(e.oid);
      await mark(c.parents, 'interesting');
    }
  }
  const out = result.filter((oid) => flags.get(oid) !== 'uninteresting').slice(0, limit);
  return out.length > 0 ? out : [tip];
}
