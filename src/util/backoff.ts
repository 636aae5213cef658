/**
 * Capped exponential backoff, the one formula every retry loop in cibq uses (the node socket, Redis
 * reconnects, the reporter's and publisher's read loops): `min · 2^failures`, at most `max`.
 */
export type Backoff = Readonly<{ minMs: number; maxMs: number }>;

/** The delay before retry number `failures` (0 for the first retry). */
export function backoffDelay(failures: number, b: Backoff): number {
  // The exponent is capped so that 2 ** n stays a small finite number for any failure count.
  return Math.min(b.maxMs, b.minMs * 2 ** Math.min(Math.max(0, failures), 30));
}
