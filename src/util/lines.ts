/**
 * Splitting a stream of text into lines: the adapter's stdout, the watchdog's stdin, a run log and
 * a recorded node stream all arrive in chunks that cut lines anywhere.
 */

/** Appends `chunk` to the unfinished line `rest`; returns the complete lines and what is left. */
export function takeLines(rest: string, chunk: string): { lines: string[]; rest: string } {
  const parts = (rest + chunk).split('\n');
  const last = parts.pop() ?? '';
  return { lines: parts, rest: last };
}
