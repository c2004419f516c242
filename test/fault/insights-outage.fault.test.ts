// Fault (serial tier: it stops the shared broker): payloads keep being accepted while the broker is
// down (controlled SIGTERM shutdown), the relay reports the outage and backs off, and once the broker
// is back every accepted payload reaches the topic at least once; any duplicate carries the same
// ce_id as its original.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { startTestApp, type TestApp } from '../support/app';
import { consumeAll, createTopic, deleteTopic, ensureKafka, type KafkaInfo, plaintextClient, startBroker, stopBroker } from '../support/kafka';
import { admin, connectionFor, record, status, waitFor, waitForDrain } from '../int/insights-helpers';

async function topicSize(kafka: KafkaInfo, name: string): Promise<number> {
  const client = plaintextClient(kafka, 'insights-outage-offsets').admin();
  await client.connect();
  try {
    return (await client.fetchTopicOffsets(name)).reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await client.disconnect();
  }
}

let info: KafkaInfo;
let t: TestApp;
let topic: string;

before(async () => {
  info = await ensureKafka();
  topic = `insights-outage-${randomUUID().slice(0, 8)}`;
  await createTopic(info, topic, 3);
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

  await until(300, '300 payloads with the broker up');
  await stopBroker({ signal: 'SIGTERM' });
  const atStop = accepted.length;
  const down = await waitFor('the relay to notice the outage', () => status(t), (s) => s.last_error !== null && s.backlog > 0, 120_000);
  assert.equal(down.last_error.reason, 'unreachable', JSON.stringify(down.last_error));
  assert.equal(down.connected, false);
  await until(atStop + 500, '500 more payloads with the broker down');
  info = await startBroker();
  await until(accepted.length + 300, '300 more payloads after the restart');
  producing = false;
  await producer;

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
  ctx.diagnostic(`accepted ${accepted.length} (${accepted.length - atStop} after the stop), messages ${all.length}, duplicated ids ${duplicates}, failed attempts ${drained.failed}`);
});
