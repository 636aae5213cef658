/**
 * Untrusted JSON text → a validated value, in one step at the boundary: text that is not JSON
 * fails the same way as JSON of the wrong shape, never by throwing.
 */
import type { z } from 'zod';

/** Parses `text` as JSON and validates it; `null` stands in for text that is not JSON. */
export function parseJson<T extends z.ZodType>(schema: T, text: string): z.ZodSafeParseResult<z.infer<T>> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return schema.safeParse(json);
}
