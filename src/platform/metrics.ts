import type { NextFunction, Request, Response } from 'express';
import client from 'prom-client';

/** Prometheus metrics on a registry per app instance (tests build many apps in one process). */
export function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const httpDuration = new client.Histogram({
    name: 'beacon_http_request_duration_seconds',
    help: 'HTTP request durations by route',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const executions = new client.Counter({
    name: 'beacon_executions_total',
    help: 'Algorithm executions by algorithm and outcome',
    labelNames: ['algorithm', 'outcome'],
    registers: [registry],
  });
  const insightsPayloads = new client.Counter({
    name: 'beacon_insights_payloads_total',
    help: 'Insights payloads by stage: accepted (durable in the outbox), delivered (acked by Kafka), failed (a delivery attempt failed), dropped (overflow policy), set_aside (refused by the broker even alone)',
    labelNames: ['stage'],
    registers: [registry],
  });
  return {
    registry,
    executions,
    insightsPayloads,
    /** Gauges computed on scrape (worker pool sizes, backlog) register through this. */
    gauge(name: string, help: string, collect: () => Promise<number> | number, labelNames: string[] = []) {
      return new client.Gauge({
        name,
        help,
        labelNames,
        registers: [registry],
        async collect() {
          this.set(await collect());
        },
      });
    },
    httpMiddleware() {
      return (req: Request, res: Response, next: NextFunction) => {
        const end = httpDuration.startTimer();
        res.on('finish', () => {
          const route = (req.route?.path as string | undefined) ?? 'unmatched';
          end({ method: req.method, route, status: String(res.statusCode) });
        });
        next();
      };
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
