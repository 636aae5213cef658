/**
 * Typed reads of untrusted configuration values: each reports its problems under the key path it
 * was given and returns null (or a safe default) instead of throwing, so every problem of a file is
 * found in one pass.
 */
import { parseDuration } from './duration.ts';
import type { ConfigIssue } from '../util/errors.ts';
import { isTagged } from './yaml-document.ts';

/** A map; unknown keys are reported (unless `keys` is null). Absent/null → null without an issue. */
export function readMap(issues: ConfigIssue[], v: unknown, path: string, keys: readonly string[] | null): Record<string, unknown> | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v) || isTagged(v)) {
    issues.push({ path, message: `expected a map, found ${kindOf(v)}` });
    return null;
  }
  const m = v as Record<string, unknown>;
  for (const k of keys === null ? [] : Object.keys(m)) {
    if (!keys?.includes(k)) issues.push({ path: path === '' ? k : `${path}.${k}`, message: 'unknown key' });
  }
  return m;
}

export function readString(issues: ConfigIssue[], v: unknown, path: string, required: boolean): string | null {
  if (v === undefined || v === null) {
    if (required) issues.push({ path, message: 'required' });
    return null;
  }
  if (typeof v !== 'string' || v === '') {
    issues.push({ path, message: `expected a non-empty string, found ${kindOf(v)}` });
    return null;
  }
  return v;
}

export function readDuration(issues: ConfigIssue[], v: unknown, path: string): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' && typeof v !== 'number') {
    issues.push({ path, message: `expected a duration such as "1h" or "30m", found ${kindOf(v)}` });
    return null;
  }
  try {
    const ms = parseDuration(v);
    if (ms > 0) return ms;
    issues.push({ path, message: `invalid duration ${JSON.stringify(v)}: must be more than zero` });
  } catch (e) {
    issues.push({ path, message: (e as Error).message });
  }
  return null;
}

export function readBool(issues: ConfigIssue[], v: unknown, path: string): boolean | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'boolean') {
    issues.push({ path, message: `expected true or false, found ${kindOf(v)}` });
    return null;
  }
  return v;
}

export function readInt(issues: ConfigIssue[], v: unknown, path: string, min: number): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    issues.push({ path, message: `expected a whole number ≥ ${min}, found ${kindOf(v)}` });
    return null;
  }
  return v;
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1000, kib: 1024, m: 1024 ** 2, mb: 1000 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1000 ** 3, gib: 1024 ** 3 };

/** A size in bytes: a number, or "512KiB", "1MiB", "2MB". */
export function readSize(issues: ConfigIssue[], v: unknown, path: string): number | null {
  if (v === undefined || v === null) return null;
  const m = typeof v === 'string' ? /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(v) : null;
  const unit = m ? SIZE_UNITS[(m[2] ?? '').toLowerCase()] : undefined;
  const bytes = typeof v === 'number' ? v : m && unit !== undefined ? Number(m[1]) * unit : NaN;
  if (!Number.isInteger(bytes) || bytes < 1024) {
    issues.push({ path, message: `expected a size of at least 1KiB such as 1048576 or "1MiB", found ${kindOf(v)}` });
    return null;
  }
  return bytes;
}

/** Environment variables: names to strings (YAML numbers and booleans are stringified). */
export function readEnvMap(issues: ConfigIssue[], v: unknown, path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(readMap(issues, v, path, null) ?? {})) {
    if (k === '' || k.includes('=') || k.includes('\0')) {
      issues.push({ path: `${path}.${k}`, message: 'invalid environment variable name' });
    } else if (typeof val === 'string' || typeof val === 'number' || typeof val === 'boolean') {
      out[k] = String(val);
    } else {
      issues.push({ path: `${path}.${k}`, message: `expected a string, found ${kindOf(val)}` });
    }
  }
  return out;
}

/** Any value without YAML tags (tags belong in filters only). */
export function readPlain(issues: ConfigIssue[], v: unknown, path: string): unknown {
  const bad = findTag(v, path);
  if (bad === null) return v;
  issues.push({ path: bad.path, message: `unexpected tag !${bad.tag}` });
  return null;
}

function findTag(v: unknown, path: string): { path: string; tag: string } | null {
  if (isTagged(v)) return { path, tag: v.tag };
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) {
      const r = findTag(x, `${path}[${i}]`);
      if (r !== null) return r;
    }
  } else if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      const r = findTag(x, `${path}.${k}`);
      if (r !== null) return r;
    }
  }
  return null;
}

export function kindOf(v: unknown): string {
  if (isTagged(v)) return `tag !${v.tag}`;
  if (Array.isArray(v)) return 'a list';
  if (v === null || typeof v === 'object') return v === null ? 'nothing' : 'a map';
  return `${typeof v} ${JSON.stringify(v)}`;
}
