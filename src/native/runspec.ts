/**
 * `.radicle/native.yaml`, the repository's own description of its CI run (reference cib.md §9):
 * `shell: |` is the bash script; cibq-native adds `artifacts:`, the files the run produces. The file
 * comes from a peer: it is parsed, never evaluated, and every problem is a readable reason that the
 * run's log shows (the run then fails; it is the commit's problem, not the adapter's).
 */
import { parseDocument } from 'yaml';
import { z } from 'zod';

export const RUNSPEC_PATH = '.radicle/native.yaml';
const MAX_ARTIFACTS = 1000;

export type Runspec = Readonly<{
  shell: string;
  /** Paths relative to the checkout, `/`-separated, never absolute, never with `.` or `..` segments. */
  artifacts: readonly string[];
  /** Keys cibq-native does not use (other tools may read the same file). */
  ignoredKeys: readonly string[];
}>;

/** A safe relative path: the artifact's name in the run directory and in the result file. */
export function isSafeRelativePath(p: string): boolean {
  return (
    p.length > 0 &&
    p.length <= 1024 &&
    !p.startsWith('/') &&
    !p.includes('\\') &&
    // eslint-disable-next-line no-control-regex -- a file name with control characters is refused
    !/[\u0000-\u001f\u007f]/.test(p) &&
    p.split('/').every((s) => s !== '' && s !== '.' && s !== '..')
  );
}

const Spec = z.looseObject({
  shell: z.string({ error: 'shell: required: the bash script to run (shell: |)' }).refine((s) => s.trim() !== '', 'shell: the script is empty'),
  artifacts: z
    .array(z.string().refine(isSafeRelativePath, 'must be a path inside the checkout (relative, no "." or ".." segments)'))
    .max(MAX_ARTIFACTS)
    .default([]),
});

export type ParsedRunspec = { ok: true; spec: Runspec } | { ok: false; reason: string };

export function parseRunspec(text: string): ParsedRunspec {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const where = e?.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    return { ok: false, reason: `${RUNSPEC_PATH} is not valid YAML${where}: ${e?.message.split('\n')[0] ?? ''}` };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 50 });
  } catch (e) {
    return { ok: false, reason: `${RUNSPEC_PATH} cannot be read: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: `${RUNSPEC_PATH} must be a map with a shell: key, e.g.\n  shell: |\n    make test` };
  }
  const r = Spec.safeParse(value);
  if (!r.success) {
    const why = r.error.issues.map((i) => (i.path.length > 0 && !i.message.startsWith(`${String(i.path[0])}:`) ? `${i.path.join('.')}: ${i.message}` : i.message));
    return { ok: false, reason: `${RUNSPEC_PATH} is invalid: ${why.join('; ')}` };
  }
  const ignoredKeys = Object.keys(value).filter((k) => k !== 'shell' && k !== 'artifacts');
  return { ok: true, spec: { shell: r.data.shell, artifacts: [...new Set(r.data.artifacts)], ignoredKeys } };
}
