/**
 * Turns an adapter log with ANSI escape sequences into text segments with CSS classes, for the run
 * page. Colour and style (SGR) codes become classes (`ansi-fg-1`, `ansi-bold`, …); every other
 * escape sequence and control character is dropped. The segments are plain text that the template
 * escapes, so nothing in a log can become markup.
 */

export type LogSegment = { text: string; cls: string | null };

type Style = { fg: number | null; bg: number | null; bold: boolean; dim: boolean; italic: boolean; underline: boolean };

const PLAIN: Style = { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false };

// CSI … final byte | OSC … (BEL or ST) | other two-byte escapes | a lone ESC | C0 controls but \t and \n | DEL and C1.
// eslint-disable-next-line no-control-regex
const TOKEN = /\x1b\[([0-9;:?<=>]*)[ -/]*([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x1b|[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

function applySgr(style: Style, params: string): Style {
  const s = { ...style };
  const codes = params === '' ? [0] : params.split(/[;:]/).map((p) => (p === '' ? 0 : Number(p)));
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i] ?? 0;
    if (c === 0) Object.assign(s, PLAIN);
    else if (c === 1) s.bold = true;
    else if (c === 2) s.dim = true;
    else if (c === 3) s.italic = true;
    else if (c === 4) s.underline = true;
    else if (c === 22) s.bold = s.dim = false;
    else if (c === 23) s.italic = false;
    else if (c === 24) s.underline = false;
    else if (c >= 30 && c <= 37) s.fg = c - 30;
    else if (c >= 90 && c <= 97) s.fg = c - 90 + 8;
    else if (c === 39) s.fg = null;
    else if (c >= 40 && c <= 47) s.bg = c - 40;
    else if (c >= 100 && c <= 107) s.bg = c - 100 + 8;
    else if (c === 49) s.bg = null;
    else if (c === 38 || c === 48) {
      // 256 colours: the first 16 map onto the palette, others are ignored; 24-bit colour is ignored.
      const mode = codes[i + 1];
      if (mode === 5) {
        const n = codes[i + 2] ?? -1;
        if (n >= 0 && n < 16) s[c === 38 ? 'fg' : 'bg'] = n;
        i += 2;
      } else if (mode === 2) {
        i += 4;
      }
    }
  }
  return s;
}

function classOf(s: Style): string | null {
  const cls: string[] = [];
  if (s.fg !== null) cls.push(`ansi-fg-${s.fg}`);
  if (s.bg !== null) cls.push(`ansi-bg-${s.bg}`);
  if (s.bold) cls.push('ansi-bold');
  if (s.dim) cls.push('ansi-dim');
  if (s.italic) cls.push('ansi-italic');
  if (s.underline) cls.push('ansi-underline');
  return cls.length === 0 ? null : cls.join(' ');
}

/** The log as styled segments; adjacent text with the same style is one segment. */
export function ansiSegments(log: string): LogSegment[] {
  const out: LogSegment[] = [];
  let style = PLAIN;
  let last = 0;
  const push = (text: string): void => {
    if (text === '') return;
    const cls = classOf(style);
    const prev = out[out.length - 1];
    if (prev !== undefined && prev.cls === cls) prev.text += text;
    else out.push({ text, cls });
  };
  for (const m of log.matchAll(TOKEN)) {
    push(log.slice(last, m.index));
    last = m.index + m[0].length;
    if (m[2] === 'm' && m[0].startsWith('\x1b[')) style = applySgr(style, m[1] ?? '');
  }
  push(log.slice(last));
  return out;
}

/** The log without any escape sequences or control characters (but newlines and tabs). */
export function stripAnsi(log: string): string {
  return log.replace(TOKEN, '');
}
