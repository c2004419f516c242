// The one interface between executions and the Insights pipeline. Execution produces a typed record;
// only the outbox and the Kafka code know how it travels.

export type MetricValue = number | boolean;

export interface InsightsRecord {
  requestId: string; // req-<uuid>; also the CloudEvents ce_id
  sessionId: string; // rses-<uuid> of the worker session
  time: Date; // when the execution started
  durationMs: number;
  owner: string;
  name: string;
  version: string; // semantic version, or the build hash for an unpublished build
  metrics: Record<string, MetricValue>;
  /**
   * Optional further operational fields (e.g. `parent_request_id` of a nested call), written after
   * the standard ones; a reported metric of the same name is left out, the operational field wins.
   */
  extra?: Readonly<Record<string, string | number>>;
}

export interface InsightsSink {
  /** Resolves once the record is durable (it will reach Kafka even across restarts); rejects otherwise. */
  accept(record: InsightsRecord): Promise<void>;
}
