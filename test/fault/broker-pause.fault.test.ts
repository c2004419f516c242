// Fault: the Kafka broker is frozen (SIGSTOP, like a long GC pause: its sockets stay open but
// nothing answers) for PAUSE_MS during load, then thawed (SIGCONT). The request path never waits
// on Kafka, so every call keeps answering within a client timeout shorter than the pause; and
// every answered call's payload still reaches the topic, exactly once after dedup by ce_id.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN_KEY } from '../support/app';
import { waitForDrain } from '../support/fault-api';
import { assertExactlyOnceAfterDedup, consumeDelivery } from '../support/fault-kafka';
import { loadThroughFault, sampleFailures, tally } from '../support/fault-load';
import { answeredIds, startInsightsStage, type InsightsStage } from '../support/fault-scenario';
import { stopBroker } from '../support/kafka';

const MAX_CALLS = 20_000; // hard bound; the load stops earlier, AFTER_RESUME calls after the thaw
const CONCURRENCY = 32;
const PAUSE_AFTER = 500; // calls finished before the freeze
const PAUSE_MS = 10_000;
const AFTER_RESUME = 500; // calls finished after the thaw
// Shorter than the pause: a call that waited for the frozen broker would fail as a timeout.
// Bounds on reading the topic back: the outbox drains first, then the topic is read.
const DRAIN_TIMEOUT_MS = 45_000;
const CONSUME_TIMEOUT_MS = 30_000;
const CALL_TIMEOUT_MS = 5_000;

describe('fault: broker frozen (SIGSTOP/SIGCONT) during load', () => {
  let stage: InsightsStage;
  let frozen = false;

  before(async () => {
    stage = await startInsightsStage('faultpause');
  });

  after(async () => {
    if (frozen) await stopBroker({ signal: 'SIGCONT' });
    await stage?.app.close();
  });

  test(`broker frozen for ${PAUSE_MS} ms: calls keep answering, nothing is lost`, async (t) => {
    const { app, key, algo, topic, info, warmIds } = stage;
    const { results, atFault, atRecovery } = await loadThroughFault(
      { url: app.url, path: algo.callPath, key, total: MAX_CALLS, concurrency: CONCURRENCY, timeoutMs: CALL_TIMEOUT_MS, input: (i) => ({ i }) },
      {
        after: PAUSE_AFTER,
        inject: async () => {
          await stopBroker({ signal: 'SIGSTOP' });
          frozen = true;
        },
        hold: { ms: PAUSE_MS },
        recover: async () => {
          await stopBroker({ signal: 'SIGCONT' });
          frozen = false;
        },
        thenCalls: AFTER_RESUME,
      },
    );
    const doneWhilePaused = atRecovery - atFault;

    const counts = tally(results);
    assert.deepEqual(counts, { ok: results.length }, `every call answered 200 within ${CALL_TIMEOUT_MS} ms: ${sampleFailures(results)}`);
    assert.ok(doneWhilePaused > 0, 'calls kept finishing while the broker was frozen');
    assert.ok(results.length < MAX_CALLS, 'the load ended by its after-thaw count, not by the hard bound');

    const expected = new Set([...warmIds, ...answeredIds(results)]);
    assert.equal(expected.size, results.length + warmIds.length, 'request ids are unique');
    const status = await waitForDrain(app.url, ADMIN_KEY, DRAIN_TIMEOUT_MS);
    const delivery = await consumeDelivery(info, topic, expected, { timeoutMs: CONSUME_TIMEOUT_MS });
    t.diagnostic(`FAULT-COUNTS broker-pause ${JSON.stringify({ calls: results.length, warm: warmIds.length, doneAtPause: atFault, doneWhilePaused, answered: expected.size, consumed: delivery.messages, distinct: delivery.distinct, duplicates: delivery.duplicates, missing: delivery.missing.length, status })}`);
    assertExactlyOnceAfterDedup(delivery, expected);
  });
});
