/**
 * The filter language (reference cib.md §3): which CI events start a run. Written in YAML as tags
 * (`!Branch "main"`, `!And [ … ]`, `!Not !BranchDeleted`) or in cib's JSON form (`{"Branch":"main"}`,
 * `"DefaultBranch"`, `{"And":[…]}`). Evaluation lives in filter-eval.ts.
 */
import { CI_EVENT_KINDS, Nid, Oid, Rid } from '../model/ci-event.ts';
import type { ConfigIssue } from '../util/errors.ts';
import { isTagged } from './yaml-document.ts';

export const UNIT_FILTERS = [
  // one filter per CI event kind: !BranchCreated, !TagDeleted, !PatchUpdated, …
  ...CI_EVENT_KINDS,
  'DefaultBranch',
  'AnyDelegate',
  'Allow',
  'Deny',
  // cib's pre-0.7 names, accepted as aliases: any patch event / any branch event.
  'AnyPatch',
  'AnyPatchRef',
  'AnyPushRef',
] as const;
export type UnitFilterKind = (typeof UNIT_FILTERS)[number];

export type Filter =
  | Readonly<{ kind: UnitFilterKind }>
  | Readonly<{ kind: 'Repository'; rid: string }>
  | Readonly<{ kind: 'Branch'; name: string }>
  | Readonly<{ kind: 'Tag'; name: string }>
  | Readonly<{ kind: 'Patch'; patch: string }>
  | Readonly<{ kind: 'Node'; nid: string }>
  | Readonly<{ kind: 'HasFile'; path: string }>
  | Readonly<{ kind: 'Not'; filter: Filter }>
  | Readonly<{ kind: 'And' | 'Or'; filters: readonly Filter[] }>;

const VALUED = ['Repository', 'Branch', 'Tag', 'Patch', 'Node', 'HasFile'] as const;
type ValuedKind = (typeof VALUED)[number];
const ALL_KINDS: readonly string[] = [...UNIT_FILTERS, ...VALUED, 'Not', 'And', 'Or'];

const isUnit = (k: string): k is UnitFilterKind => (UNIT_FILTERS as readonly string[]).includes(k);
const isValued = (k: string): k is ValuedKind => (VALUED as readonly string[]).includes(k);

/** Parses a list of filters (`filters:` of the config or a trigger); problems go to `issues`. */
export function parseFilterList(value: unknown, path: string, issues: ConfigIssue[]): Filter[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) {
    issues.push({ path, message: 'expected a list of filters' });
    return [];
  }
  const out: Filter[] = [];
  value.forEach((item, i) => {
    const f = parseFilter(item, `${path}[${i}]`, issues);
    if (f !== null) out.push(f);
  });
  return out;
}

/** Parses one filter in tag form (from yaml-document.ts) or JSON form; null (with issues) when invalid. */
export function parseFilter(value: unknown, path: string, issues: ConfigIssue[]): Filter | null {
  const fail = (message: string): null => {
    issues.push({ path, message });
    return null;
  };
  if (isTagged(value)) {
    const { tag } = value;
    if (!ALL_KINDS.includes(tag)) return fail(`unknown filter tag !${tag}${suggest(tag, '!')}`);
    if (isUnit(tag)) {
      if (value.value !== null && value.value !== '') return fail(`!${tag} takes no value`);
      return { kind: tag };
    }
    if (tag === 'Not' && (value.value === null || value.value === '')) return fail('!Not needs a filter');
    return parseVariant(tag, value.value, path, issues, `!${tag}`);
  }
  if (typeof value === 'string') {
    if (isUnit(value)) return { kind: value };
    if (ALL_KINDS.includes(value)) return fail(`filter ${value} needs a value, e.g. {"${value}": …} or !${value} …`);
    return fail(`unknown filter "${value}"${suggest(value, '')}`);
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const key = keys[0];
    if (keys.length !== 1 || key === undefined) return fail(`a filter object must have exactly one key, found ${keys.length}`);
    const arg: unknown = (value as Record<string, unknown>)[key];
    if (!ALL_KINDS.includes(key)) return fail(`unknown filter "${key}"${suggest(key, '')}`);
    if (isUnit(key)) {
      if (arg !== null && arg !== '') return fail(`${key} takes no value`);
      return { kind: key };
    }
    return parseVariant(key, arg, path, issues, key);
  }
  return fail(`expected a filter (e.g. !Branch "main" or {"Branch": "main"}), found ${describe(value)}`);
}

