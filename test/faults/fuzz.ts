/**
 * Seeded generators of bad input for the fault suite: node socket lines, adapter outputs and
 * configuration files. Seeded so a failure can be replayed (the seed is printed with the counts).
 */

/** mulberry32: small, fast, good enough to pick cases. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rand = ReturnType<typeof prng>;
export const int = (r: Rand, n: number): number => Math.floor(r() * n);
export const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)] as T;

const OID = (r: Rand) => Array.from({ length: 40 }, () => '0123456789abcdef'[int(r, 16)]).join('');
const WORDS = ['', ' ', 'x', 'refsFetched', '<script>alert(1)</script>', "'; rm -rf / #", '../../etc/passwd', '\u0000', '💥', 'é'];

export function randomString(r: Rand, max = 40): string {
  const n = int(r, max);
  let s = '';
  for (let i = 0; i < n; i++) s += r() < 0.8 ? String.fromCharCode(32 + int(r, 95)) : pick(r, WORDS);
  return s;
}

/** Any JSON value, nested up to `depth`. */
export function randomJson(r: Rand, depth = 3): unknown {
  const k = int(r, depth > 0 ? 8 : 5);
  switch (k) {
    case 0: return null;
    case 1: return r() < 0.5;
    case 2: return r() < 0.5 ? int(r, 1e9) - 5e8 : r() * 1e300;
    case 3: return randomString(r);
    case 4: return OID(r);
    case 5: return Array.from({ length: int(r, 4) }, () => randomJson(r, depth - 1));
    default: return Object.fromEntries(Array.from({ length: int(r, 4) }, () => [randomString(r, 10), randomJson(r, depth - 1)]));
  }
}

function validEvent(r: Rand): Record<string, unknown> {
  const rid = `rad:z${randomString(r, 10)}`;
  switch (int(r, 3)) {
    case 0: return { type: 'refsFetched', remote: 'z6Mk', rid, updated: [{ created: { name: 'refs/heads/x', oid: OID(r) } }] };
    case 1: return { type: 'localRefsAnnounced', rid, refs: { remote: 'z6Mk', at: OID(r) }, timestamp: 1 };
    default: return { type: 'canonicalRefUpdated', rid, refname: 'refs/heads/main', target: OID(r) };
  }
}

/** A field of a handled event replaced by a value of the wrong type. */
function wrongTypes(r: Rand): Record<string, unknown> {
  const e = validEvent(r);
  const keys = Object.keys(e).filter((k) => k !== 'type');
  const key = pick(r, keys);
  const v = randomJson(r, 2);
  const same = typeof v === typeof e[key] || (Array.isArray(v) && Array.isArray(e[key]));
  return { ...e, [key]: same ? (typeof v === 'number' ? String(v) : int(r, 100)) : v };
}

export type LineKind = 'half' | 'invalid-utf8' | 'unknown-type' | 'wrong-types' | 'not-object' | 'node-error' | 'no-type' | 'garbage';
const LINE_KINDS: LineKind[] = ['half', 'invalid-utf8', 'unknown-type', 'wrong-types', 'not-object', 'node-error', 'no-type', 'garbage'];

/** One bad socket line (without its newline), never blank and never a usable event. */
export function badNodeLine(r: Rand): { kind: LineKind; bytes: Buffer } {
  const kind = pick(r, LINE_KINDS);
  let text: string;
  switch (kind) {
    case 'half': {
      const full = JSON.stringify(validEvent(r));
      text = full.slice(0, 1 + int(r, full.length - 2));
      break;
    }
    case 'invalid-utf8': {
      const bytes = Buffer.from(Array.from({ length: 1 + int(r, 60) }, () => 0x80 + int(r, 0x80)));
      return { kind, bytes: Buffer.concat([Buffer.from('{"type":"refsFetched","rid":"'), bytes]) };
    }
    case 'unknown-type': text = JSON.stringify({ ...validEvent(r), type: `x${randomString(r, 12)}` }); break;
    case 'wrong-types': text = JSON.stringify(wrongTypes(r)); break;
    case 'not-object': text = JSON.stringify(pick(r, [42, 'str', [1, 2], null, true, -0.5])); break;
    case 'node-error': text = JSON.stringify({ error: randomString(r) || 'e' }); break;
    case 'no-type': text = JSON.stringify({ typ: 'refsFetched', data: randomJson(r, 2) }); break;
    default: text = `${randomString(r, 80)}}{`;
  }
  if (text.trim() === '') text = '{';
  return { kind, bytes: Buffer.from(text.replaceAll('\n', ' ')) };
}

