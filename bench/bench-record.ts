import { randomUUID } from 'node:crypto';
import type { InsightsRecord } from '../src/insights/insights-sink';

/** The Insights record the pipeline benchmarks feed to the sink: three metrics, ten algorithms. */
export const BENCH_ADMIN_KEY = 'simBenchAdminKey000000000000000';

export const benchRecord = (i: number): InsightsRecord => ({
  requestId: `req-${randomUUID()}`,
  sessionId: `rses-${randomUUID()}`,
  time: new Date(),
  durationMs: 8 + (i % 50),
  owner: 'bench',
  name: `algo${i % 10}`,
  version: '1.0.0',
  metrics: { risk_score: 0.2, approved: true, cats_detected: i % 7 },
});
