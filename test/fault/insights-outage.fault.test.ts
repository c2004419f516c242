// Fault (serial tier: it stops the shared broker): payloads keep being accepted while the broker is
// down (a SIGTERM shutdown, then a SIGKILL crash), the relay reports the outage and backs off, and
// once the broker is back every accepted payload reaches the topic at least once; any duplicate
// carries the same ce_id as its original.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestApp, type TestApp } from '../support/app';
import { consumeAll, deleteTopic, ensureKafka, type KafkaInfo, startBroker, stopBroker } from '../support/kafka';
import { admin, connectionFor, freshTopic, record, status, topicSize, waitFor, waitForDrain } from '../support/insights-helpers';

let info: KafkaInfo;
let t: TestApp;
let topic: string;

before(async () => {
  info = await ensureKafka();
  topic = await freshTopic(info, 'outage', [], 3);
  t = await startTestApp();
  const posted = await t.request.post('/v1/admin/insights-connection').set(admin).send(connectionFor(info, 'scram-256', topic, ''));
  assert.equal(posted.status, 200, JSON.stringify(posted.body));
  t.beacon.insights.start();
});

after(async () => {
  // Whatever happened, leave a running broker for the files that follow.
  info = await startBroker();
  await t?.close();
  await deleteTopic(info, topic);
});

test('payloads accepted before, during and after a broker outage are all delivered; duplicates share their ce_id', async (ctx) => {
  const accepted: string[] = [];
  let producing = true;
  let acceptErrors = 0;
  const producer = (async () => {
    for (let i = 0; producing; i++) {
      const batch = Array.from({ length: 10 }, () => record('outage', `algo${i % 4}`));
      const results = await Promise.allSettled(batch.map((r) => t.beacon.insights.sink.accept(r)));
      results.forEach((res, j) => (res.status === 'fulfilled' ? accepted.push(batch[j].requestId) : (acceptErrors += 1)));
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const until = (n: number, what: string) => waitFor(what, async () => accepted.length, (len) => len >= n, 120_000);

  // A controlled shutdown first, then a crash: both must lose nothing.
  const phases: string[] = [];
  try {
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      await until(accepted.length + 300, `300 payloads with the broker up (before ${signal})`);
      await stopBroker({ signal });
      const atStop = accepted.length;
      const down = await waitFor(`the relay to notice the ${signal}`, () => status(t), (s) => s.last_error !== null && s.backlog > 0, 120_000);
      assert.equal(down.last_error.reason, 'unreachable', JSON.stringify(down.last_error));
      assert.equal(down.connected, false);
      await until(atStop + 500, `500 more payloads with the broker down (${signal})`);
      info = await startBroker();
      phases.push(`${signal}: ${accepted.length - atStop} accepted while down`);
    }
    await until(accepted.length + 300, '300 more payloads after the last restart');
  } finally {
    // A failed assertion above must not leave the producer loop running until the file times out.
    producing = false;
    await producer;
  }

  assert.equal(acceptErrors, 0, 'accept() never failed because of Kafka');
  const drained = await waitForDrain(t, 180_000);
  assert.equal(drained.last_error, null);
  // Read everything the topic holds (duplicates included): its end offsets say how much that is.
  const total = await topicSize(info, topic);
  const all = await consumeAll(info, topic, { expected: total, timeoutMs: 120_000 });
  assert.equal(all.length, total);
  const seen = new Map<string, number>();
  for (const m of all) {
    const payload = JSON.parse(m.value);
    assert.equal(m.headers.ce_id, payload.request_id, 'every copy carries the ce_id of its payload');
    seen.set(m.headers.ce_id, (seen.get(m.headers.ce_id) ?? 0) + 1);
  }
  const missing = accepted.filter((id) => !seen.has(id));
  assert.deepEqual(missing, [], `${missing.length} of ${accepted.length} accepted payloads never arrived`);
  const duplicates = [...seen.values()].filter((n) => n > 1).length;
  ctx.diagnostic(`accepted ${accepted.length} (${phases.join('; ')}), messages ${all.length}, duplicated ids ${duplicates}, failed attempts ${drained.failed}`);
});
