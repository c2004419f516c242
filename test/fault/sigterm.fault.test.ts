// Fault: the real service (src/main.ts, a child process) gets SIGTERM during load, with slow calls
// in flight. It must stop accepting connections at once, let the calls in flight finish with their
// results, exit 0, and keep every accepted payload: a new process on the same database delivers
// them all to Kafka.
// The first process runs with its relay off, so every payload it accepted is still in the outbox
// when it stops: the second process must deliver all of them (none was sent before the restart).
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ADMIN_KEY } from '../support/app';
import { startBeaconProcess, type BeaconProcess } from '../support/beacon-process';
import { createTestDb, type TestDb } from '../support/db';
import { configureInsights, createUserKey, ECHO_SOURCE, publishPythonAlgorithm, waitForDrain } from '../support/fault-api';
import { assertExactlyOnceAfterDedup, consumeDelivery } from '../support/fault-kafka';
import { callOnce, sampleFailures, sleep, startLoad, tally, waitUntil, within } from '../support/fault-load';
import { answeredIds, warmUp } from '../support/fault-scenario';
import { createTopic, ensureKafka, type KafkaInfo } from '../support/kafka';

const OWNER = 'faultterm';
const MAX_CALLS = 20_000; // hard bound
const CONCURRENCY = 16;
const TERM_AFTER = 500; // fast calls finished before SIGTERM
const AFTER_REFUSED = 200; // calls issued after new connections are refused
const SLOW_CALLS = 4;
const SLOW_SECONDS = 2;
const CALL_TIMEOUT_MS = 30_000;
const EXIT_TIMEOUT_MS = 60_000;
const DRAIN_TIMEOUT_MS = 45_000;
const CONSUME_TIMEOUT_MS = 30_000;

