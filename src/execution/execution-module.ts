import client from 'prom-client';
import type { Config } from '../config';
import type { InsightsSink } from '../insights/insights-sink';
import type { Authenticator } from '../platform/auth';
import type { Db } from '../platform/db';
import type { Logger } from '../platform/logger';
import type { Metrics } from '../platform/metrics';
import type { RouteDef } from '../platform/routes';
import { CallbackServer, callbackSocketPath } from './callback-server';
import { executionRoutes } from './execution-routes';
import { ExecutionService } from './execution-service';
import type { ExecutionError } from './error-log-store';
import { ExecutionStore } from './execution-store';
import { nestedCallRoutes } from './nested-call-route';
import { NestedCallService } from './nested-call-service';
import { buildPoolSandbox } from './sandbox-host';
import { workerInsightsRoute } from './worker-insights-route';
import { WorkerPool } from './worker-pool';
import type { PoolSandbox } from './worker-sandbox';

export interface ExecutionDeps {
  db: Db;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  sink: InsightsSink;
  baseUrl: () => string;
  /** For worker-facing routes that authenticate a caller (none today). */
  authenticator?: Authenticator;
  errors: { record(e: ExecutionError): Promise<void> };
}

export interface ExecutionModule {
  /** /v1/algo/..., and the workers' POST /worker/{token}/v1/insights and /worker/{token}/v1/algo/... */
  routes: RouteDef[];
  /** The routes served to sandboxed workers on the callback Unix socket. */
  workerRoutes: RouteDef[];
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
  const refusedCallbacks = new client.Counter({
    name: 'beacon_worker_callbacks_refused_total',
    help: 'Worker callbacks (Insights reports) refused because their call token is unknown or the call has finished',
    registers: [metrics.registry],
  });
  // The routes workers reach from inside their sandbox; new worker routes belong in this list.
  let workerRoutes: RouteDef[] = [];
  const callback = new CallbackServer(callbackSocketPath(), workerRoutes, {
    authenticator: deps.authenticator ?? ({} as Authenticator),
    logger,
  });
  const sandbox = w.sandbox === 'on' ? buildSandbox(config, callback, logger) : undefined;
  if (w.sandbox === 'off') {
    logger.warn('WORKER_SANDBOX=off: algorithm code runs WITHOUT a sandbox and can reach this host\'s network, files and processes (unsafe)');
  }
  const pool = new WorkerPool({
    maxWorkersPerKey: w.maxPerVersion,
    maxWorkersTotal: w.maxTotal,
    maxBusyPerCaller: w.maxPerUser,
    maxWaitingPerKey: w.maxWaitingPerVersion,
    idleTimeoutMs: w.idleTimeoutMs,
    workRoot: w.workRoot,
    callbackBaseUrl: baseUrl,
    pythonBin: w.pythonBin,
    rscriptBin: w.rscriptBin,
    memoryLimitMb: w.memoryLimitMb,
    maxOutputBytes: w.maxOutputBytes,
    maxResultBytes: w.maxResultBytes,
    logger,
    sandbox: sandbox && 'sandbox' in sandbox ? sandbox.sandbox : undefined,
    refuse: sandbox && 'refuse' in sandbox ? sandbox.refuse : undefined,
    onRefusedCallback: () => refusedCallbacks.inc(),
  });
  const insightsLost = new client.Counter({
    name: 'beacon_execution_insights_lost_total',
    help: 'Executions of Insights-enabled versions whose payload the sink refused (answered anyway; payload lost)',
    registers: [metrics.registry],
  });
  metrics.gauge('beacon_worker_pool_workers', 'Algorithm worker processes, starting or running', () => pool.stats().workers);
  metrics.gauge('beacon_worker_pool_busy', 'Algorithm workers running (or starting for) a call', () => pool.stats().busy);
  metrics.gauge('beacon_worker_pool_idle', 'Warm algorithm workers waiting for a call', () => pool.stats().idle);
  metrics.gauge('beacon_worker_pool_waiting', 'Calls waiting for a worker', () => pool.stats().waiting);
  metrics.gauge('beacon_background_runs', 'output=void runs in progress', () => service.backgroundCount());

  const service = new ExecutionService({
    store: new ExecutionStore(db),
    errors: deps.errors,
    pool,
    sink,
    logger,
    counters: { executions: metrics.executions, insightsLost },
    backgroundLimits: { perCaller: w.backgroundPerUser, total: w.backgroundTotal },
  });
  // Unsandboxed workers reach these on the service's port; sandboxed ones on the callback socket.
  const nested = nestedCallRoutes(pool, new NestedCallService(service, config.nestedCalls));
  workerRoutes = [workerInsightsRoute(pool), ...nested];
  callback.setRoutes(workerRoutes);
  let closing: Promise<void> | undefined;
  return {
    routes: [...executionRoutes(service, pool), ...nested],
    workerRoutes,
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
        // Last: every execution has drained, so no call can still be reporting.
        await callback.close();
      })();
      return closing;
    },
  };
}

/** The pool's sandbox, or why it cannot be built on this host (then every call is refused). */
function buildSandbox(config: Config, callback: CallbackServer, logger: Logger): { sandbox: PoolSandbox } | { refuse: string } {
  const built = buildPoolSandbox(config.workers, callback);
  if ('sandbox' in built) return built;
  logger.error({ missing: built.missing }, 'algorithm execution is disabled: the worker sandbox cannot be built');
  const refuse = `the worker sandbox cannot be built on this host; missing: ${built.missing.join('; ')}. Install them (scripts/setup-system.sh) or set WORKER_SANDBOX=off to run algorithms unsandboxed (unsafe)`;
  return { refuse };
}
