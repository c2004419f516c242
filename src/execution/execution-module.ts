import type { Config } from '../config';
import type { InsightsSink } from '../insights/insights-sink';
import type { Db } from '../platform/db';
import type { Logger } from '../platform/logger';
import type { Metrics } from '../platform/metrics';
import type { RouteDef } from '../platform/routes';

export interface ExecutionDeps {
  db: Db;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  sink: InsightsSink;
  baseUrl: () => string;
}

// PLACEHOLDER: /v1/algo and the worker pools are being built.
export function createExecutionModule(_deps: ExecutionDeps): { routes: RouteDef[]; close(): Promise<void> } {
  return { routes: [], close: async () => undefined };
}
