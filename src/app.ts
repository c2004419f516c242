import express, { type Express } from 'express';
import { createAlgorithmsModule } from './algorithms/algorithms-module';
import type { Config } from './config';
import { ErrorLogStore } from './execution/error-log-store';
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
  /** Marks the service as shutting down: /readyz answers 503 from then on. */
  beginShutdown(): void;
}

/** The one composition root: stores, then services, then routes. Starts nothing and listens nowhere. */
export function createApp(deps: AppDeps): Beacon {
  const { config, db, logger, baseUrl } = deps;
  const localUrl = deps.localUrl ?? baseUrl;
  const metrics = createMetrics();
  const users = new UserStore(db);
  const authenticator = new Authenticator(users, config.jwt);
  const insights = createInsightsModule({ db, config, logger, metrics });
  const errors = new ErrorLogStore(db);
  const algorithms = createAlgorithmsModule({ db, users, baseUrl, localUrl, logger, config, authenticator, errors });
  const execution = createExecutionModule({ db, config, logger, metrics, sink: insights.sink, baseUrl, errors });
  let shuttingDown = false;

  const routes: RouteDef[] = [
    ...healthRoutes({ db, metrics, isShuttingDown: () => shuttingDown, sinkStatus: () => insights.status() }),
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
