/** Peer-controlled text for a terminal: control characters (escape sequences) shown as \u escapes. */
export function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * A run's log for a terminal: lines, tabs and colour (SGR) sequences stay; every other control
 * character (cursor moves, title changes, a bare ESC) is shown as a \u escape.
 */
export function printableLog(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;]*m|[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) =>
    c.length > 1 ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
