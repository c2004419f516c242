// The separate metrics listener (METRICS_PORT, on METRICS_HOST: loopback by default): /metrics and
// the detailed /readyz without a key, for a Prometheus scraper on the same host or network segment
// the operator chose. Nothing else is served here.
import express, { type Express } from 'express';
import type { HealthDeps } from './health-routes';
import { readiness } from './health-routes';

export function createMetricsApp(d: Omit<HealthDeps, 'isAdmin'>): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', async (_req, res, next) => {
    try {
      res.setHeader('Content-Type', d.metrics.registry.contentType);
      res.send(await d.metrics.registry.metrics());
    } catch (err) {
      next(err);
    }
  });
  app.get('/readyz', async (_req, res) => {
    const r = await readiness(d, true);
    res.status(r.status).json(r.body);
  });
  app.use((_req, res) => {
    res.status(404).json({ error: { code: 2015, message: 'Only /metrics and /readyz are served on the metrics port.' } });
  });
  return app;
}