const VALID_TRIGGERED = (r: Rand) => ({ response: 'triggered', run_id: { id: randomString(r, 20) }, ...(r() < 0.5 ? { info_url: r() < 0.5 ? null : 'https://ci.example/x' } : {}) });

export type AdapterCase = { output: Buffer; exit: number; expected: 'success' | 'failure' | 'error' };

/** One adapter stdout (and exit code) with the result it must give. */
export function adapterOutput(r: Rand): AdapterCase {
  const result = pick(r, ['success', 'failure'] as const);
  const valid = `${JSON.stringify(VALID_TRIGGERED(r))}\n${JSON.stringify({ response: 'finished', result })}\n`;
  const bad = (s: string | Buffer, exit = int(r, 3)): AdapterCase => ({ output: Buffer.isBuffer(s) ? s : Buffer.from(s), exit, expected: 'error' });
  switch (int(r, 10)) {
    case 0: return { output: Buffer.from(valid), exit: 0, expected: result };
    case 1: return bad(valid.slice(0, int(r, valid.length - 2)));
    case 2: return bad(Buffer.from(Array.from({ length: int(r, 300) }, () => int(r, 256))));
    case 3: return bad(`${JSON.stringify(VALID_TRIGGERED(r))}\n${JSON.stringify({ response: 'finished', result: randomJson(r, 1) })}\n`);
    case 4: return bad(`${JSON.stringify({ ...VALID_TRIGGERED(r), [randomString(r, 8) || 'k']: 1 })}\n`);
    case 5: return bad(`${valid}${JSON.stringify(randomJson(r))}\n`);
    case 6: return bad(`${JSON.stringify({ response: randomString(r, 10) })}\n`);
    case 7: return bad(`${JSON.stringify(randomJson(r))}\n${JSON.stringify(randomJson(r))}\n`);
    case 8: return r() < 0.1 ? bad(`{"response":"triggered","run_id":{"id":"${'x'.repeat(1024 * 1024 + 10)}`) : bad(`{"response":"triggered","run_id":{"id":"\u00e9\ud83d\udca5"}}`.slice(0, 30 + int(r, 10)));
    default: return bad(`${JSON.stringify({ response: 'finished', result })}\n${JSON.stringify(VALID_TRIGGERED(r))}\n`, 0);
  }
}

const CONFIG_KEYS = ['db', 'report_dir', 'default_adapter', 'adapters', 'filters', 'triggers', 'max_run_time', 'redis', 'node',
  'worker', 'supersede', 'kill_grace', 'drain_timeout', 'max_attempts', 'log_limit', 'keep_runs', 'report_private', 'bogus'];
const TAGS = ['!Branch', '!And', '!Or', '!Not', '!Allow', '!Deny', '!Brnch', '!PatchCreated', '!HasFile', '!Unknown'];

function yamlScalar(r: Rand): string {
  return pick(r, [JSON.stringify(randomString(r, 12)), String(int(r, 100) - 50), 'true', 'null', '~', '1h', '0s', '-1m', '1e999', '"1MiB"', '[]', '{}', '&a x', '*a']);
}

function yamlValue(r: Rand, depth: number): string {
  if (depth <= 0 || r() < 0.4) return yamlScalar(r);
  if (r() < 0.3) return `${pick(r, TAGS)} ${yamlScalar(r)}`;
  if (r() < 0.5) return `[ ${Array.from({ length: int(r, 3) }, () => yamlValue(r, depth - 1)).join(', ')} ]`;
  return `{ ${Array.from({ length: int(r, 3) }, () => `${pick(r, [...CONFIG_KEYS, 'command', 'url', 'tls', 'sentinels'])}: ${yamlValue(r, depth - 1)}`).join(', ')} }`;
}

/** A configuration file: random keys and values, sometimes broken YAML, sometimes an alias bomb. */
export function randomConfig(r: Rand): string {
  const k = int(r, 20);
  if (k === 0) return `a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n`;
  if (k === 1) return randomString(r, 200);
  const lines = Array.from({ length: 1 + int(r, 8) }, () => `${pick(r, CONFIG_KEYS)}: ${yamlValue(r, 3)}`);
  if (r() < 0.5) lines.push('db: x.db');
  if (r() < 0.3) lines.push(`adapters:\n  ${pick(r, ['a', 'b c', '../x', ''])}: { command: ${yamlScalar(r)}, ${pick(r, ['env', 'timeout', 'concurrency', 'nope'])}: ${yamlValue(r, 2)} }`);
  return `${lines.join('\n')}\n`;
}
