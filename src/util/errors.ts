/**
 * The small, closed set of error classes callers route on (by class, never by message text).
 * Build failures are values, not exceptions; these are for bad input and bad invocations.
 */

export type ConfigIssue = Readonly<{
  /** Key path inside the configuration, e.g. `adapters.native.command` or `filters[0].And[1]`; '' for the whole file. */
  path: string;
  message: string;
}>;

/** The configuration (or a filter file) is invalid; `issues` lists every problem found, not just the first. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly issues: readonly ConfigIssue[];
  /** The file the configuration came from, when known. */
  readonly file: string | null;

  constructor(issues: readonly ConfigIssue[], file: string | null = null, options?: ErrorOptions) {
    const first = issues[0];
    const where = file === null ? '' : ` in ${file}`;
    const head = first === undefined ? 'invalid configuration' : issueText(first);
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super(`invalid configuration${where}: ${head}${more}`, options);
    this.issues = Object.freeze([...issues]);
    this.file = file;
  }
}

/** The command line was wrong (unknown subcommand, missing argument, bad flag value). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A one-shot command could not reach Redis (the services retry instead). */
export class RedisUnavailable extends Error {
  override readonly name = 'RedisUnavailable';
}

/** A one-shot command could not reach the node's control socket. */
export class NodeUnavailable extends Error {
  override readonly name = 'NodeUnavailable';
}

export function issueText(issue: ConfigIssue): string {
  return issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`;
}
