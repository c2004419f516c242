import type { Config } from '../config';
import type { Db } from '../platform/db';
import type { Logger } from '../platform/logger';
import type { Metrics } from '../platform/metrics';
import type { RouteDef } from '../platform/routes';
import type { InsightsSink } from './insights-sink';

export interface InsightsDeps {
  db: Db;
  config: Config;
  logger: Logger;
  metrics: Metrics;
}

export interface InsightsModule {
  routes: RouteDef[];
  sink: InsightsSink;
  /** Summary for /readyz and the status route. */
  status(): Promise<unknown>;
  /** Starts the relay (outbox -> Kafka) in the background. */
  start(): void;
  /** Flushes pending outbox writes and stops the relay after its current batch. */
  stop(): Promise<void>;
}

// PLACEHOLDER: the outbox, relay and admin connection routes are being built.
export function createInsightsModule(_deps: InsightsDeps): InsightsModule {
  return {
    routes: [],
    sink: { accept: async () => undefined },
    status: async () => ({ connected: false }),
    start: () => undefined,
    stop: async () => undefined,
  };
}
