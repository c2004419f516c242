// Explicit, counted behaviour when things are not fine: the backlog bound under both overflow
// policies, and a wrong broker password that is fixed without a restart.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/app';
import { consumeAll, deleteTopic, ensureKafka, type KafkaInfo } from '../support/kafka';
import { admin, connectionFor, freshTopic as newTopic, record, status, storedIds as storedInOutbox, waitFor, waitForDrain } from '../support/insights-helpers';

let info: KafkaInfo;
let ca: string;
const topics: string[] = [];

const freshTopic = (label: string) => newTopic(info, label, topics);

const storedIds = (t: TestApp) => storedInOutbox(t.testDb.db);

async function payloadMetric(t: TestApp, stage: string): Promise<number> {
  const text = (await t.request.get('/metrics').set('Authorization', `Simple ${ADMIN_KEY}`)).text;
  const m = new RegExp(`^beacon_insights_payloads_total\\{stage="${stage}"\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

before(async () => {
  info = await ensureKafka();
  ca = readFileSync(info.ca_certificate, 'utf8');
});

after(async () => {
  for (const topic of topics) await deleteTopic(info, topic);
});

test("overflow policy 'reject': payloads beyond the bound are not stored, counted and logged; callers are not failed", async () => {
  const logLines: string[] = [];
  const t = await startTestApp({ INSIGHTS_MAX_BACKLOG: '5', LOG_LEVEL: 'warn' }, { logLines });
  try {
    const sent = Array.from({ length: 12 }, () => record());
    for (const r of sent) await t.beacon.insights.sink.accept(r); // every call resolves
    assert.deepEqual(await storedIds(t), sent.slice(0, 5).map((r) => r.requestId), 'the first five are kept');
    const s = await status(t);
    assert.equal(s.backlog, 5);
    assert.equal(s.dropped, 7);
    assert.equal(s.overflow_policy, 'reject');
    assert.equal(s.max_backlog, 5);
    assert.equal(await payloadMetric(t, 'dropped'), 7);
    assert.equal(await payloadMetric(t, 'accepted'), 5);
    await t.beacon.insights.stop(); // flushes the rate-limited drop log
    const warnings = logLines.map((l) => JSON.parse(l)).filter((l) => l.level === 40 && typeof l.dropped === 'number');
    assert.equal(warnings.reduce((sum, l) => sum + l.dropped, 0), 7, 'every drop is in a warn line, with a count');
    assert.ok(warnings.length < 7, 'drops are summarised, not logged one by one');
  } finally {
    await t.close();
  }
});

test("overflow policy 'reject' on a group commit: one batch stores what fits, in order, and counts the rest", async () => {
  const t = await startTestApp({ INSIGHTS_MAX_BACKLOG: '5' });
  try {
    await t.beacon.insights.sink.accept(record()); // one payload alone (the single-row statement)
    const sent = Array.from({ length: 12 }, () => record());
    await Promise.all(sent.map((r) => t.beacon.insights.sink.accept(r))); // one statement for all twelve
    assert.equal((await storedIds(t)).length, 5);
    assert.deepEqual((await storedIds(t)).slice(1), sent.slice(0, 4).map((r) => r.requestId), 'the batch fills the bound in order');
    const s = await status(t);
    assert.equal(s.backlog, 5);
    assert.equal(s.dropped, 8);
  } finally {
    await t.close();
  }
});

test("overflow policy 'drop-oldest': the newest are kept, the oldest removed and counted, and the kept ones delivered", async () => {
  const t = await startTestApp({ INSIGHTS_MAX_BACKLOG: '5', INSIGHTS_OVERFLOW_POLICY: 'drop-oldest' });
  try {
    const sent = Array.from({ length: 12 }, () => record());
    for (const r of sent) await t.beacon.insights.sink.accept(r);
    const newest = sent.slice(7).map((r) => r.requestId);
    assert.deepEqual(await storedIds(t), newest);
    const s = await status(t);
    assert.equal(s.backlog, 5);
    assert.equal(s.dropped, 7);
    assert.equal(await payloadMetric(t, 'dropped'), 7);

    const topic = await freshTopic('drop-oldest');
    assert.equal((await t.request.post('/v1/admin/insights-connection').set(admin).send(connectionFor(info, 'plaintext', topic, ca))).status, 200);
    t.beacon.insights.start();
    await waitForDrain(t);
    const got = await consumeAll(info, topic, { expected: 5, timeoutMs: 30_000 });
    assert.deepEqual(got.map((m) => m.headers.ce_id), newest);
  } finally {
    await t.close();
  }
});

test('a wrong password: the backlog grows and the status names authentication; the right one drains it without a restart', async () => {
  const topic = await freshTopic('wrong-password');
  const t = await startTestApp();
  try {
    const wrong = connectionFor(info, 'scram-512', topic, ca, { broker_password: `wrong-${randomUUID()}` });
    assert.equal((await t.request.post('/v1/admin/insights-connection').set(admin).send(wrong)).status, 200);
    t.beacon.insights.start();
    const sent = Array.from({ length: 10 }, () => record());
    for (const r of sent) await t.beacon.insights.sink.accept(r);

    const failing = await waitFor(
      'the relay to report the cause and count the failed attempt',
      () => status(t),
      (s) => s.last_error?.reason === 'authentication_failed' && s.failed >= 10,
    );
    assert.equal(failing.connected, false);
    assert.match(failing.last_error.message, /credentials|authentication/i);
    assert.ok(Date.parse(failing.last_error_at) > 0);
    assert.equal(failing.backlog, 10, 'nothing was lost or delivered');

    const more = Array.from({ length: 5 }, () => record());
    for (const r of more) await t.beacon.insights.sink.accept(r);
    assert.equal((await status(t)).backlog, 15, 'the backlog grows while the broker refuses us');

    const right = connectionFor(info, 'scram-512', topic, ca);
    assert.equal((await t.request.post('/v1/admin/insights-connection').set(admin).send(right)).status, 200);
    const drained = await waitForDrain(t);
    assert.equal(drained.last_error, null);
    assert.equal(drained.connected, true);
    assert.equal(drained.delivered, 15);
    const got = await consumeAll(info, topic, { expected: 15, timeoutMs: 30_000 });
    assert.deepEqual(new Set(got.map((m) => m.headers.ce_id)), new Set([...sent, ...more].map((r) => r.requestId)));
  } finally {
    await t.close();
  }
});

test('deleting the connection pauses delivery; payloads wait in the outbox for the next one', async () => {
  const topic = await freshTopic('paused');
  const t = await startTestApp();
  try {
    t.beacon.insights.start();
    assert.equal((await t.request.post('/v1/admin/insights-connection').set(admin).send(connectionFor(info, 'plaintext', topic, ca))).status, 200);
    assert.equal((await t.request.delete('/v1/admin/insights-connection').set(admin)).status, 204);
    const sent = Array.from({ length: 7 }, () => record());
    for (const r of sent) await t.beacon.insights.sink.accept(r);
    const s = await status(t);
    assert.equal(s.configured, false);
    assert.equal(s.backlog, 7);
    assert.equal((await t.request.post('/v1/admin/insights-connection').set(admin).send(connectionFor(info, 'plaintext', topic, ca))).status, 200);
    await waitForDrain(t);
    const got = await consumeAll(info, topic, { expected: 7, timeoutMs: 30_000 });
    assert.equal(got.length, 7);
  } finally {
    await t.close();
  }
});
