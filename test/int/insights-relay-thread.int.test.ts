// With INSIGHTS_RELAY_THREAD=true the relay runs in a worker thread: what it logs comes out of
// the service's own logger (same destination, same redaction) marked thread=relay, without the
// broker password; its state reaches the status route; stop() ends the thread, and a new start()
// picks up where it left off.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { startTestApp } from '../support/app';
import { consumeAll, deleteTopic, ensureKafka, type KafkaInfo } from '../support/kafka';
import { admin, connectionFor, freshTopic as newTopic, record, status, waitFor, waitForDrain } from '../support/insights-helpers';

let info: KafkaInfo;
let ca: string;
const topics: string[] = [];

before(async () => {
  info = await ensureKafka();
  ca = readFileSync(info.ca_certificate, 'utf8');
});

after(async () => {
  for (const topic of topics) await deleteTopic(info, topic);
});

test('relay thread: its log lines go through the service logger without the password; status, stop and restart work', async () => {
  const topic = await newTopic(info, 'relay-thread', topics);
  const logLines: string[] = [];
  const t = await startTestApp({ LOG_LEVEL: 'info', INSIGHTS_RELAY_THREAD: 'true' }, { logLines });
  try {
    assert.equal(t.config.insights.relayThread, true);
    const password = `wrong-${randomUUID()}`;
    assert.equal((await t.request.post('/v1/admin/insights-connection').set(admin).send(connectionFor(info, 'scram-512', topic, ca, { broker_password: password }))).status, 200);
    t.beacon.insights.start();
    const sent = Array.from({ length: 5 }, () => record('thread', 'Algo'));
    await Promise.all(sent.map((r) => t.beacon.insights.sink.accept(r)));
    const failing = await waitFor('the thread to report the authentication failure', () => status(t), (s) => s.last_error?.reason === 'authentication_failed');
    assert.equal(failing.connected, false);
    await waitFor('the failure to be logged', async () => logLines.length, () => logLines.some((l) => l.includes('"thread":"relay"') && l.includes('insights relay cannot deliver')));
    const relayLine = JSON.parse(logLines.find((l) => l.includes('"thread":"relay"') && l.includes('insights relay cannot deliver'))!);
    assert.equal(relayLine.level, 40);
    assert.equal(relayLine.service, 'beacon');
    assert.equal(relayLine.reason, 'authentication_failed');

    // Stop the thread, fix the password, start again: the backlog drains.
    await t.beacon.insights.stop();
    assert.equal((await status(t)).backlog, 5);
    const right = connectionFor(info, 'scram-512', topic, ca);
    assert.equal((await t.request.post('/v1/admin/insights-connection').set(admin).send(right)).status, 200);
    t.beacon.insights.start();
    const drained = await waitForDrain(t);
    assert.equal(drained.connected, true);
    assert.equal(drained.last_error, null);
    assert.equal(drained.delivered, 5);
    const got = await consumeAll(info, topic, { expected: 5, timeoutMs: 30_000 });
    assert.deepEqual(new Set(got.map((m) => m.headers.ce_id)), new Set(sent.map((r) => r.requestId)));
    assert.ok(!logLines.some((l) => l.includes(password) || l.includes(info.users.beacon)), 'no password in any log line');
  } finally {
    await t.close();
  }
});
