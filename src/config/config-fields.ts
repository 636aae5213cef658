/**
 * The zod building blocks of the configuration schema, worded as cib's users expect: every message
 * says what was expected and what was found, and zod's issues become ConfigIssues with key paths
 * such as `adapters.native.env.A` or `filters[0].And[1]`.
 */
import { z } from 'zod';
import { coerceError } from '../util/coerce-error.ts';
import type { ConfigIssue } from '../util/errors.ts';
import { parseDuration } from './duration.ts';
import { isPlainMap, isTagged, kindOf } from './yaml-document.ts';

type Ctx = z.core.$RefinementCtx;
const failed = (ctx: Ctx, message: string, path: PropertyKey[] = []): never => {
  ctx.addIssue({ code: 'custom', message, path });
  return z.NEVER;
};

/** Messages for a schema: "required" when absent, else `expected <what>, found <kind>`. */
const says = (what: string, found: (v: unknown) => string = kindOf) => ({
  error: (i: { input?: unknown }) => (i.input === undefined ? 'required' : `expected ${what}, found ${found(i.input)}`),
});

export const text = z.string(says('a non-empty string')).min(1);
export const bool = z.boolean(says('true or false'));
export const int = (min: number, found?: (v: unknown) => string) => z.number(says(`a whole number ≥ ${min}`, found)).int().min(min);

/** A duration of more than zero ("1h", "30m", "1h 30m", a number of seconds) → milliseconds. */
export const duration = z.union([z.string(), z.number()], says('a duration such as "1h" or "30m"')).transform((v, ctx) => {
  try {
    const ms = parseDuration(v);
    return ms > 0 ? ms : failed(ctx, `invalid duration ${JSON.stringify(v)}: must be more than zero`);
  } catch (e) {
    return failed(ctx, coerceError(e).message);
  }
});

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1000, kib: 1024, m: 1024 ** 2, mb: 1000 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1000 ** 3, gib: 1024 ** 3 };
const SIZE = 'a size of at least 1KiB such as 1048576 or "1MiB"';

/** A size in bytes: a number, or "512KiB", "1MiB", "2MB". */
export const size = z.union([z.number(), z.string()], says(SIZE)).transform((v, ctx) => {
  const m = typeof v === 'string' ? /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(v) : null;
  const unit = m ? SIZE_UNITS[(m[2] ?? '').toLowerCase()] : undefined;
  const bytes = typeof v === 'number' ? v : m && unit !== undefined ? Number(m[1]) * unit : NaN;
  return Number.isInteger(bytes) && bytes >= 1024 ? bytes : failed(ctx, `expected ${SIZE}, found ${kindOf(v)}`);
});

const asMap = (v: unknown, ctx: Ctx): Readonly<Record<string, unknown>> => (isPlainMap(v) ? v : failed(ctx, `expected a map, found ${kindOf(v)}`));
/** Accepts a map only (not a list, not a tagged node) before handing it on. */
export const map = <S extends z.ZodType>(schema: S) => z.preprocess(asMap, schema);

/** Environment variables: names to strings (YAML numbers and booleans are stringified). */
export const envMap = map(
  z.record(
    z.string().refine((k) => k !== '' && !k.includes('=') && !k.includes('\0')),
    z.union([z.string(), z.number(), z.boolean()], says('a string')).transform(String),
    { error: 'invalid environment variable name' },
  ),
).default({});

/** Any value without YAML tags (tags belong in filters only). */
export const plain = z.unknown().superRefine((v, ctx) => {
  const bad = findTag(v, []);
  if (bad !== null) failed(ctx, `unexpected tag !${bad.tag}`, bad.path);
});

function findTag(v: unknown, path: PropertyKey[]): { path: PropertyKey[]; tag: string } | null {
  if (isTagged(v)) return { path, tag: v.tag };
  if (typeof v !== 'object' || v === null) return null;
  for (const [k, x] of Object.entries(v)) {
    const r = findTag(x, [...path, Array.isArray(v) ? Number(k) : k]);
    if (r !== null) return r;
  }
  return null;
}

/** A list; "required" when absent, else `expected <what>`. */
export const list = <S extends z.ZodType>(item: S, what: string) =>
  z.array(item, { error: (i) => (i.input === undefined ? 'required' : `expected ${what}`) });

/** A field of a section: its schema, or `[name, schema]` when Config names it differently (null: accepted, not kept). */
type Field = z.ZodType | readonly [string | null, z.ZodType];
type SchemaOf<F> = F extends readonly [string | null, infer S extends z.ZodType] ? S : F;
type NameOf<F, K> = F extends readonly [infer N, z.ZodType] ? (N extends string ? N : never) : K;
type SectionOutput<F extends Record<string, Field>> = { readonly [K in keyof F as NameOf<F[K], K>]: z.output<SchemaOf<F[K]>> };
/** A rule across the fields of one section; it sees whatever parsed, so values are unknown. */
type Rule<F> = (v: Partial<Record<keyof F, unknown>>, problem: (key: keyof F & string, message: string) => void) => void;

/**
 * A map with known keys: unknown keys are errors, a key set to nothing (`key:` or null) counts as absent,
 * and problems are listed in the order of the fields, unknown keys first, whatever rule found them.
 */
export function section<const F extends Record<string, Field>>(fields: F, rule?: Rule<F>) {
  const entries = Object.entries(fields).map(([key, f]) => ('_zod' in f ? { key, name: key, schema: f } : { key, name: f[0], schema: f[1] }));
  const rank = (i: z.core.$ZodRawIssue): number => (i.path?.length ? entries.findIndex((e) => e.key === i.path?.[0]) : -1);
  const strict = z.strictObject(Object.fromEntries(entries.map((e) => [e.key, e.schema]))).superRefine((v, ctx) => {
    rule?.(v as Partial<Record<keyof F, unknown>>, (key, message) => failed(ctx, message, [key]));
    ctx.issues.sort((a, b) => rank(a) - rank(b));
  }, { when: () => true });
  const present = (v: unknown, ctx: Ctx) => (isPlainMap(v) ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null)) : asMap(v, ctx));
  const rename = (v: Record<string, unknown>) => Object.fromEntries(entries.flatMap((e) => (e.name === null ? [] : [[e.name, v[e.key]]])));
  return z.preprocess(present, strict).transform((v) => rename(v) as SectionOutput<F>);
}

/** zod's issues as ConfigIssues, one per unknown key, with paths under `prefix`. */
function configIssues(error: z.ZodError, prefix = ''): ConfigIssue[] {
  return error.issues.flatMap((i) => {
    const at = (path: readonly PropertyKey[]): string => path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s === '' ? String(k) : `${s}.${String(k)}`), prefix);
    return i.code === 'unrecognized_keys' ? i.keys.map((k) => ({ path: at([...i.path, k]), message: 'unknown key' })) : [{ path: at(i.path), message: i.message }];
  });
}

/** Parses `value`, adding its problems to `issues` under `path`; null when there were any. */
export function parseInto<S extends z.ZodType>(schema: S, value: unknown, path: string, issues: ConfigIssue[]): z.output<S> | null {
  const r = schema.safeParse(value, { error: (i) => (i.input === undefined ? 'required' : `invalid value, found ${kindOf(i.input)}`) });
  if (r.success) return r.data;
  issues.push(...configIssues(r.error, path));
  return null;
}

export type DeepReadonly<T> = T extends readonly (infer E)[] ? readonly DeepReadonly<E>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

/** Freezes a value and everything in it, and types it so. */
export function deepFreeze<T>(v: T): DeepReadonly<T> {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v as DeepReadonly<T>;
}
