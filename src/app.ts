import express, { type Express } from 'express';
import { join } from 'node:path';
import { createAlgorithmsModule } from './algorithms/algorithms-module';
import type { Config } from './config';
import { consoleRouter } from './console/console-router';
import { openapiRoutes } from './console/openapi-routes';
import { ErrorLogStore } from './execution/error-log-store';
import { defaultRuntimesDir } from './execution/languages';
import { createExecutionModule } from './execution/execution-module';
import { createInsightsModule } from './insights/insights-module';
import { Authenticator } from './platform/auth';
import type { Db } from './platform/db';
import { errorHandler } from './platform/error-handler';
import { ApiError, ErrorCode } from './platform/errors';
import { healthRoutes } from './platform/health-routes';
import { newRequestId } from './platform/ids';
import { accessLog, type Logger } from './platform/logger';
import { createMetrics, type Metrics } from './platform/metrics';
import { createMetricsApp } from './platform/metrics-app';
import { loadOpenApiDocument } from './platform/openapi-document';
import { mountRoutes, type RouteDef } from './platform/routes';
import { contractValidator } from './platform/spec-validate';
import { urlHygiene } from './platform/text-hygiene';
import { userRoutes } from './users/user-routes';
import { UserStore } from './users/user-store';
import { whoamiRoutes } from './users/whoami-routes';

export interface AppDeps {
  config: Config;
  db: Db;
  logger: Logger;
  /** Where this service is reachable; known only after listen() when PORT=0. */
  baseUrl: () => string;
  /**
   * This process itself, for callbacks that must reach this replica and no other (git push hooks);
   * defaults to baseUrl. Behind a load balancer, PUBLIC_URL would reach any replica.
   */
  localUrl?: () => string;
}

export interface Beacon {
  app: Express;
  routes: RouteDef[];
  metrics: Metrics;
  users: UserStore;
  insights: ReturnType<typeof createInsightsModule>;
  execution: ReturnType<typeof createExecutionModule>;
  /** /metrics and the detailed /readyz without a key: main.ts serves it on METRICS_PORT when set. */
  metricsApp: Express;
  /** Start-up recovery after a crash: interrupted builds fail, leftover worker folders and uids are swept. */
  recover(): Promise<void>;
  /** Marks the service as shutting down: /readyz answers 503 from then on. */
  beginShutdown(): void;
}

/** The one composition root: stores, then services, then routes. Starts nothing and listens nowhere. */
export function createApp(deps: AppDeps): Beacon {
  const { config, db, logger, baseUrl } = deps;
  const localUrl = deps.localUrl ?? baseUrl;
  const metrics = createMetrics();
  const users = new UserStore(db);
  const authenticator = new Authenticator(users, config.jwt, config.authCacheTtlMs);
  const insights = createInsightsModule({ db, config, logger, metrics });
  const errors = new ErrorLogStore(db);
  const gitHookScript = join(defaultRuntimesDir(), 'git', 'hook.js');
  const algorithms = createAlgorithmsModule({ db, users, baseUrl, localUrl, logger, config, authenticator, errors, gitHookScript });
  const execution = createExecutionModule({ db, config, logger, metrics, sink: insights.sink, baseUrl, authenticator, errors });
  let shuttingDown = false;

  const health = { db, metrics, isShuttingDown: () => shuttingDown, sinkStatus: () => insights.cachedStatus() };
  const isAdmin = async (req: express.Request) => {
    if (!req.header('authorization')) return false;
    const p = await authenticator.authenticate(req.header('authorization')).catch(() => undefined);
    return p?.keyType === 'PlatformAdminKey';
  };
  const routes: RouteDef[] = [
    ...healthRoutes({ ...health, isAdmin }),
    ...userRoutes(users, baseUrl, (hashes) => authenticator.forget(hashes)),
    ...algorithms.routes,
    ...execution.routes,
    ...insights.routes,
    ...whoamiRoutes(),
    ...openapiRoutes(loadOpenApiDocument()),
  ];

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  // In-flight responses, so that shutdown can ask every keep-alive client to go away after its answer.
  const inFlight = new Set<express.Response>();
  app.use((req, res, next) => {
    req.requestId = newRequestId();
    res.setHeader('X-Request-Id', req.requestId);
    if (shuttingDown) res.setHeader('Connection', 'close');
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
    next();
  });
  app.use(metrics.httpMiddleware());
  app.use(accessLog(logger));
  app.use(urlHygiene());
  // Every route's parameters and JSON body are checked against openapi.yaml (compiled here, at start-up).
  app.use(mountRoutes(routes, { authenticator, jsonLimit: '2mb', spec: contractValidator() }));
  app.use(consoleRouter()); // the web console (static files; it calls the API above like any client)
  app.use((req) => {
    throw new ApiError(404, ErrorCode.InvalidRequest, `No route for ${req.method} ${req.path}`);
  });
  app.use(errorHandler(logger));

  return {
    app,
    routes,
    metrics,
    users,
    insights,
    execution,
    metricsApp: createMetricsApp(health),
    async recover() {
      await algorithms.recoverInterruptedBuilds();
      const swept = await execution.pool.sweepLeftovers();
      if (swept.folders || swept.uids) logger.warn(swept, 'worker folders and uid claims left by an earlier run were swept');
    },
    beginShutdown: () => {
      shuttingDown = true;
      for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
    },
  };
}
