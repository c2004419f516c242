// Probes and metrics. /healthz and the bare /readyz status are open (load balancers and kubelets
// call them without credentials). What reveals the inside (the checks, the Insights relay's last
// error, /metrics with algorithm names) needs a PlatformAdminKey, or is served on the separate,
// loopback-only metrics listener (METRICS_PORT/METRICS_HOST) where no key is asked.
import type { Request } from 'express';
import { type Db, pingDatabase, withTimeout } from './db';
import type { Metrics } from './metrics';
import { route, type RouteDef } from './routes';

export interface HealthDeps {
  db: Db;
  metrics: Metrics;
  isShuttingDown: () => boolean;
  sinkStatus: () => Promise<unknown> | unknown;
  /** Whether the request carries a PlatformAdminKey (never throws). */
  isAdmin: (req: Request) => Promise<boolean>;
}

// /readyz answers within about this bound whatever the database does (pool acquire + statement).
const READY_CHECK_MS = 300;

/** The readiness answer; the detail only for those who may see it. */
export async function readiness(d: Omit<HealthDeps, 'isAdmin'>, detail: boolean): Promise<{ status: number; body: Record<string, unknown> }> {
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
  const status = ready ? 'ready' : 'not ready';
  if (!detail) return { status: ready ? 200 : 503, body: { status } };
  let insights: unknown;
  try {
    insights = await withTimeout(Promise.resolve(d.sinkStatus()), READY_CHECK_MS, 'insights status');
  } catch {
    insights = { error: 'status unavailable' };
  }
  return { status: ready ? 200 : 503, body: { status, checks, insights } };
}

export function healthRoutes(d: HealthDeps): RouteDef[] {
  return [
    // Cheap and dependency-free: the process is up and serving.
    route('get', '/healthz', 'public', (_req, res) => {
      res.json({ status: 'ok' });
    }),
    // Ready: not shutting down and the database answers. Checks and the Insights sink's state
    // only with a PlatformAdminKey.
    route('get', '/readyz', 'public', async (req, res) => {
      // Telling an admin key needs the database too (when not cached): bounded like the checks.
      const detail = await withTimeout(d.isAdmin(req), READY_CHECK_MS, 'authentication').catch(() => false);
      const r = await readiness(d, detail);
      res.status(r.status).json(r.body);
    }),
    route('get', '/metrics', 'admin', async (_req, res) => {
      res.setHeader('Content-Type', d.metrics.registry.contentType);
      res.send(await d.metrics.registry.metrics());
    }),
  ];
}
