/** Whatever was thrown, as an Error (graphile-worker's `coerceError`). */
export function coerceError(e: unknown): Error {
  if (e instanceof Error) return e;
  return new Error(typeof e === 'string' ? e : `non-error thrown: ${safeString(e)}`);
}

/** The message of whatever was thrown, for one-line errors. */
export function errorMessage(e: unknown): string {
  return coerceError(e).message;
}

function safeString(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
