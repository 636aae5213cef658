/**
 * `<state>/<run id>/log.html`: what one run did, for the person who follows the broker's info_url.
 * Everything in it that a peer or the script wrote (branch, patch title, output) is HTML-escaped;
 * a script printing `<script>` shows that text. Big logs show their head and tail; log.txt beside
 * it has everything.
 */
import type { Artifact } from './artifacts.ts';

export type RunPage = {
  runId: string;
  repoName: string;
  rid: string;
  commit: string;
  what: string;
  result: 'success' | 'failure' | 'error';
  reason: string | null;
  exitCode: number | null;
  durationMs: number | null;
  startedAt: string;
  finishedAt: string;
  sandbox: string;
  runspecBlob: string | null;
  artifacts: readonly Artifact[];
  /** The run's output (the same text as log.txt), possibly cut in the middle. */
  log: string;
};

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** Terminal colour and cursor sequences say nothing on a page. */
function withoutAnsi(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;?]*[ -/]*[@-~]/g, '');
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 100) / 10;
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

const STYLE = `body{font:15px/1.45 system-ui,sans-serif;margin:1.5rem auto;max-width:72rem;padding:0 1rem;color:#1b1f24}
h1{font-size:1.35rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
.result{padding:.1rem .5rem;border-radius:.3rem;color:#fff}.success{background:#1a7f37}.failure{background:#cf222e}.error{background:#9a6700}
code,pre{font:13px/1.4 ui-monospace,monospace}pre.log{background:#f6f8fa;border:1px solid #d0d7de;padding:.75rem;overflow-x:auto;white-space:pre-wrap}
table{border-collapse:collapse}td,th{border-bottom:1px solid #d0d7de;padding:.2rem .6rem;text-align:left}`;

export function renderLogPage(p: RunPage): string {
  const e = escapeHtml;
  const row = (dt: string, dd: string, cls: string): string => `<dt>${dt}</dt><dd class="${cls}">${dd}</dd>\n`;
  const artifacts = p.artifacts.length === 0
    ? '<p class="no-artifacts">None.</p>'
    : `<table class="artifacts"><tr><th>File</th><th>SHA-256</th><th>Bytes</th></tr>\n${p.artifacts
        .map((a) => `<tr><td><a href="artifacts/${a.name.split('/').map(encodeURIComponent).join('/')}">${e(a.name)}</a></td><td><code>${a.sha256}</code></td><td>${a.size}</td></tr>`)
        .join('\n')}</table>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(p.repoName || p.rid)} ${p.commit.slice(0, 8)}: ${p.result}</title><style>${STYLE}</style></head>
<body>
<h1>cibq-native run <code class="run-id">${e(p.runId)}</code> <span class="result ${p.result}">${p.result}</span></h1>
<dl class="facts">
${row('Repository', `${e(p.repoName)} <code>${e(p.rid)}</code>`, 'repo')}${row('Built', e(p.what), 'what')}${row('Commit', `<code>${p.commit}</code>`, 'commit')}${row('Result', p.result, 'result-text')}${p.reason === null ? '' : row('Why', e(p.reason), 'reason')}${row('Exit code', p.exitCode === null ? '—' : String(p.exitCode), 'exit-code')}${row('Duration', p.durationMs === null ? '—' : formatMs(p.durationMs), 'duration')}${row('Started', e(p.startedAt), 'started')}${row('Finished', e(p.finishedAt), 'finished')}${row('Sandboxed', e(p.sandbox), 'sandbox')}${row('Run spec', p.runspecBlob === null ? '—' : `.radicle/native.yaml, blob <code>${p.runspecBlob}</code>`, 'runspec')}</dl>
<h2>Artifacts</h2>
${artifacts}
<h2>Log</h2>
<p><a href="log.txt">log.txt</a></p>
<pre class="log">${e(withoutAnsi(p.log))}</pre>
</body></html>
`;
}
