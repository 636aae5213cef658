/**
 * Secrets never leave the worker: every value of an adapter's `sensitive_env`, and its base64 and
 * URL-encoded forms, is replaced by `***` in the run's log and reason before they are published.
 */
export type Redactor = (text: string) => string;

/** Values shorter than this are not redacted: replacing "1" or "on" everywhere would garble logs. */
const MIN_SECRET_LENGTH = 4;

export function makeRedactor(secrets: readonly string[]): Redactor {
  const forms = new Set<string>();
  for (const s of secrets) {
    if (s.length < MIN_SECRET_LENGTH) continue;
    forms.add(s);
    forms.add(Buffer.from(s).toString('base64'));
    forms.add(Buffer.from(s).toString('base64').replace(/=+$/, ''));
    forms.add(Buffer.from(s).toString('base64url').replace(/=+$/, ''));
    forms.add(encodeURIComponent(s));
  }
  // Longest first, so a secret that contains another is replaced whole.
  const list = [...forms].filter((f) => f.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
  if (list.length === 0) return (t) => t;
  const pattern = new RegExp(list.map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return (text) => text.replace(pattern, '***');
}
