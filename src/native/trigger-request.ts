/**
 * The trigger line cibq-native reads (reference cib.md §4.2), parsed at the boundary. Lenient where
 * the protocol's producers differ (cib 0.7 sends short or empty branch names, newer brokers may add
 * fields): only what a run needs is required, and every value that later names a path or a git
 * object (the repository id, the commit) is checked here, so nothing a peer wrote is interpreted.
 */
import { z } from 'zod';
import { Oid, Rid } from '../model/ci-event.ts';
import { parseJson } from '../util/parse-json.ts';

export type TriggerFacts = Readonly<{
  rid: string;
  repoName: string;
  eventType: 'push' | 'patch';
  commit: string;
  /** The pushed ref as the broker sent it (cibq: full ref; cib: may be the bare branch name). */
  ref: string | null;
  /** Branch name of a push to a branch, tag name of a tag, else null. */
  branch: string | null;
  tag: string | null;
  patchId: string | null;
  patchTitle: string | null;
}>;

const Repository = z.looseObject({ id: Rid, name: z.string().default('') });

const Push = z.looseObject({
  request: z.literal('trigger'),
  version: z.literal(1),
  event_type: z.literal('push'),
  repository: Repository,
  branch: z.string().default(''),
  after: Oid.optional(),
  commits: z.array(Oid).default([]),
});

const Patch = z.looseObject({
  request: z.literal('trigger'),
  version: z.literal(1),
  event_type: z.literal('patch'),
  repository: Repository,
  patch: z.looseObject({
    id: Oid,
    title: z.string().default(''),
    after: Oid.optional(),
    commits: z.array(Oid).default([]),
  }),
});

const Request = z.discriminatedUnion('event_type', [Push, Patch]);

export type ParsedTrigger = { ok: true; facts: TriggerFacts } | { ok: false; reason: string };

/** Branch or tag name from `refs/namespaces/<nid>/refs/heads/<b>`, `refs/heads/<b>` or a bare `<b>`. */
function refNames(ref: string): { branch: string | null; tag: string | null } {
  const rest = ref.replace(/^refs\/namespaces\/[^/]+\//, '');
  if (rest.startsWith('refs/heads/')) return { branch: rest.slice('refs/heads/'.length), tag: null };
  if (rest.startsWith('refs/tags/')) return { branch: null, tag: rest.slice('refs/tags/'.length) };
  if (rest === '' || rest.startsWith('refs/')) return { branch: null, tag: null };
  return { branch: rest, tag: null };
}

export function parseTriggerLine(line: string): ParsedTrigger {
  const r = parseJson(Request, line);
  if (!r.success) {
    const why = r.error.issues.map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`).join('; ');
    return { ok: false, reason: `not a trigger request: ${why}` };
  }
  const m = r.data;
  // The commit to build is commits[0], as cib's Request::commit(); `after` when a broker sends none.
  const commit = m.event_type === 'push' ? (m.commits[0] ?? m.after) : (m.patch.commits[0] ?? m.patch.after);
  if (commit === undefined) return { ok: false, reason: 'the trigger request names no commit (commits is empty)' };
  if (m.event_type === 'push') {
    return {
      ok: true,
      facts: { rid: m.repository.id, repoName: m.repository.name, eventType: 'push', commit, ref: m.branch === '' ? null : m.branch, ...refNames(m.branch), patchId: null, patchTitle: null },
    };
  }
  return {
    ok: true,
    facts: { rid: m.repository.id, repoName: m.repository.name, eventType: 'patch', commit, ref: null, branch: null, tag: null, patchId: m.patch.id, patchTitle: m.patch.title },
  };
}
