/**
 * The one shape every check in the test-side Radicle reader reports a problem in.
 *
 * The reader never throws on bad data it was asked to judge: it lists what is wrong, so a test can assert
 * "no violations" and print all of them at once when that fails. The severity says who cares:
 * - `rejected`: Radicle itself refuses or drops it (heartwood's loader, radicle-job's decoder, sigrefs
 *   verification, a fetching peer's validation). The job, the change or the namespace becomes invisible.
 * - `nonstandard`: Radicle accepts it, but heartwood's own writers never produce it and trust.md's recipe
 *   forbids it (parent order, canonical JSON, manifest bytes...). A cibq writer must not do it either.
 * - `attestation`: Radicle ignores it (embeds are opaque to radicle-job), but it breaks cibq's own
 *   signed-result contract (issue 9: DSSE envelope, in-toto statement, signer = change author).
 */

export type Severity = 'rejected' | 'nonstandard' | 'attestation';

export interface Violation {
  /** Stable, kebab-case identifier of the rule, e.g. `sshsig-armor-width`; tests match on it. */
  readonly code: string;
  readonly severity: Severity;
  /** Human explanation naming the offending value. */
  readonly message: string;
  /** Where: the job (COB object id), change (commit OID), namespace (NID) or sigrefs commit concerned. */
  readonly job?: string;
  readonly change?: string;
  readonly namespace?: string;
  readonly commit?: string;
}

/** Context fields added to every violation a sub-check reports (e.g. the change it was found in). */
export type ViolationContext = Pick<Violation, 'job' | 'change' | 'namespace' | 'commit'>;

/** A small accumulator so checks read as `v.reject(code, msg)` instead of pushing literals. */
export class Violations {
  readonly list: Violation[] = [];
  readonly #context: ViolationContext;

  constructor(context: ViolationContext = {}) {
    this.#context = context;
  }

  reject(code: string, message: string): void {
    this.list.push({ code, severity: 'rejected', message, ...this.#context });
  }

  nonstandard(code: string, message: string): void {
    this.list.push({ code, severity: 'nonstandard', message, ...this.#context });
  }

  attestation(code: string, message: string): void {
    this.list.push({ code, severity: 'attestation', message, ...this.#context });
  }

  add(violations: readonly Violation[]): void {
    for (const v of violations) this.list.push({ ...this.#context, ...v });
  }
}

/** Renders violations one per line, for assertion messages. */
export function formatViolations(violations: readonly Violation[]): string {
  return violations
    .map((v) => {
      const where = [v.job && `job ${v.job}`, v.change && `change ${v.change}`, v.namespace && `ns ${v.namespace}`]
        .filter(Boolean)
        .join(', ');
      return `[${v.severity}] ${v.code}: ${v.message}${where ? ` (${where})` : ''}`;
    })
    .join('\n');
}
