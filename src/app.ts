import express, { type Express } from 'express';
import { createAlgorithmsModule } from './algorithms/algorithms-module';
import type { Config } from './config';
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
import { mountRoutes, type RouteDef } from './platform/routes';
import { userRoutes } from './users/user-routes';
import { UserStore } from './users/user-store';

export interface AppDeps {
  config: Config;
  db: Db;
  logger: Logger;
  /** Where this service is reachable; known only after listen() when PORT=0. */
  baseUrl: () => string;
}

export interface Beacon {
  app: Express;
  routes: RouteDef[];
  metrics: Metrics;
  users: UserStore;
  insights: ReturnType<typeof createInsightsModule>;
  execution: ReturnType<typeof createExecutionModule>;
  /** Marks the service as shutting down: /readyz answers 503 from then on. */
  beginShutdown(): void;
}

/** The one composition root: stores, then services, then routes. Starts nothing and listens nowhere. */
export function createApp(deps: AppDeps): Beacon {
  const { config, db, logger, baseUrl } = deps;
  const metrics = createMetrics();
  const users = new UserStore(db);
  const authenticator = new Authenticator(users, config.jwt);
  const insights = createInsightsModule({ db, config, logger, metrics });
  const algorithms = createAlgorithmsModule({ db, users, baseUrl, logger, config });
  const execution = createExecutionModule({ db, config, logger, metrics, sink: insights.sink, baseUrl });
  let shuttingDown = false;

  const routes: RouteDef[] = [
    ...healthRoutes({ db, metrics, isShuttingDown: () => shuttingDown, sinkStatus: () => insights.cachedStatus() }),
    ...userRoutes(users, baseUrl),
    ...algorithms.routes,
    ...execution.routes,
    ...insights.routes,
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
  app.use(mountRoutes(routes, { authenticator, jsonLimit: '2mb' }));
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
    beginShutdown: () => {
      shuttingDown = true;
      for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
    },
  };
}
