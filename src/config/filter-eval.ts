/**
 * Evaluating filters on CI events. The result is a decision tree, so `cibq event filter` and the
 * producer's log can explain why an event did or did not start a run.
 */
import type { CiEvent } from '../model/ci-event.ts';
import { isBranchEvent, isDeletion, isPatchEvent, isTagEvent } from '../model/ci-event.ts';
import type { Filter } from './filter.ts';
import { filterText } from './filter.ts';

export type FilterContext = Readonly<{
  /** The repository's default branch name, e.g. `main`. */
  defaultBranch: string;
  /** The repository's delegates, as bare NIDs (z6Mk…). */
  delegates: readonly string[];
  /** Whether the repository at the event's commit contains a file (blob) at `path`. */
  hasFile(path: string): Promise<boolean>;
}>;

export type Decision = {
  allowed: boolean;
  /** The filter node in YAML tag syntax, e.g. `!Branch "main"` or `!And`. */
  filter: string;
  /** Sub-decisions of !And / !Or / !Not / filter lists, in evaluation order (short-circuited ones omitted). */
  children?: Decision[];
};

/** OR of a filter list (a `filters:` key): the first allowing filter wins; an empty list allows nothing. */
export async function evaluateFilters(fs: readonly Filter[], e: CiEvent, ctx: FilterContext): Promise<Decision> {
  const children: Decision[] = [];
  for (const f of fs) {
    const d = await evaluateFilter(f, e, ctx);
    children.push(d);
    if (d.allowed) break;
  }
  return { allowed: children.some((d) => d.allowed), filter: `filters (any of ${fs.length})`, children };
}

export async function evaluateFilter(f: Filter, e: CiEvent, ctx: FilterContext): Promise<Decision> {
  switch (f.kind) {
    case 'Not': {
      const inner = await evaluateFilter(f.filter, e, ctx);
      return { allowed: !inner.allowed, filter: '!Not', children: [inner] };
    }
    case 'And':
    case 'Or': {
      // !And stops at the first deny, !Or at the first allow: later filters (e.g. !HasFile) are not run.
      const stopAt = f.kind === 'Or';
      const children: Decision[] = [];
      for (const child of f.filters) {
        const d = await evaluateFilter(child, e, ctx);
        children.push(d);
        if (d.allowed === stopAt) break;
      }
      const allowed = f.kind === 'And' ? children.every((d) => d.allowed) : children.some((d) => d.allowed);
      return { allowed, filter: `!${f.kind}`, children };
    }
    default:
      return { allowed: await leaf(f, e, ctx), filter: filterText(f) };
  }
}

async function leaf(f: Filter, e: CiEvent, ctx: FilterContext): Promise<boolean> {
  switch (f.kind) {
    case 'Allow':
      return true;
    case 'Deny':
      return false;
    case 'Repository':
      return e.repo === f.rid;
    case 'Branch':
      return isBranchEvent(e) && refGlob(f.name).test(e.name);
    case 'Tag':
      return isTagEvent(e) && refGlob(f.name).test(e.name);
    case 'BranchCreated':
    case 'BranchUpdated':
    case 'BranchDeleted':
    case 'TagCreated':
    case 'TagUpdated':
    case 'TagDeleted':
    case 'PatchCreated':
    case 'PatchUpdated':
      return e.kind === f.kind;
    case 'AnyPatch':
    case 'AnyPatchRef':
      return isPatchEvent(e);
    case 'AnyPushRef':
      return isBranchEvent(e);
    case 'Patch':
      return isPatchEvent(e) && e.patch === f.patch;
    case 'Node':
      return (e.author ?? e.fromNode) === f.nid;
    case 'DefaultBranch':
      // Anyone can push a branch named like the default one into their own namespace: only the
      // canonical ref or a delegate's copy is "the default branch".
      return (
        (e.kind === 'BranchCreated' || e.kind === 'BranchUpdated') &&
        e.name === ctx.defaultBranch &&
        (e.canonical || (e.author !== null && ctx.delegates.includes(e.author)))
      );
    case 'AnyDelegate':
      return e.canonical || (e.author !== null && ctx.delegates.includes(e.author));
    case 'HasFile':
      return isDeletion(e) ? false : await ctx.hasFile(f.path);
    case 'Not':
    case 'And':
    case 'Or':
      throw new Error(`internal error: ${f.kind} is not a leaf filter`);
  }
}

const globCache = new Map<string, RegExp>();

/**
 * A branch/tag pattern: `*` matches within one path segment, `**` across segments (`**\/` also
 * matches no segment at all). Git ref names cannot contain `*`, so a name without it matches exactly.
 */
export function refGlob(pattern: string): RegExp {
  let re = globCache.get(pattern);
  if (re === undefined) {
    let src = '';
    for (let i = 0; i < pattern.length; ) {
      if (pattern.startsWith('**/', i)) {
        src += '(?:.*/)?';
        i += 3;
      } else if (pattern.startsWith('**', i)) {
        src += '.*';
        i += 2;
      } else if (pattern[i] === '*') {
        src += '[^/]*';
        i += 1;
      } else {
        src += (pattern[i] ?? '').replace(/[.+?^${}()|[\]\\/-]/g, '\\$&');
        i += 1;
      }
    }
    re = new RegExp(`^${src}$`, 's');
    globCache.set(pattern, re);
  }
  return re;
}