describe('fault: SIGTERM to the service during load', () => {
  let info: KafkaInfo;
  let topic: string;
  let testDb: TestDb;
  const processes: BeaconProcess[] = [];
  const env = () => ({
    DATABASE_URL: testDb.url,
    BOOTSTRAP_ADMIN_KEY: ADMIN_KEY,
    BEACON_SECRET_KEY: 'a1'.repeat(32),
    WORKER_MAX_PER_VERSION: '8',
    INSIGHTS_RELAY_IDLE_MS: '50',
  });

  before(async () => {
    info = await ensureKafka();
    topic = `fault-${OWNER}-${Date.now().toString(36)}`;
    await createTopic(info, topic, 3);
    testDb = await createTestDb();
  });

  after(async () => {
    for (const p of processes) await p.stop('SIGKILL');
    await testDb?.drop();
  });

  test('in-flight calls finish, new connections are refused, exit 0, every accepted payload delivered after a restart', async (t) => {
    const first = await startBeaconProcess({ ...env(), INSIGHTS_RELAY_ENABLED: '0' });
    processes.push(first);
    const { url } = first;
    const port = Number(new URL(url).port);
    const key = await createUserKey(url, ADMIN_KEY, OWNER);
    await configureInsights(url, ADMIN_KEY, info, topic);
    const algo = await publishPythonAlgorithm(url, key, OWNER, 'echo', ECHO_SOURCE);
    const warmIds = await warmUp(url, key, algo);

    let exited = false;
    first.exited.then(() => (exited = true));
    let refusedAt: number | undefined;
    let doneAtRefused = 0;
    // The load keeps going through the shutdown until AFTER_REFUSED more calls ended (they show
    // what a client sees then) or the process is gone.
    const load = startLoad({
      url, path: algo.callPath, key, total: MAX_CALLS, concurrency: CONCURRENCY, timeoutMs: CALL_TIMEOUT_MS, input: (i) => ({ i }),
      stop: () => exited || (refusedAt !== undefined && load.done() >= doneAtRefused + AFTER_REFUSED),
    });
    assert.ok(await waitUntil(() => load.done() >= TERM_AFTER, 120_000), `the load reached ${TERM_AFTER} calls`);

    const slow = Array.from({ length: SLOW_CALLS }, (_, i) => callOnce(url, algo.callPath, key, { sleep: SLOW_SECONDS, slow: i }, CALL_TIMEOUT_MS));
    let slowDone = 0;
    for (const s of slow) s.then(() => slowDone++);
    await sleep(500); // the slow calls reach their workers; they need SLOW_SECONDS there
    const termAt = Date.now();
    const doneAtTerm = load.done();
    first.child.kill('SIGTERM');

    // Draining: the listening socket closes while the slow calls are still running.
    let slowPendingWhenRefused = -1;
    const refused = await waitUntil(async () => {
      if (!(await connectionRefused(port))) return false;
      refusedAt = Date.now();
      doneAtRefused = load.done();
      slowPendingWhenRefused = SLOW_CALLS - slowDone;
      return true;
    }, 10_000, 20);

    const code = await within(first.exited, EXIT_TIMEOUT_MS, 'still running');
    const slowResults = await Promise.all(slow);
    const results = await load.finished;
    const refusedAfterExit = await connectionRefused(port);
    const counts = tally(results);
    // Once a new connection is refused the service is shutting down: a call issued after that
    // moment must not be served (it is new work), whichever connection it travels on.
    const servedAfterRefused = results.filter((r) => r.status !== 0 && refusedAt !== undefined && r.startedAt > refusedAt).length;
    const inFlightAtTerm = results.filter((r) => r.startedAt < termAt).length - doneAtTerm;
    const forcedClose = first.logs.some((l) => l.includes('shutdown timed out'));
    const shutdownLog = first.logs.filter((l) => /shutting down|shutdown timed out|"stopped"/.test(l)).map((l) => l.slice(0, 160));

    // A new process on the same database, relay on: it delivers everything the first accepted.
    const second = await startBeaconProcess(env());
    processes.push(second);
    const expected = new Set([...warmIds, ...answeredIds(results), ...answeredIds(slowResults)]);
    const status = await waitForDrain(second.url, ADMIN_KEY, DRAIN_TIMEOUT_MS);
    const delivery = await consumeDelivery(info, topic, expected, { timeoutMs: CONSUME_TIMEOUT_MS });
    t.diagnostic(`FAULT-COUNTS sigterm ${JSON.stringify({ calls: results.length, counts, doneAtTerm, inFlightAtTerm, doneAtRefused, servedAfterRefused, slow: SLOW_CALLS, slowPendingWhenRefused, exitCode: code, forcedClose, shutdownLog, answered: expected.size, consumed: delivery.messages, distinct: delivery.distinct, duplicates: delivery.duplicates, missing: delivery.missing.length, unexpected: delivery.unexpected.length, status })}`);

    assert.ok(refused, 'new connections are refused once SIGTERM arrived');
    assert.ok(slowPendingWhenRefused > 0, 'connections were refused while slow calls were still in flight (draining)');
    // Slow calls were running on workers when SIGTERM came: each finishes with its result.
    for (const r of slowResults) assert.equal(r.kind, 'ok', `slow call in flight at SIGTERM: ${JSON.stringify(r)}`);
    assert.deepEqual(slowResults.map((r) => r.body.result.slow), [0, 1, 2, 3]);
    assert.equal(code, 0, `the process exits 0 after SIGTERM; last log lines:\n${first.logs.slice(-10).join('\n')}`);
    assert.ok(refusedAfterExit, 'connections are refused after the exit');
    // Every fast call got its result or never reached the service (connection refused or
    // closed before a reply): no 5xx, no hang.
    for (const kind of Object.keys(counts)) {
      assert.ok(kind === 'ok' || kind === 'connection', `unexpected outcome ${kind} (${counts[kind]}x): ${sampleFailures(results)}`);
    }
    assert.equal(servedAfterRefused, 0, 'no call issued after the service began shutting down was served (keep-alive connections included)');
    assert.ok(!forcedClose, 'the drain finished without the forced close of SHUTDOWN_TIMEOUT_MS');
    assert.equal(status?.delivered, expected.size, 'the second process delivered every payload the first one accepted');
    // No unexpected ids: no call was executed without its caller getting the answer.
    assertExactlyOnceAfterDedup(delivery, expected);

    assert.equal(await within(second.stop('SIGTERM'), EXIT_TIMEOUT_MS, 'still running'), 0, 'the second process exits 0 too');
  });
});

/** True when a fresh TCP connection to the port is refused (nothing listens any more). */
function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.setTimeout(2_000, () => {
      s.destroy();
      resolve(false);
    });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}
