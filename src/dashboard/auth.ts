/**
 * Who may see the dashboard. On 127.0.0.1 (the default) it is open to the machine's users; bound
 * to any other address it requires HTTP basic auth, with credentials from the environment.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

export type Credentials = Readonly<{ user: string; password: string }>;

export const USER_ENV = 'CIBQ_DASHBOARD_USER';
export const PASSWORD_ENV = 'CIBQ_DASHBOARD_PASSWORD';

/** Addresses reachable only from this machine that need no credentials. 127.0.0.2 and the like do. */
export function isLocalOnly(host: string): boolean {
  return host === '127.0.0.1' || host === '::1' || host === 'localhost';
}

/** Credentials from the environment, or null when neither variable is set; half a pair is an error. */
export function credentialsFromEnv(env: Readonly<Record<string, string | undefined>>): Credentials | null {
  const user = env[USER_ENV] ?? '';
  const password = env[PASSWORD_ENV] ?? '';
  if (user === '' && password === '') return null;
  if (user === '' || password === '') {
    throw new Error(`set both ${USER_ENV} and ${PASSWORD_ENV}, or neither`);
  }
  if (user.includes(':')) throw new Error(`${USER_ENV} must not contain ":" (basic auth separates user and password with it)`);
  return { user, password };
}

/** The reason a bind is refused, or null when it is allowed. */
export function bindRefusal(host: string, credentials: Credentials | null): string | null {
  if (isLocalOnly(host) || credentials !== null) return null;
  return `refusing to serve the dashboard on ${host} without a password: anyone who can reach it could see ` +
    `every queued run. Set ${USER_ENV} and ${PASSWORD_ENV} (basic auth), or bind to 127.0.0.1 and put a ` +
    'reverse proxy with authentication in front.';
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Compares in time independent of where the strings differ (and of their lengths, via digests). */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** Parses `Authorization: Basic …`; null when absent or malformed. */
export function parseBasicAuth(header: string | undefined): { user: string; password: string } | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m?.[1]) return null;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return null;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** Requires the credentials on every request except those `open` lets through. */
export function basicAuth(credentials: Credentials, open: (path: string) => boolean): MiddlewareHandler {
  return async (c, next) => {
    if (open(c.req.path)) return next();
    const given = parseBasicAuth(c.req.header('authorization'));
    // Both comparisons always run, so timing does not tell which half was wrong.
    const userOk = sameSecret(given?.user ?? '', credentials.user);
    const passwordOk = sameSecret(given?.password ?? '', credentials.password);
    if (given !== null && userOk && passwordOk) return next();
    return c.text('authentication required\n', 401, { 'WWW-Authenticate': 'Basic realm="cibq", charset="UTF-8"' });
  };
}
