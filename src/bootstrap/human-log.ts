/**
 * Log lines for a person at a terminal: `10:31:07 WARN  producer: <message> (key=value …)` instead
 * of pino's JSON, which stays the format for everything else (pipes, files, journald). The JSON
 * pino produced is reformatted, so redaction has already happened.
 */

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
/** Keys every line has, or that the prefix already shows. */
const OMIT = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'process', 'component']);

function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'object' && v !== null && 'message' in v && typeof v.message === 'string') return JSON.stringify(v.message);
  return JSON.stringify(v) ?? String(v);
}

/** One JSON log line → one human line (text that is not JSON passes through). */
export function humanLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof o.time === 'string' ? o.time.slice(11, 19) : new Date().toISOString().slice(11, 19);
  const level = LEVELS[typeof o.level === 'number' ? o.level : 30] ?? 'INFO ';
  const who = [o.process, o.component].filter((x) => typeof x === 'string').join('/');
  const extra = Object.entries(o).filter(([k, v]) => !OMIT.has(k) && v !== undefined).map(([k, v]) => `${k}=${value(v)}`);
  // eslint-disable-next-line no-control-regex
  const msg = (typeof o.msg === 'string' ? o.msg : '').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '?');
  return `${time} ${level} ${who === '' ? '' : `${who}: `}${msg}${extra.length > 0 ? ` (${extra.join(' ')})` : ''}\n`;
}

/** A pino destination that writes human lines to `out`. */
export function humanDestination(out: NodeJS.WritableStream): { write: (s: string) => boolean } {
  return { write: (s: string) => out.write(s.split('\n').filter((l) => l !== '').map(humanLine).join('')) };
}
