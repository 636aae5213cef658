/**
 * Durations in cib's `duration_str` style: "1h", "30m", "3600s", "500ms", "1h30m", "1h 30m", "2d";
 * a plain number (or numeric string) is seconds. Results are whole milliseconds.
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  msec: 1,
  millisecond: 1,
  milliseconds: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  w: 604_800_000,
  week: 604_800_000,
  weeks: 604_800_000,
};

const PART = /(\d+(?:\.\d+)?)\s*([a-z]+)/gy;

/** Parses a duration into milliseconds; throws an Error with a readable message on bad input. */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new Error(`invalid duration ${String(input)}`);
    if (input < 0) throw new Error(`invalid duration ${String(input)}: must not be negative`);
    return Math.round(input * 1000);
  }
  const text = input.trim().toLowerCase();
  const shown = JSON.stringify(input);
  if (text === '') throw new Error('invalid duration "": empty');
  if (text.startsWith('-')) throw new Error(`invalid duration ${shown}: must not be negative`);
  if (/^\d+(?:\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);

  let total = 0;
  let pos = 0;
  PART.lastIndex = 0;
  while (pos < text.length) {
    PART.lastIndex = pos;
    const m = PART.exec(text);
    if (m === null) throw new Error(`invalid duration ${shown}: expected e.g. "1h", "30m", "90s", "500ms", "1h30m"`);
    const unit = UNIT_MS[m[2] ?? ''];
    if (unit === undefined) throw new Error(`invalid duration ${shown}: unknown unit "${m[2] ?? ''}"`);
    total += Number(m[1]) * unit;
    pos = PART.lastIndex;
    while (text[pos] === ' ' || text[pos] === ',') pos++;
  }
  return Math.round(total);
}

/**
 * Formats milliseconds the way people write durations, and parseDuration reads back: 5400000 →
 * "1h30m", 1500 → "1.5s" (a fraction of a second alone), 90061500 → "1d1h1m1s500ms".
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms > 1000 && ms < 60_000 && !Number.isInteger(ms / 1000)) return `${ms / 1000}s`;
  const parts: string[] = [];
  let rest = Math.round(ms);
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}
