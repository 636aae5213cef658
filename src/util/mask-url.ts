/**
 * URLs with credentials, made safe for logs, errors and pages: the password (in the authority or
 * as a `password` query parameter) becomes `***`. Text that is not a URL at all is replaced whole:
 * there is no telling which part of it is secret.
 */

/** `redis://user:secret@host:6379/0` → `redis://user:***@host:6379/0`. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    if (u.searchParams.has('password')) u.searchParams.set('password', '***');
    return u.href;
  } catch {
    return '***';
  }
}
