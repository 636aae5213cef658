/**
 * A flat SVG status badge (`label | status`) that a README can embed. Every text in it is
 * XML-escaped; widths are estimated from the text length (no fonts are measured).
 */
import type { Status } from './display.ts';

const COLOURS: Record<string, string> = {
  success: '#2ea44f',
  failure: '#d73a49',
  error: '#e36209',
  timeout: '#8a4fff',
  cancelled: '#6a737d',
  running: '#0366d6',
  triggered: '#0366d6',
  queued: '#6a737d',
  unknown: '#6a737d',
};

export function xmlEscape(s: string): string {
  // Control characters are not allowed in XML 1.0 at all: they are dropped, on purpose.
  // eslint-disable-next-line no-control-regex
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`).replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '');
}

function textWidth(s: string): number {
  return Math.round([...s].length * 6.5 + 10);
}

export function renderBadge(label: string, status: Status): string {
  const shown = [...label].length > 40 ? `${[...label].slice(0, 39).join('')}…` : label;
  const lw = textWidth(shown);
  const rw = textWidth(status.label);
  const w = lw + rw;
  const colour = COLOURS[status.cls] ?? '#6a737d';
  const l = xmlEscape(shown);
  const r = xmlEscape(status.label);
  const title = xmlEscape(`${label}: ${status.label}`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="20" role="img" aria-label="${title}">
<title>${title}</title>
<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>
<clipPath id="r"><rect width="${w}" height="20" rx="3" fill="#fff"/></clipPath>
<g clip-path="url(#r)"><rect width="${lw}" height="20" fill="#555"/><rect x="${lw}" width="${rw}" height="20" fill="${colour}"/><rect width="${w}" height="20" fill="url(#s)"/></g>
<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">
<text x="${lw / 2}" y="14">${l}</text>
<text x="${lw + rw / 2}" y="14">${r}</text>
</g>
</svg>
`;
}
