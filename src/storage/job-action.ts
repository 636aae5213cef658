/**
 * The actions of an `xyz.radworks.job` COB, encoded exactly as radicle-job 0.6 decodes them: serde's
 * external tagging (`{"Run":{"log":…,"uuid":…}}`), canonical JSON, nothing else at the top level
 * (an extra top-level key makes the whole branch unreadable; reference trust.md §1.1, §1.6).
 */
import { z } from 'zod';
import { canonicalJson } from './canonical-json.ts';

export const JOB_TYPE = 'xyz.radworks.job';
/** The manifest blob, in serde's field order (not canonical; as radicle-cob writes it). */
export const JOB_MANIFEST = `{"typeName":"${JOB_TYPE}","version":1}`;

export type JobReason = 'Succeeded' | 'Failed';
export type JobAction =
  | { Request: { oid: string } }
  | { Run: { uuid: string; log: string } }
  | { Finished: { uuid: string; reason: JobReason } };

const OID = /^[0-9a-f]{40}$/;
/** Lower-case hyphenated, as the uuid crate serializes it (the run keys in the evaluated state). */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A URL the `url` crate parses to the same string: an absolute http(s) URL, WHATWG-normalized; else null. */
export function jobLogUrl(raw: string): string | null {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return null;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return null;
  return u.href;
}

export function requestAction(oid: string): JobAction {
  if (!OID.test(oid)) throw new Error(`not a commit oid: ${JSON.stringify(oid)}`);
  return { Request: { oid } };
}

export function runAction(uuid: string, log: string): JobAction {
  if (!UUID.test(uuid)) throw new Error(`a job run id must be a lower-case UUID, not ${JSON.stringify(uuid)}`);
  const url = jobLogUrl(log);
  if (url === null) throw new Error(`a job run log must be an http(s) URL, not ${JSON.stringify(log)}`);
  return { Run: { uuid, log: url } };
}

export function finishedAction(uuid: string, reason: JobReason): JobAction {
  if (!UUID.test(uuid)) throw new Error(`a job run id must be a lower-case UUID, not ${JSON.stringify(uuid)}`);
  return { Finished: { uuid, reason } };
}

export function encodeJobAction(a: JobAction): string {
  return canonicalJson(a);
}

/** What a reader accepts: one variant key; unknown fields inside a variant are tolerated, as serde does. */
const Decoded = z.union([
  z.strictObject({ Request: z.looseObject({ oid: z.string().regex(OID) }) }),
  z.strictObject({ Run: z.looseObject({ uuid: z.string().regex(/^[0-9a-fA-F-]{32,36}$/), log: z.string() }) }),
  z.strictObject({ Finished: z.looseObject({ uuid: z.string().regex(/^[0-9a-fA-F-]{32,36}$/), reason: z.enum(['Succeeded', 'Failed']) }) }),
]);

/** Decodes one action blob; null when radicle-job could not decode it. */
export function decodeJobAction(bytes: Buffer): JobAction | null {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return null;
  }
  const r = Decoded.safeParse(json);
  if (!r.success) return null;
  const d = r.data;
  if ('Request' in d) return { Request: { oid: d.Request.oid } };
  if ('Run' in d) {
    const log = jobLogUrl(d.Run.log);
    return log === null && !URL.canParse(d.Run.log) ? null : { Run: { uuid: d.Run.uuid.toLowerCase(), log: log ?? d.Run.log } };
  }
  return { Finished: { uuid: d.Finished.uuid.toLowerCase(), reason: d.Finished.reason } };
}
