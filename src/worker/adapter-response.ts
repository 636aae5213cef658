/**
 * What an adapter may write to stdout (seed 002 §4.3–4.6, reference cib.md §4.3): one JSON object
 * per line, `triggered` then `finished`. cib denies unknown fields, so these schemas are strict.
 */
import { z } from 'zod';

export const TriggeredResponse = z
  .object({
    response: z.literal('triggered'),
    run_id: z.object({ id: z.string() }).strict(),
    info_url: z.string().nullable().optional(),
  })
  .strict();
export type TriggeredResponse = z.infer<typeof TriggeredResponse>;

export const FinishedResponse = z
  .object({
    response: z.literal('finished'),
    result: z.enum(['success', 'failure']),
  })
  .strict();
export type FinishedResponse = z.infer<typeof FinishedResponse>;

export type AdapterResponse = TriggeredResponse | FinishedResponse;
export type ResponseKind = AdapterResponse['response'];

export type ParsedLine = { ok: true; response: AdapterResponse } | { ok: false; reason: string };

const QUOTE_LIMIT = 200;

/** The line as a JSON string, cut to about 200 characters, for error messages. */
export function quoteLine(line: string): string {
  return line.length > QUOTE_LIMIT ? `${JSON.stringify(line.slice(0, QUOTE_LIMIT))}…` : JSON.stringify(line);
}

/**
 * Parse stdout line `lineNo` (1-based), which must be a response of kind `expected`.
 * The reason says what was wrong, quoting the line.
 */
export function parseResponseLine(line: string, lineNo: number, expected: ResponseKind): ParsedLine {
  const where = `line ${lineNo} of adapter output`;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, reason: `bad JSON on ${where}: ${quoteLine(line)}` };
  }
  const kind = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)['response'] : undefined;
  if (kind !== 'triggered' && kind !== 'finished') {
    const what = kind === undefined ? 'has no "response" field' : `has unknown response type ${typeof kind === 'string' ? quoteLine(kind) : String(JSON.stringify(kind)).slice(0, QUOTE_LIMIT)}`;
    return { ok: false, reason: `${where} ${what}: ${quoteLine(line)}` };
  }
  if (kind !== expected) {
    return { ok: false, reason: `${where} is a "${kind}" response, expected "${expected}": ${quoteLine(line)}` };
  }
  const parsed = kind === 'triggered' ? TriggeredResponse.safeParse(value) : FinishedResponse.safeParse(value);
  if (!parsed.success) {
    return { ok: false, reason: `invalid "${kind}" response on ${where} (${describeIssues(parsed.error)}): ${quoteLine(line)}` };
  }
  return { ok: true, response: parsed.data };
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys.map((k) => JSON.stringify(k)).join(', ');
        const at = issue.path.length > 0 ? ` in ${issue.path.join('.')}` : '';
        return `unknown field${issue.keys.length > 1 ? 's' : ''} ${keys}${at}`;
      }
      const at = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      return `${at}${issue.message}`;
    })
    .join('; ');
}
