/**
 * What a report is made with besides the database: versions, the clock, queue and worker counts
 * from Redis. The reporter gathers it; every page writer takes it as a plain value.
 */
import type { WorkerInfo } from '../../queue/worker-registry.ts';
import type { Agreement } from '../../signing/agreement.ts';

export type QueueCounts = { adapter: string; waiting: number; running: number };

/** What every node's signed runs say about a commit, as read from storage by the reporter. */
export type CommitAgreement = {
  agreement: Agreement;
  /** This node's did:key, or null when its key cannot be read. */
  self: string | null;
  /** Names (aliases) of nodes by did:key, shown instead of the shortened did:key. */
  names: ReadonlyMap<string, string>;
  /** This node's attestations (DSSE envelope lines) by run id. */
  envelopes: ReadonlyMap<string, string>;
};

export type ReportInfo = {
  /** cibq version, shown on pages and as `ci_broker_version`. */
  version: string;
  /** Jobs waiting in the queues (`event_queue_length`). */
  queueLength: number;
  /** The time the report is made. */
  now: Date;
  /** Publish runs of private repositories too (default false). */
  reportPrivate?: boolean;
  /** Whether runs of an adapter are published as job COBs: their pages say how to see the job. */
  jobCobs?: (adapter: string) => boolean;
  /** Every node's runs of a commit (the agreement view); absent: pages have no agreement section. */
  agreementFor?: (repo: string, commit: string) => Promise<CommitAgreement | null>;
  /** Node alias, appended to the title. */
  nodeAlias?: string;
  gitCommit?: string | null;
  brokerEventCounter?: number;
  latestBrokerEvent?: unknown;
  /** Jobs waiting and running per adapter queue, for index.html. */
  queues?: readonly QueueCounts[];
  /** Live workers, for index.html. */
  workers?: readonly WorkerInfo[];
};
