import client from 'prom-client';
import type { Config } from '../config';
import type { InsightsSink } from '../insights/insights-sink';
import type { Db } from '../platform/db';
import type { Logger } from '../platform/logger';
import type { Metrics } from '../platform/metrics';
import type { RouteDef } from '../platform/routes';
import { executionRoutes } from './execution-routes';
import { ExecutionService } from './execution-service';
import type { ExecutionError } from './error-log-store';
import { ExecutionStore } from './execution-store';
import { nestedCallRoutes } from './nested-call-route';
import { NestedCallService } from './nested-call-service';
import { WorkerPool } from './worker-pool';

export interface ExecutionDeps {
  db: Db;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  sink: InsightsSink;
  baseUrl: () => string;
  errors: { record(e: ExecutionError): Promise<void> };
}

export interface ExecutionModule {
  /** /v1/algo/..., and the workers' POST /worker/{token}/v1/insights and /worker/{token}/v1/algo/... */
  routes: RouteDef[];
  pool: WorkerPool;
  service: ExecutionService;
  /**
   * Gives output=void runs up to half the shutdown timeout to finish, then stops every worker (runs
   * still going end with a SystemError; their Insights records are still written).
   */
  close(): Promise<void>;
}

export function createExecutionModule(deps: ExecutionDeps): ExecutionModule {
  const { config, db, logger, metrics, sink, baseUrl } = deps;
  const w = config.workers;
  const pool = new WorkerPool({
    maxWorkersPerKey: w.maxPerVersion,
    maxWorkersTotal: w.maxTotal,
    idleTimeoutMs: w.idleTimeoutMs,
    workRoot: w.workRoot,
    callbackBaseUrl: baseUrl,
    pythonBin: w.pythonBin,
    rscriptBin: w.rscriptBin,
    memoryLimitMb: w.memoryLimitMb,
    maxOutputBytes: w.maxOutputBytes,
    maxResultBytes: w.maxResultBytes,
    logger,
  });
  const insightsLost = new client.Counter({
    name: 'beacon_execution_insights_lost_total',
    help: 'Executions of Insights-enabled versions whose payload the sink refused (answered anyway; payload lost)',
    registers: [metrics.registry],
  });
  metrics.gauge('beacon_worker_pool_workers', 'Algorithm worker processes, starting or running', () => pool.stats().workers);
  metrics.gauge('beacon_worker_pool_busy', 'Algorithm workers running (or starting for) a call', () => pool.stats().busy);
  metrics.gauge('beacon_worker_pool_idle', 'Warm algorithm workers waiting for a call', () => pool.stats().idle);

  const service = new ExecutionService({
    store: new ExecutionStore(db),
    errors: deps.errors,
    pool,
    sink,
    logger,
    counters: { executions: metrics.executions, insightsLost },
  });
  let closing: Promise<void> | undefined;
  return {
    routes: [...executionRoutes(service, pool), ...nestedCallRoutes(pool, new NestedCallService(service, config.nestedCalls))],
    pool,
    service,
    close() {
      closing ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, config.shutdownTimeoutMs / 2)));
        await Promise.race([service.drain(), grace]);
        clearTimeout(timer);
        await pool.close();
        await service.drain();
      })();
      return closing;
    },
  };
}
