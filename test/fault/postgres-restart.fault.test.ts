// Fault: PostgreSQL is stopped (fast shutdown: every connection cut) for DOWN_MS during load and
// started again. A private embedded PostgreSQL plays the database, so the machine's server that
// the other tests share is never touched.
// While it is down a call may still succeed (warm workers, cached keys and versions) or get a 503
// in the documented error shape; never a 500, never a hang. After the restart every call succeeds
// again, no published version is lost, and every call answered 200 has its payload on the topic.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN_KEY } from '../support/app';
import { waitForDrain, publishedVersions } from '../support/fault-api';
import { assertExactlyOnceAfterDedup, consumeDelivery } from '../support/fault-kafka';
import { callOnce, loadThroughFault, sampleFailures, startLoad, tally, waitUntil, type CallResult } from '../support/fault-load';
import { startFaultPostgres, type FaultPostgres } from '../support/fault-postgres';
import { answeredIds, startInsightsStage, type InsightsStage } from '../support/fault-scenario';
import { assertErrorShape } from '../support/openapi';

const OWNER = 'faultpg';
const MAX_CALLS = 20_000; // hard bound; the load stops AFTER_RESTART calls after the restart
const CONCURRENCY = 16;
const STOP_AFTER = 300; // calls finished before PostgreSQL stops
const DOWN_MS = 5_000;
const AFTER_RESTART = 300;
const RECOVERY_CALLS = 300;
// Longer than the database pool's 10 s acquire timeout: a call waiting for a connection must end
// as a 503 from the service, not as a client-side timeout.
// Bounds on reading the topic back: the outbox drains first, then the topic is read.
const DRAIN_TIMEOUT_MS = 45_000;
const CONSUME_TIMEOUT_MS = 30_000;
const CALL_TIMEOUT_MS = 30_000;

describe('fault: PostgreSQL restarted during load', () => {
  let pg: FaultPostgres;
  let stage: InsightsStage;
  const savedDbUrl = process.env.TEST_DATABASE_URL;

  before(async () => {
    pg = await startFaultPostgres();
    // startTestApp creates its database on the server TEST_DATABASE_URL names.
    process.env.TEST_DATABASE_URL = pg.url;
    stage = await startInsightsStage(OWNER);
  });

  after(async () => {
    await pg?.start().catch(() => undefined);
    await stage?.app.close();
    await pg?.destroy();
    if (savedDbUrl === undefined) delete process.env.TEST_DATABASE_URL;
    else process.env.TEST_DATABASE_URL = savedDbUrl;
  });

  test(`PostgreSQL down for ${DOWN_MS} ms: 200 or 503 while down, full recovery, nothing lost`, async (t) => {
    const { app, key, algo, topic, info, warmIds } = stage;
    const versionsBefore = await publishedVersions(app.url, key, OWNER, algo.name);
    assert.deepEqual(versionsBefore, [algo.version]);

    const { results, atFault, atRecovery } = await loadThroughFault(
      { url: app.url, path: algo.callPath, key, total: MAX_CALLS, concurrency: CONCURRENCY, timeoutMs: CALL_TIMEOUT_MS, input: (i) => ({ i }) },
      { after: STOP_AFTER, inject: () => pg.stop(), hold: { ms: DOWN_MS }, recover: () => pg.start(), thenCalls: AFTER_RESTART },
    );
    const whileDown = tally(results.slice(atFault, atRecovery));
    const afterRestart = results.slice(atRecovery);

    // During the whole load: an answer for every call, and only 200s and 503s.
    const counts = tally(results);
    for (const kind of Object.keys(counts)) {
      assert.ok(kind === 'ok' || kind === 'http_503', `unexpected outcome ${kind} (${counts[kind]}x): ${sampleFailures(results)}`);
    }
    for (const r of results.filter((x) => x.status === 503)) assertErrorShape(r.body);
    assert.ok(results.length < MAX_CALLS, 'the load ended by its after-restart count, not by the hard bound');

    // Recovery: once a probe succeeds (bounded wait), every call succeeds again.
    const probes: CallResult[] = [];
    const recovered = await waitUntil(async () => {
      const r = await callOnce(app.url, algo.callPath, key, { probe: probes.length }, CALL_TIMEOUT_MS);
      probes.push(r);
      return r.kind === 'ok';
    }, 60_000, 250);
    assert.ok(recovered, 'calls succeed again after the restart');
    const recovery = await startLoad({ url: app.url, path: algo.callPath, key, total: RECOVERY_CALLS, concurrency: CONCURRENCY, timeoutMs: CALL_TIMEOUT_MS, input: (i) => ({ r: i }) }).finished;
    assert.deepEqual(tally(recovery), { ok: RECOVERY_CALLS }, `after recovery: ${sampleFailures(recovery)}`);

    assert.deepEqual(await publishedVersions(app.url, key, OWNER, algo.name), versionsBefore, 'no published version lost');

    // Answered probes have payloads too.
    const expected = new Set([...warmIds, ...answeredIds(results), ...answeredIds(recovery), ...answeredIds(probes)]);
    const status = await waitForDrain(app.url, ADMIN_KEY, DRAIN_TIMEOUT_MS);
    const delivery = await consumeDelivery(info, topic, expected, { timeoutMs: CONSUME_TIMEOUT_MS });
    const lost = await insightsLostCounter(app.url);
    t.diagnostic(`FAULT-COUNTS postgres-restart ${JSON.stringify({ calls: results.length, counts, doneAtStop: atFault, doneWhileDown: atRecovery - atFault, whileDown, afterRestart: tally(afterRestart), first503AfterRestart: afterRestart.find((r) => r.status === 503)?.body, recoveryCalls: recovery.length, probes: probes.length, answered: expected.size, consumed: delivery.messages, distinct: delivery.distinct, duplicates: delivery.duplicates, missing: delivery.missing.length, insightsLost: lost, status })}`);
    assert.equal(lost, 0, `${lost} calls were answered 200 while their payload could not be stored (beacon_execution_insights_lost_total)`);
    assertExactlyOnceAfterDedup(delivery, expected);
  });
});

/** beacon_execution_insights_lost_total from /metrics: payloads the sink refused while answering 200. */
async function insightsLostCounter(url: string): Promise<number> {
  const r = await fetch(`${url}/metrics`, { headers: { Authorization: `Simple ${ADMIN_KEY}` }, signal: AbortSignal.timeout(10_000) });
  const m = /^beacon_execution_insights_lost_total(?:\{[^}]*\})? (\d+)/m.exec(await r.text());
  return m ? Number(m[1]) : 0;
}
