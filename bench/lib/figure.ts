/** One row of the bench table, and how the table is printed. */

export type Figure = {
  /** Stable key in results.json. */
  id: string;
  figure: string;
  /** The limit or anchor the figure is held against, as measured in this run. */
  anchor: string;
  target: string;
  value: string;
  /** Null when the figure has no target of its own (context). */
  met: boolean | null;
  /** The raw numbers behind the row. */
  data: Record<string, number | string | null>;
};

export const MB = 1024 * 1024;
export const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function table(rows: readonly Figure[]): string {
  const head = ['figure', 'held against (this run)', 'target', 'measured', 'met'];
  const body = rows.map((r) => [r.figure, r.anchor, r.target, r.value, r.met === null ? '–' : r.met ? 'yes' : 'NO']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}