function parseVariant(kind: string, arg: unknown, path: string, issues: ConfigIssue[], shown: string): Filter | null {
  const fail = (message: string): null => {
    issues.push({ path, message });
    return null;
  };
  if (kind === 'Not') {
    const inner = parseFilter(arg, `${path}.Not`, issues);
    return inner === null ? null : { kind: 'Not', filter: inner };
  }
  if (kind === 'And' || kind === 'Or') {
    if (!Array.isArray(arg)) return fail(`${shown} needs a list of filters, found ${describe(arg)}`);
    const before = issues.length;
    const filters = parseFilterList(arg, `${path}.${kind}`, issues);
    return issues.length === before ? { kind, filters } : null;
  }
  if (!isValued(kind)) return fail(`unknown filter "${kind}"`);
  if (typeof arg === 'number' || typeof arg === 'boolean') arg = String(arg);
  if (typeof arg !== 'string' || arg.trim() === '') return fail(`${shown} needs a ${ARG_NAME[kind]}, found ${describe(arg)}`);
  const checked = checkArg(kind, arg.trim());
  if (typeof checked === 'object') return fail(`${shown} ${JSON.stringify(arg)}: ${checked.error}`);
  switch (kind) {
    case 'Repository':
      return { kind, rid: checked };
    case 'Branch':
    case 'Tag':
      return { kind, name: checked };
    case 'Patch':
      return { kind, patch: checked };
    case 'Node':
      return { kind, nid: checked };
    case 'HasFile':
      return { kind, path: checked };
  }
}

const ARG_NAME: Readonly<Record<ValuedKind, string>> = {
  Repository: 'repository id (rad:z…)',
  Branch: 'branch name',
  Tag: 'tag name',
  Patch: 'patch id (40 hex digits)',
  Node: 'node id (z6Mk…)',
  HasFile: 'file path',
};

function checkArg(kind: ValuedKind, s: string): string | { error: string } {
  switch (kind) {
    case 'Repository':
      return Rid.safeParse(s).success ? s : { error: 'expected a repository id (rad:z…)' };
    case 'Node': {
      const nid = s.startsWith('did:key:') ? s.slice('did:key:'.length) : s;
      return Nid.safeParse(nid).success ? nid : { error: 'expected a node id (z6Mk…)' };
    }
    case 'Patch':
      return Oid.safeParse(s).success ? s : { error: 'expected a patch id (40 lowercase hex digits)' };
    case 'Branch':
    case 'Tag': {
      const prefix = kind === 'Branch' ? 'refs/heads/' : 'refs/tags/';
      if (s.startsWith('refs/')) return { error: `give the ${kind.toLowerCase()} name without ${prefix}` };
      if (/\s/.test(s) || s.startsWith('/') || s.endsWith('/') || s.includes('//')) return { error: 'not a valid ref name pattern' };
      return s;
    }
    case 'HasFile': {
      const p = s.replace(/^(\.\/)+/, '');
      if (p.startsWith('/') || p.split('/').includes('..') || p === '') return { error: 'expected a path relative to the repository root' };
      return p;
    }
  }
}

/** cib's JSON form of a filter (round-trips through parseFilter). */
export function filterToJson(f: Filter): unknown {
  switch (f.kind) {
    case 'Not':
      return { Not: filterToJson(f.filter) };
    case 'And':
    case 'Or':
      return { [f.kind]: f.filters.map(filterToJson) };
    default: {
      const arg = filterArg(f);
      return arg === null ? f.kind : { [f.kind]: arg };
    }
  }
}

/** One node of a filter, without children: `!Branch "main"`, `!DefaultBranch`, `!And`. */
export function filterText(f: Filter): string {
  const arg = filterArg(f);
  return arg === null ? `!${f.kind}` : `!${f.kind} ${JSON.stringify(arg)}`;
}

/** A whole filter on one line in YAML tag syntax: `!And [!Repository "rad:…", !Not !BranchDeleted]`. */
export function formatFilter(f: Filter): string {
  switch (f.kind) {
    case 'Not':
      return `!Not ${formatFilter(f.filter)}`;
    case 'And':
    case 'Or':
      return `!${f.kind} [${f.filters.map(formatFilter).join(', ')}]`;
    default:
      return filterText(f);
  }
}

function filterArg(f: Filter): string | null {
  switch (f.kind) {
    case 'Repository':
      return f.rid;
    case 'Branch':
    case 'Tag':
      return f.name;
    case 'Patch':
      return f.patch;
    case 'Node':
      return f.nid;
    case 'HasFile':
      return f.path;
    default:
      return null;
  }
}

function describe(v: unknown): string {
  if (v === null || v === undefined || v === '') return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (isTagged(v)) return `!${v.tag}`;
  if (typeof v === 'object') return 'a map';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** " (did you mean !Branch?)" for near-misses of a filter name, else "". */
function suggest(name: string, prefix: string): string {
  let best: string | null = null;
  let bestDist = 3;
  for (const k of ALL_KINDS) {
    const d = k.toLowerCase() === name.toLowerCase() ? 0 : editDistance(k, name);
    if (d < bestDist) {
      best = k;
      bestDist = d;
    }
  }
  return best === null ? '' : ` (did you mean ${prefix}${best}?)`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
