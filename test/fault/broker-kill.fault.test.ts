// Fault: the Kafka broker is SIGKILLed part-way through a load of Insights-enabled executions and
// started again. Calls must keep answering (the request path never waits on Kafka), and every
// answered call's payload must reach the topic: at least once, and exactly once after
// deduplicating by the ce_id header.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN_KEY } from '../support/app';
import { waitForDrain } from '../support/fault-api';
import { assertExactlyOnceAfterDedup, consumeDelivery } from '../support/fault-kafka';
import { loadThroughFault, sampleFailures, tally } from '../support/fault-load';
import { answeredIds, startInsightsStage, type InsightsStage } from '../support/fault-scenario';
import { startBroker, stopBroker } from '../support/kafka';

const MAX_CALLS = 20_000; // hard bound; the load stops AFTER_RESTART calls after the restart
const CONCURRENCY = 32;
const KILL_AFTER = 1000; // calls finished before the broker dies
const DEAD_FOR = 1000; // calls finished with the broker dead before it is started again
const AFTER_RESTART = 1000; // calls finished once the broker is back
// Bounds on reading the topic back: the outbox drains first, then the topic is read.
const DRAIN_TIMEOUT_MS = 45_000;
const CONSUME_TIMEOUT_MS = 30_000;
const CALL_TIMEOUT_MS = 30_000;

describe('fault: broker SIGKILL during load', () => {
  let stage: InsightsStage;

  before(async () => {
    stage = await startInsightsStage('faultkill');
  });

  after(async () => {
    // Whatever happened above, leave a running broker for the files that follow.
    await startBroker();
    await stage?.app.close();
  });

  test(`broker killed after ${KILL_AFTER} calls, restarted after ${DEAD_FOR} more, ${AFTER_RESTART} calls after that: every answered call's payload is delivered exactly once after dedup`, async (t) => {
    const { app, key, algo, topic, warmIds } = stage;
    let info = stage.info;
    const { results, atFault, atRecovery } = await loadThroughFault(
      { url: app.url, path: algo.callPath, key, total: MAX_CALLS, concurrency: CONCURRENCY, timeoutMs: CALL_TIMEOUT_MS, input: (i) => ({ i }) },
      {
        after: KILL_AFTER,
        inject: () => stopBroker({ signal: 'SIGKILL' }),
        hold: { calls: DEAD_FOR },
        recover: async () => {
          info = await startBroker();
        },
        thenCalls: AFTER_RESTART,
      },
    );
    // The fault window itself needs DEAD_FOR calls to finish with the broker dead, or it throws;
    // calls go on while the broker starts again, so more than that finish before it is back.
    const doneWhileDead = atRecovery - atFault;

    const counts = tally(results);
    assert.ok(results.length < MAX_CALLS, 'the load ended by its after-restart count, not by the hard bound');
    assert.deepEqual(counts, { ok: results.length }, `every call answered 200 with its result, broker dead or alive: ${sampleFailures(results)}`);

    const expected = new Set([...warmIds, ...answeredIds(results)]);
    assert.equal(expected.size, results.length + warmIds.length, 'request ids are unique');
    const status = await waitForDrain(app.url, ADMIN_KEY, DRAIN_TIMEOUT_MS);
    const delivery = await consumeDelivery(info, topic, expected, { timeoutMs: CONSUME_TIMEOUT_MS });
    t.diagnostic(`FAULT-COUNTS broker-kill ${JSON.stringify({ calls: results.length, warm: warmIds.length, doneAtKill: atFault, doneWhileDead, doneAfterRestart: results.length - atRecovery, answered: expected.size, consumed: delivery.messages, distinct: delivery.distinct, duplicates: delivery.duplicates, missing: delivery.missing.length, status })}`);
    assertExactlyOnceAfterDedup(delivery, expected);
  });
});
