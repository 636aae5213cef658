/**
 * The actions of an `xyz.radworks.job` change, decoded as radicle-job 0.6 decodes them.
 *
 * radicle-job's `enum Action { Request{oid}, Run{uuid, log}, Finished{uuid, reason} }` has no serde
 * attributes, so serde tags it *externally*: one object with exactly one key, the variant name. Fields of a
 * struct variant: unknown ones are tolerated, missing ones are an error; serde also accepts them as an
 * array in declaration order. `oid` is a git OID, `uuid` a `uuid::Uuid` (hyphenated, simple, braced or urn
 * text), `log` a `url::Url` (WHATWG parsing, as `new URL`), `reason` the unit variants "Succeeded" |
 * "Failed". An OID is read as git2 reads hex (either case; Radicle writes lower case). A decode error
 * makes Radicle prune the change (and its descendants).
 */
import type { Json } from './canonical-json.ts';
import { Violations, type Violation } from './violations.ts';

export type Reason = 'Succeeded' | 'Failed';

export type JobAction =
  | { readonly type: 'Request'; readonly oid: string }
  /** `uuid` lower-case hyphenated and `log` as `Url` serializes it (what radicle-job's state shows). */
  | { readonly type: 'Run'; readonly uuid: string; readonly log: string }
  | { readonly type: 'Finished'; readonly uuid: string; readonly reason: Reason };

export interface ActionDecode {
  /** `null` when radicle-job would fail to decode it. */
  readonly action: JobAction | null;
  readonly violations: Violation[];
}

const FIELDS = { Request: ['oid'], Run: ['uuid', 'log'], Finished: ['uuid', 'reason'] } as const;
type Variant = keyof typeof FIELDS;

const UUID_FORMS = [
  /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i,
  /^([0-9a-f]{8})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{12})$/i,
  /^\{([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}$/i,
  /^urn:uuid:([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i,
];

/** `uuid::Uuid::parse_str`, normalized to lower-case hyphenated; `null` if unparseable. */
export function parseUuid(text: string): string | null {
  for (const form of UUID_FORMS) {
    const m = form.exec(text);
    if (m) return m.slice(1, 6).join('-').toLowerCase();
  }
  return null;
}

function isObject(v: Json | undefined): v is { [key: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Decodes one parsed action blob. */
export function decodeJobAction(value: Json): ActionDecode {
  const v = new Violations();
  const fail = (msg: string): ActionDecode => {
    v.reject('action-decode', msg);
    return { action: null, violations: v.list };
  };
  if (!isObject(value)) return fail(`an action is an object {"Variant":{…}}, got ${JSON.stringify(value)}`);
  const keys = Object.keys(value);
  if (keys.length !== 1) return fail(`externally tagged enum needs exactly one key, got ${JSON.stringify(keys)}`);
  const variant = keys[0] as string;
  if (!(variant in FIELDS)) return fail(`unknown variant "${variant}", expected one of Request, Run, Finished`);
  const names = FIELDS[variant as Variant];
  const inner = value[variant];
  const fields: Record<string, Json | undefined> = {};
  if (Array.isArray(inner)) {
    if (inner.length !== names.length) return fail(`${variant} as a sequence needs ${names.length} elements`);
    names.forEach((n, i) => (fields[n] = inner[i]));
    v.nonstandard('action-sequence', `${variant} fields given as an array; radicle-job writes an object`);
  } else if (isObject(inner)) {
    Object.assign(fields, inner);
    const extra = Object.keys(inner).filter((k) => !(names as readonly string[]).includes(k));
    if (extra.length > 0) {
      v.nonstandard('action-extra-field', `${variant} has extra fields ${extra.join(', ')}; keep extras in embeds`);
    }
  } else {
    return fail(`${variant} must hold a struct, got ${JSON.stringify(inner)}`);
  }
  for (const n of names) if (fields[n] === undefined) return fail(`${variant} is missing field "${n}"`);

  if (variant === 'Request') {
    const oid = fields['oid'];
    if (typeof oid !== 'string' || !/^[0-9a-f]{40}$/i.test(oid)) return fail(`Request.oid ${JSON.stringify(oid)} is not a 40-hex OID`);
    if (oid !== oid.toLowerCase()) v.nonstandard('action-oid-form', `oid ${oid} is not lower-case hex`);
    return { action: { type: 'Request', oid: oid.toLowerCase() }, violations: v.list };
  }
  const rawUuid = fields['uuid'];
  const uuid = typeof rawUuid === 'string' ? parseUuid(rawUuid) : null;
  if (uuid === null) return fail(`${variant}.uuid ${JSON.stringify(rawUuid)} is not a UUID`);
  if (uuid !== rawUuid) v.nonstandard('action-uuid-form', `uuid ${JSON.stringify(rawUuid)} is not lower-case hyphenated`);
  if (variant === 'Run') {
    const rawLog = fields['log'];
    if (typeof rawLog !== 'string' || !URL.canParse(rawLog)) return fail(`Run.log ${JSON.stringify(rawLog)} is not an absolute URL`);
    const log = new URL(rawLog).href;
    if (log !== rawLog) v.nonstandard('action-url-form', `log "${rawLog}" is stored by Radicle as "${log}"`);
    return { action: { type: 'Run', uuid, log }, violations: v.list };
  }
  const reason = fields['reason'];
  if (reason !== 'Succeeded' && reason !== 'Failed') return fail(`Finished.reason ${JSON.stringify(reason)} is not "Succeeded" or "Failed"`);
  return { action: { type: 'Finished', uuid, reason }, violations: v.list };
}
