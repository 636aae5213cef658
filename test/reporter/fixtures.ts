/** Run subjects and updates for reporter tests. */
import type { RunSubject, RunUpdate } from '../../src/model/run.ts';

export const RID_A = 'rad:z3gqcJUoA1n9HaHKufZs5FCSGazv5';
export const RID_B = 'rad:z2u2CP3ZJzB7ZqE8jHrau19yjcfCQ';
export const RID_PRIVATE = 'rad:z4V1sjrXqjvFdnCUbxPFqd5p4DtH5';

export function subject(over: Partial<RunSubject> = {}): RunSubject {
  return {
    id: 'run-1',
    adapter: 'native',
    repo: RID_A,
    repo_name: 'heartwood',
    event_type: 'push',
    ref: 'refs/namespaces/z6MkiB8T5cBEQHnrs2MgjMVqvpSVj42X81HjKfFi2XBoMbtr/refs/heads/main',
    patch: null,
    title: null,
    author: 'did:key:z6MkiB8T5cBEQHnrs2MgjMVqvpSVj42X81HjKfFi2XBoMbtr',
    commit: 'c'.repeat(40),
    private: false,
    queued_at: '2024-05-01T10:00:00Z',
    ...over,
  };
}

/** Any update, unchecked, as a stream could hold it (tests feed odd combinations on purpose). */
export function update(s: RunSubject, state: RunUpdate['state'], at: string, extra: Record<string, unknown> = {}): RunUpdate {
  return { subject: s, state, at, ...extra } as RunUpdate;
}
