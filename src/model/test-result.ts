/**
 * The claim a node signs about a finished run (reference trust.md §2.1, §2.6): an in-toto Statement v1
 * whose subject is the repository's commit (`gitCommit`) and whose predicate is a Test Result
 * (PASSED/FAILED, the configuration that ran: the adapter and, for native runs, `.radicle/native.yaml`'s
 * `gitBlob`), with cibq's `radicle` extension (node did:key, job, run, times, the log's and every
 * artifact's sha256). Built here for the publisher; parsed here (zod, unknown fields kept) for
 * `cibq verify` and the agreement view from the exact bytes a signature covered.
 */
import { z } from 'zod';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const TEST_RESULT_TYPE = 'https://in-toto.io/attestation/test-result/v0.1';
export const ADAPTER_URI = 'https://radicle.xyz/cibq/adapter/';
export const NATIVE_CONFIG = '.radicle/native.yaml';

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const GitOid = z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/);
const Digest = z.looseObject({ sha256: Sha256.optional(), gitCommit: GitOid.optional(), gitBlob: GitOid.optional() });
const Descriptor = z.looseObject({
  name: z.string().optional(),
  uri: z.string().optional(),
  digest: Digest.optional(),
  annotations: z.record(z.string(), z.unknown()).optional(),
});
const FileDescriptor = Descriptor.extend({ name: z.string(), digest: Digest.extend({ sha256: Sha256 }) });

export const TestResultStatement = z.looseObject({
  _type: z.literal(STATEMENT_TYPE),
  subject: z.array(Descriptor).min(1),
  predicateType: z.literal(TEST_RESULT_TYPE),
  predicate: z.looseObject({
    result: z.enum(['PASSED', 'WARNED', 'FAILED']),
    configuration: z.array(Descriptor),
    url: z.string().optional(),
    radicle: z.looseObject({
      node: z.string().startsWith('did:key:'),
      job: z.string().optional(),
      run: z.string().optional(),
      startedOn: z.string().optional(),
      finishedOn: z.string().optional(),
      log: FileDescriptor.optional(),
      artifacts: z.array(FileDescriptor).optional(),
    }),
  }),
});
export type TestResultStatement = z.infer<typeof TestResultStatement>;

export type Artifact = { name: string; sha256: string; size: number; uri?: string };

export type RunClaim = {
  rid: string;
  commit: string;
  result: 'PASSED' | 'FAILED';
  /** did:key of the signing node. */
  node: string;
  /** The job COB id; null when the attestation is in the change that creates the job. */
  job: string | null;
  run: string;
  adapter: { name: string; version: string | null };
  /** The gitBlob of `.radicle/native.yaml` at the commit, for runs that execute it. */
  nativeConfigBlob: string | null;
  /** The log's public URL (the job's `log`). */
  url: string;
  startedOn: string | null;
  finishedOn: string;
  log: { name: string; uri: string | null; sha256: string } | null;
  artifacts: readonly Artifact[];
  tests: { passed: number; failed: number; warned: number } | null;
};

/** The Statement for a run, as a plain value (the caller serializes it as canonical JSON). */
export function testResultStatement(c: RunClaim): TestResultStatement {
  const configuration: TestResultStatement['predicate']['configuration'] = [];
  if (c.nativeConfigBlob !== null) configuration.push({ name: NATIVE_CONFIG, digest: { gitBlob: c.nativeConfigBlob } });
  configuration.push({
    name: 'adapter',
    uri: ADAPTER_URI + encodeURIComponent(c.adapter.name),
    ...(c.adapter.version !== null ? { annotations: { version: c.adapter.version } } : {}),
  });
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: c.rid, uri: c.rid, digest: { gitCommit: c.commit } }],
    predicateType: TEST_RESULT_TYPE,
    predicate: {
      result: c.result,
      configuration,
      url: c.url,
      ...(c.tests !== null ? { tests: c.tests } : {}),
      radicle: {
        node: c.node,
        ...(c.job !== null ? { job: c.job } : {}),
        run: c.run,
        ...(c.startedOn !== null ? { startedOn: c.startedOn } : {}),
        finishedOn: c.finishedOn,
        ...(c.log !== null
          ? { log: { name: c.log.name, ...(c.log.uri !== null ? { uri: c.log.uri } : {}), digest: { sha256: c.log.sha256 } } }
          : {}),
        artifacts: [...c.artifacts]
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
          .map((a) => ({ name: a.name, ...(a.uri ? { uri: a.uri } : {}), digest: { sha256: a.sha256 }, annotations: { size: a.size } })),
      },
    },
  };
}

/**
 * What runs are compared by (trust.md §3.2): the adapter (name, version) and the configuration file's
 * digest. Runs with different keys are shown apart, never compared.
 */
export function configurationKey(st: TestResultStatement): string {
  const parts = st.predicate.configuration.map((d) => {
    const version = d.annotations?.['version'];
    return [d.name ?? '', d.uri ?? '', d.digest?.gitBlob ?? d.digest?.sha256 ?? '', typeof version === 'string' ? version : ''].join('|');
  });
  return parts.sort().join(';');
}
