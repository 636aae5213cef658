/**
 * The filter language (reference cib.md §3): which CI events start a run. Written in YAML as tags
 * (`!Branch "main"`, `!And [ … ]`, `!Not !BranchDeleted`) or in cib's JSON form (`{"Branch":"main"}`,
 * `"DefaultBranch"`, `{"And":[…]}`). Evaluation lives in filter-eval.ts.
 */
import { z } from 'zod';
import { CI_EVENT_KINDS, Nid, Oid, Rid } from '../model/ci-event.ts';
import type { ConfigIssue } from '../util/errors.ts';
import { list, parseInto } from './config-fields.ts';
import { isTagged, kindOf } from './yaml-document.ts';

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

const ARG_NAMES = {
  Repository: 'repository id (rad:z…)',
  Branch: 'branch name',
  Tag: 'tag name',
  Patch: 'patch id (40 hex digits)',
  Node: 'node id (z6Mk…)',
  HasFile: 'file path',
} as const;
type ValuedKind = keyof typeof ARG_NAMES;
const ALL_KINDS: readonly string[] = [...UNIT_FILTERS, ...Object.keys(ARG_NAMES), 'Not', 'And', 'Or'];

const isUnit = (k: string): k is UnitFilterKind => (UNIT_FILTERS as readonly string[]).includes(k);
const isValued = (k: string): k is ValuedKind => Object.hasOwn(ARG_NAMES, k);
const matches = (schema: z.ZodType) => (s: string) => schema.safeParse(s).success;

/**
 * What git refuses in a ref name (git-check-ref-format(1)); `*` is allowed, the filter being a pattern.
 * A pattern with one of these can never match a branch or tag.
 */
const BAD_REF: ReadonlyArray<readonly [RegExp, string]> = [
  // eslint-disable-next-line no-control-regex -- control characters are exactly what git refuses here
  [/[\x00-\x20\x7f]/, 'contains a space or a control character'],
  [/[~^:?[\\]/, 'contains one of ~ ^ : ? [ \\'],
  [/\.\./, 'contains ".."'],
  [/@\{/, 'contains "@{"'],
  [/^@$/, 'is "@"'],
  [/^\/|\/$|\/\//, 'has an empty part (a leading, trailing or double "/")'],
  [/(^|\/)\./, 'has a part that starts with "."'],
  [/\.lock(\/|$)/, 'has a part that ends with ".lock"'],
  [/\.$/, 'ends with "."'],
];

const refPattern = (prefix: string) =>
  z.string()
    .refine((s) => !s.startsWith('refs/'), { error: `give the name without ${prefix}`, abort: true })
    .superRefine((s, ctx) => {
      const why = BAD_REF.find(([re]) => re.test(s))?.[1];
      if (why !== undefined) ctx.addIssue(`not a valid git ref name (it ${why}), so it can never match`);
    });

/** The argument of each valued filter: checked, normalized and made into the filter. */
const ARGS: { readonly [K in ValuedKind]: z.ZodType<Filter, string> } = {
  Repository: z.string().refine(matches(Rid), 'expected a repository id (rad:z…)').transform((rid) => ({ kind: 'Repository', rid })),
  Branch: refPattern('refs/heads/').transform((name) => ({ kind: 'Branch', name })),
  Tag: refPattern('refs/tags/').transform((name) => ({ kind: 'Tag', name })),
  Patch: z.string().refine(matches(Oid), 'expected a patch id (40 lowercase hex digits)').transform((patch) => ({ kind: 'Patch', patch })),
  Node: z.string().transform((s) => s.replace(/^did:key:/, '')).refine(matches(Nid), 'expected a node id (z6Mk…)').transform((nid) => ({ kind: 'Node', nid })),
  HasFile: z.string().transform((s) => s.replace(/^(\.\/)+/, ''))
    .refine((p) => p !== '' && !p.startsWith('/') && !p.split('/').includes('..'), 'expected a path relative to the repository root')
    .transform((path) => ({ kind: 'HasFile', path })),
};

type Fail = (message: string, path?: PropertyKey[]) => null;
const empty = (v: unknown): boolean => v === null || v === undefined || v === '';

/**
 * One filter in cib's JSON form (`"DefaultBranch"`, `{"Branch": "main"}`, `{"And": […]}`), which is also
 * what yaml-document.ts makes of a tag; messages name the filter as it was written (`!Branch` or `Branch`).
 */
export const FilterSchema: z.ZodType<Filter> = z.unknown().transform((v, ctx) =>
  readFilter(v, (message, path = []) => {
    ctx.addIssue({ code: 'custom', message, path });
    return null;
  }) ?? z.NEVER);

/** A list of filters: `filters:` of the config or of a trigger; it matches when any of them does. */
export const FilterList = list(FilterSchema, 'a list of filters');

function readFilter(v: unknown, fail: Fail): Filter | null {
  if (typeof v === 'string') {
    if (isUnit(v)) return { kind: v };
    if (ALL_KINDS.includes(v)) return fail(`filter ${v} needs a value, e.g. {"${v}": …} or !${v} …`);
    return fail(`unknown filter "${v}"${suggest(v, '')}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(`expected a filter (e.g. !Branch "main" or {"Branch": "main"}), found ${kindOf(v)}`);
  const entries = Object.entries(v);
  const [kind, arg] = entries[0] ?? [];
  if (entries.length !== 1 || kind === undefined) return fail(`a filter object must have exactly one key, found ${entries.length}`);
  const tag = isTagged(v) ? '!' : '';
  const shown = `${tag}${kind}`;
  if (isUnit(kind)) return empty(arg) ? { kind } : fail(`${shown} takes no value`);
  if (kind === 'Not') {
    if (empty(arg)) return fail(`${shown} needs a filter`);
    const filter = readFilter(arg, (m, p = []) => fail(m, ['Not', ...p]));
    return filter && { kind, filter };
  }
  if (kind === 'And' || kind === 'Or') {
    if (!Array.isArray(arg)) return fail(`${shown} needs a list of filters, found ${kindOf(arg)}`);
    const filters = arg.map((f, i) => readFilter(f, (m, p = []) => fail(m, [kind, i, ...p])));
    return filters.every((f) => f !== null) ? { kind, filters } : null;
  }
  if (!isValued(kind)) return fail(tag ? `unknown filter tag !${kind}${suggest(kind, '!')}` : `unknown filter "${kind}"${suggest(kind, '')}`);
  const s = typeof arg === 'number' || typeof arg === 'boolean' ? String(arg) : arg;
  if (typeof s !== 'string' || s.trim() === '') return fail(`${shown} needs a ${ARG_NAMES[kind]}, found ${kindOf(s)}`);
  const r = ARGS[kind].safeParse(s.trim());
  return r.success ? r.data : fail(`${shown} ${JSON.stringify(s)}: ${r.error.issues[0]?.message ?? 'invalid'}`);
}

/** Parses a list of filters, adding problems to `issues` under `path`; [] when any is invalid. */
export function parseFilterList(value: unknown, path: string, issues: ConfigIssue[]): Filter[] {
  return parseInto(FilterList.nullish(), value, path, issues) ?? [];
}

/** Parses one filter (tag or JSON form); null, with its problems in `issues`, when invalid. */
export function parseFilter(value: unknown, path: string, issues: ConfigIssue[]): Filter | null {
  return parseInto(FilterSchema, value, path, issues);
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
