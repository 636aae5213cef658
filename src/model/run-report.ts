/**
 * What an adapter may tell cibq about a run beyond the protocol's success/failure, by writing JSON to
 * the file `CIBQ_RESULT_FILE` names (issue 9): the artifacts it produced, each with its sha256 and
 * size, its own version, and test counts. The file is adapter output, so it is parsed here at the
 * boundary; adapters that never write it lose nothing. The report travels in the run's finished
 * update so the publisher can attest the artifacts.
 */
import { z } from 'zod';

const Count = z.number().int().min(0);

export const RunReport = z.looseObject({
  artifacts: z
    .array(
      z.looseObject({
        name: z.string().min(1).max(500),
        sha256: z.string().regex(/^[0-9a-f]{64}$/, 'lower-case hex sha256'),
        size: z.number().int().min(0),
      }),
    )
    .max(10_000)
    .optional(),
  adapter_version: z.string().max(200).optional(),
  tests: z.looseObject({ passed: Count.optional(), failed: Count.optional(), warned: Count.optional() }).optional(),
});
export type RunReport = z.infer<typeof RunReport>;

/** The fields of a report cibq keeps (unknown ones are dropped before the report travels on). */
export function keptReport(r: RunReport): RunReport {
  return {
    ...(r.artifacts ? { artifacts: r.artifacts.map((a) => ({ name: a.name, sha256: a.sha256, size: a.size })) } : {}),
    ...(r.adapter_version !== undefined ? { adapter_version: r.adapter_version } : {}),
    ...(r.tests ? { tests: { passed: r.tests.passed ?? 0, failed: r.tests.failed ?? 0, warned: r.tests.warned ?? 0 } } : {}),
  };
}
