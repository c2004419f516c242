// Fault: a burst of answered Insights calls, then PostgreSQL (postmaster and every backend) and
// Beacon (the real service, a child process) are both killed with SIGKILL at once; PostgreSQL
// restarts (crash recovery) and a new Beacon starts on the same database, with the shipped
// defaults. Every call answered 200 must have its payload on the topic (duplicates only with the
// same ce_id). With the old asynchronous outbox commit, 5 of 346 answered calls were lost this way.
// The first Beacon runs its relay off (the only change from the defaults), so that at the kill
// every payload exists only in the outbox: nothing already sent can hide a lost commit. Run with
// the database set to synchronous_commit=off, this test loses payloads.
// A private embedded PostgreSQL plays the database, so the machine's server is never touched.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ADMIN_KEY } from '../support/app';
import { startBeaconProcess, type BeaconProcess } from '../support/beacon-process';
import { configureInsights, createUserKey, ECHO_SOURCE, publishPythonAlgorithm, waitForDrain } from '../support/fault-api';
import { assertExactlyOnceAfterDedup, consumeDelivery } from '../support/fault-kafka';
import { sampleFailures, startLoad, tally } from '../support/fault-load';
import { startFaultPostgres, type FaultPostgres } from '../support/fault-postgres';
import { answeredIds, warmUp } from '../support/fault-scenario';
import { createTopic, ensureKafka, type KafkaInfo } from '../support/kafka';

const OWNER = 'faultpgkill';
const BURST = 400;
const CONCURRENCY = 16;
const CALL_TIMEOUT_MS = 30_000;
const DRAIN_TIMEOUT_MS = 60_000;
const CONSUME_TIMEOUT_MS = 30_000;

describe('fault: PostgreSQL and Beacon killed with SIGKILL right after a burst', () => {
  let info: KafkaInfo;
  let pg: FaultPostgres;
  const processes: BeaconProcess[] = [];
  const env = () => ({
    DATABASE_URL: pg.url,
    BOOTSTRAP_ADMIN_KEY: ADMIN_KEY,
    BEACON_SECRET_KEY: 'a1'.repeat(32),
    WORKER_MAX_PER_VERSION: '4',
  });

  before(async () => {
    info = await ensureKafka();
    pg = await startFaultPostgres();
  });

  after(async () => {
    for (const p of processes) await p.stop('SIGKILL');
    await pg?.destroy();
  });

  test('every answered call is delivered after both restart (shipped defaults)', async (t) => {
    const topic = `fault-${OWNER}-${randomBytes(4).toString('hex')}`;
    await createTopic(info, topic, 3);
    const first = await startBeaconProcess({ ...env(), INSIGHTS_RELAY_ENABLED: '0' });
    processes.push(first);
    const key = await createUserKey(first.url, ADMIN_KEY, OWNER);
    await configureInsights(first.url, ADMIN_KEY, info, topic);
    const algo = await publishPythonAlgorithm(first.url, key, OWNER, 'echo', ECHO_SOURCE);
    const warmIds = await warmUp(first.url, key, algo);

    const burst = await startLoad({ url: first.url, path: algo.callPath, key, total: BURST, concurrency: CONCURRENCY, timeoutMs: CALL_TIMEOUT_MS, input: (i) => ({ i }) }).finished;
    // The moment the last answer arrived: both die, nothing gets a chance to flush.
    const killed = pg.kill();
    await first.stop('SIGKILL');
    assert.deepEqual(tally(burst), { ok: BURST }, `every burst call answered: ${sampleFailures(burst)}`);
    assert.ok(killed >= 5, `postmaster and its backends and auxiliary processes were killed (${killed})`);

    await pg.start(); // crash recovery from the WAL on disk
    const second = await startBeaconProcess(env());
    processes.push(second);
    const expected = new Set([...warmIds, ...answeredIds(burst)]);
    const status = await waitForDrain(second.url, ADMIN_KEY, DRAIN_TIMEOUT_MS);
    const delivery = await consumeDelivery(info, topic, expected, { timeoutMs: CONSUME_TIMEOUT_MS });
    t.diagnostic(`FAULT-COUNTS postgres-sigkill ${JSON.stringify({ answered: expected.size, killed, consumed: delivery.messages, distinct: delivery.distinct, duplicates: delivery.duplicates, missing: delivery.missing.length, status })}`);
    assertExactlyOnceAfterDedup(delivery, expected);
  });
});
