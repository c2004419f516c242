import { type Db, pingDatabase, withTimeout } from './db';
import type { Metrics } from './metrics';
import { route, type RouteDef } from './routes';

export interface HealthDeps {
  db: Db;
  metrics: Metrics;
  isShuttingDown: () => boolean;
  sinkStatus: () => Promise<unknown> | unknown;
}

// /readyz answers within about this bound whatever the database does (pool acquire + statement).
const READY_CHECK_MS = 300;

export function healthRoutes(d: HealthDeps): RouteDef[] {
  return [
    // Cheap and dependency-free: the process is up and serving.
    route('get', '/healthz', 'public', (_req, res) => {
      res.json({ status: 'ok' });
    }),
    // Ready: not shutting down and the database answers; reports the Insights sink's state.
    route('get', '/readyz', 'public', async (_req, res) => {
      const checks: Record<string, string> = {};
      let ready = !d.isShuttingDown();
      checks.shutdown = ready ? 'no' : 'in progress';
      try {
        await pingDatabase(d.db, READY_CHECK_MS);
        checks.database = 'ok';
      } catch {
        checks.database = 'unreachable';
        ready = false;
      }
      let insights: unknown;
      try {
        insights = await withTimeout(Promise.resolve(d.sinkStatus()), READY_CHECK_MS, 'insights status');
      } catch {
        insights = { error: 'status unavailable' };
      }
      res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks, insights });
    }),
    route('get', '/metrics', 'public', async (_req, res) => {
      res.setHeader('Content-Type', d.metrics.registry.contentType);
      res.send(await d.metrics.registry.metrics());
    }),
  ];
}
