// Fault tier: the common stage for the scenarios that run Beacon in-process: a fresh topic, a Beacon
// on a fresh database with its relay running and its Insights connection pointing at that topic,
// a user and a published Insights-enabled Python echo algorithm with warm workers.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ADMIN_KEY, startTestApp, type TestApp } from './app';
import { configureInsights, ECHO_SOURCE, publishPythonAlgorithm, type PublishedAlgorithm } from './fault-api';
import { callOnce, type CallResult } from './fault-load';
import { createTopic, ensureKafka, type KafkaInfo } from './kafka';

export interface InsightsStage {
  app: TestApp;
  info: KafkaInfo;
  topic: string;
  key: string;
  algo: PublishedAlgorithm;
  /** Request ids of the warm-up calls: their payloads travel too. */
  warmIds: string[];
}

export const WARM_WORKERS = 4;

export async function startInsightsStage(owner: string, env: Record<string, string> = {}): Promise<InsightsStage> {
  const info = await ensureKafka();
  const topic = `fault-${owner}-${randomBytes(4).toString('hex')}`;
  await createTopic(info, topic, 3);
  const app = await startTestApp({ WORKER_MAX_PER_VERSION: String(WARM_WORKERS), ...env });
  try {
    const key = await app.createUser(owner);
    await configureInsights(app.url, ADMIN_KEY, info, topic);
    app.beacon.insights.start();
    const algo = await publishPythonAlgorithm(app.url, key, owner, 'echo', ECHO_SOURCE);
    const warmIds = await warmUp(app.url, key, algo);
    return { app, info, topic, key, algo, warmIds };
  } catch (err) {
    await app.close();
    throw err;
  }
}

/** Starts every worker the version may have, so the measured load runs on warm workers. */
export async function warmUp(url: string, key: string, algo: PublishedAlgorithm): Promise<string[]> {
  const warm = await Promise.all(Array.from({ length: WARM_WORKERS * 2 }, (_, i) => callOnce(url, algo.callPath, key, { warm: i }, 60_000)));
  for (const r of warm) assert.equal(r.kind, 'ok', `warm-up call: ${JSON.stringify(r)}`);
  return warm.map((r) => r.requestId as string);
}

/** Request ids of the calls that got an HTTP 200 answer (a result or an algorithm error). */
export function answeredIds(results: CallResult[]): Set<string> {
  const ids = new Set<string>();
  for (const r of results) if (r.status === 200 && r.requestId) ids.add(r.requestId);
  return ids;
}
