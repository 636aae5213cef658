/**
 * The in-toto Statement v1 with the Test Result predicate, as cibq must attest a finished run
 * (trust.md §2.1 and §2.6; issue 9), parsed with zod from the exact bytes a DSSE signature covered.
 *
 * Sources: in-toto/attestation `spec/v1/statement.md`, `resource_descriptor.md`, `digest_set.md`,
 * `spec/predicates/test-result.md`. Unknown fields are allowed everywhere ("consumers MUST ignore
 * unrecognized fields"); the `radicle` object is cibq's extension field built from ResourceDescriptors.
 */
import { z } from 'zod';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const TEST_RESULT_TYPE = 'https://in-toto.io/attestation/test-result/v0.1';

const hex = (lengths: readonly number[]) =>
  z.string().refine((s) => /^[0-9a-f]+$/.test(s) && lengths.includes(s.length), `lower-case hex of length ${lengths.join('|')}`);

/** DigestSet: algorithm → lower-case hex; git digests are SHA-1 or SHA-256 object ids. */
export const DigestSet = z
  .looseObject({ sha256: hex([64]).optional(), gitCommit: hex([40, 64]).optional(), gitBlob: hex([40, 64]).optional() })
  .refine((d) => Object.keys(d).length > 0, 'a digest set names at least one digest');

export const ResourceDescriptor = z
  .looseObject({
    name: z.string().optional(),
    uri: z.string().optional(),
    digest: DigestSet.optional(),
    content: z.string().optional(),
    annotations: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((r) => r.uri !== undefined || r.digest !== undefined || r.content !== undefined, 'needs uri, digest or content');
export type ResourceDescriptor = z.infer<typeof ResourceDescriptor>;

const Sha256Descriptor = ResourceDescriptor.and(z.looseObject({ digest: z.looseObject({ sha256: hex([64]) }) }));

/** cibq's extension inside the Test Result predicate (trust.md §2.6). */
export const RadicleExtension = z.looseObject({
  node: z.string().startsWith('did:key:'),
  job: hex([40, 64]).optional(),
  run: z.string().optional(),
  startedOn: z.iso.datetime().optional(),
  finishedOn: z.iso.datetime().optional(),
  log: Sha256Descriptor.optional(),
  artifacts: z.array(Sha256Descriptor).optional(),
});

export const TestResultPredicate = z.looseObject({
  result: z.enum(['PASSED', 'WARNED', 'FAILED']),
  configuration: z.array(ResourceDescriptor),
  url: z.string().optional(),
  passedTests: z.array(z.string()).optional(),
  warnedTests: z.array(z.string()).optional(),
  failedTests: z.array(z.string()).optional(),
  radicle: RadicleExtension,
});
export type TestResultPredicate = z.infer<typeof TestResultPredicate>;

export const Statement = z.looseObject({
  _type: z.literal(STATEMENT_TYPE),
  subject: z.array(ResourceDescriptor).min(1),
  predicateType: z.string(),
  predicate: z.record(z.string(), z.unknown()).optional(),
});
export type Statement = z.infer<typeof Statement>;

/** A Statement whose predicate is a Test Result with cibq's `radicle` extension. */
export interface TestResultStatement extends Statement {
  readonly predicate: TestResultPredicate;
}

export type StatementParse =
  | { readonly ok: true; readonly statement: TestResultStatement }
  | { readonly ok: false; readonly error: string };

/** Parses statement JSON (already-verified bytes) as a Test Result statement. */
export function parseTestResultStatement(json: unknown): StatementParse {
  const st = Statement.safeParse(json);
  if (!st.success) return { ok: false, error: `statement: ${z.prettifyError(st.error)}` };
  if (st.data.predicateType !== TEST_RESULT_TYPE) {
    return { ok: false, error: `predicateType ${st.data.predicateType}, expected ${TEST_RESULT_TYPE}` };
  }
  const pred = TestResultPredicate.safeParse(st.data.predicate);
  if (!pred.success) return { ok: false, error: `test-result predicate: ${z.prettifyError(pred.error)}` };
  return { ok: true, statement: { ...st.data, predicate: pred.data } };
}
