// Payloads fed through the sink reach the real broker over every listener type with exactly the
// documented value, key and headers; two Beacons on one database deliver each payload exactly
// once; payloads accepted before a restart (and before any connection existed) arrive afterwards.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import supertest from 'supertest';
import type { InsightsRecord } from '../../src/insights/insights-sink';
import { bootstrapAdmin } from '../../src/users/bootstrap-admin';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/app';
import { consumeAll, deleteTopic, ensureKafka, type KafkaInfo } from '../support/kafka';
import { admin, assertMessage, beaconOn, connectionFor, freshTopic as newTopic, type Listener, record, topicSize, waitFor, waitForDrain } from '../support/insights-helpers';

let info: KafkaInfo;
let ca: string;
const topics: string[] = [];

const freshTopic = (label: string, partitions = 3) => newTopic(info, label, topics, partitions);

before(async () => {
  info = await ensureKafka();
  ca = readFileSync(info.ca_certificate, 'utf8');
});

after(async () => {
  for (const topic of topics) await deleteTopic(info, topic);
});

describe('every listener type', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
    t.beacon.insights.start();
  });
  after(async () => t?.close());

  for (const listener of ['plaintext', 'scram-256', 'scram-512', 'tls'] as Listener[]) {
    test(`${listener}: exact value, key and CloudEvents headers; per-key order kept`, async () => {
      const topic = await freshTopic(listener);
      const posted = await t.request.post('/v1/admin/insights-connection').set(admin).send(connectionFor(info, listener, topic, ca));
      assert.equal(posted.status, 200, JSON.stringify(posted.body));

      const sent: InsightsRecord[] = [];
      for (let i = 0; i < 12; i++) {
        const r = record(i % 2 ? 'ana' : 'bo', i % 3 ? 'Counter' : 'Detector', { cats: i, score: i / 4, flagged: i % 2 === 0, 'naïve_count': 1 });
        sent.push(r);
        await t.beacon.insights.sink.accept(r); // resolves once durable
      }
      await waitForDrain(t);
      const got = await consumeAll(info, topic, { expected: sent.length, timeoutMs: 30_000 });
      assert.equal(got.length, sent.length);
      const byId = new Map(got.map((m) => [m.headers.ce_id, m]));
      for (const r of sent) {
        const m = byId.get(r.requestId);
        assert.ok(m, `payload ${r.requestId} arrived`);
        assertMessage(m, r);
        assert.match(m.value, /"na\\u00efve_count":1/, 'non-ASCII is escaped');
      }
      // One key lives on one partition, in the order the payloads were accepted.
      for (const key of new Set(sent.map((r) => `${r.owner}/${r.name}`))) {
        const expected = sent.filter((r) => `${r.owner}/${r.name}` === key).map((r) => r.requestId);
        const onTopic = got.filter((m) => m.key === key);
        assert.equal(new Set(onTopic.map((m) => m.partition)).size, 1, `${key} stays on one partition`);
        assert.deepEqual(onTopic.sort((a, b) => Number(a.offset) - Number(b.offset)).map((m) => m.headers.ce_id), expected);
      }
      const s = (await t.request.get('/v1/admin/insights-connection/status').set(admin)).body;
      assert.equal(s.connected, true);
      assert.equal(s.last_error, null);
      assert.equal(s.oldest_undelivered_age_seconds, null);
    });
  }
});

test('two Beacons on one database deliver every payload exactly once (two relays, one lock)', async () => {
  const topic = await freshTopic('two-relays');
  const t = await startTestApp();
  const other = beaconOn(t.testDb.db, { INSIGHTS_SPOOL_DIR: t.config.insights.spoolDir + '-other' });
  try {
    const posted = await t.request.post('/v1/admin/insights-connection').set(admin).send(connectionFor(info, 'scram-512', topic, ca));
    assert.equal(posted.status, 200);
    t.beacon.insights.start();
    other.insights.start();
    const ids = new Set<string>();
    const feed = async (sink: typeof t.beacon.insights.sink, n: number) => {
      for (let i = 0; i < n; i += 50) {
        const batch = Array.from({ length: 50 }, () => record('multi', `algo${i % 7}`));
        batch.forEach((r) => ids.add(r.requestId));
        await Promise.all(batch.map((r) => sink.accept(r)));
      }
    };
    await Promise.all([feed(t.beacon.insights.sink, 1500), feed(other.insights.sink, 1500)]);
    await waitForDrain(t);
    const s = (await t.request.get('/v1/admin/insights-connection/status').set(admin)).body;
    assert.equal(s.delivered, 3000);
    assert.equal(s.failed, 0);
    assert.equal(await topicSize(info, topic), 3000, 'no duplicate was written');
    const got = await consumeAll(info, topic, { expected: 3000, timeoutMs: 60_000 });
    assert.deepEqual(new Set(got.map((m) => m.headers.ce_id)), ids);
  } finally {
    await other.insights.stop();
    await t.close();
  }
});

test('payloads accepted with no connection and before a restart are delivered by the next Beacon', async () => {
  const topic = await freshTopic('restart');
  const t = await startTestApp();
  try {
    // First life: no connection configured, the relay running, payloads pile up durably.
    t.beacon.insights.start();
    const sent = Array.from({ length: 40 }, () => record('restart', 'Algo'));
    await Promise.all(sent.map((r) => t.beacon.insights.sink.accept(r)));
    const s = (await t.request.get('/v1/admin/insights-connection/status').set(admin)).body;
    assert.equal(s.configured, false);
    assert.equal(s.backlog, 40);
    assert.ok(s.oldest_undelivered_age_seconds >= 0);
    await t.beacon.insights.stop();

    // Second life on the same database.
    const next = beaconOn(t.testDb.db);
    await bootstrapAdmin(next.users, ADMIN_KEY);
    const request = supertest(next.app);
    const posted = await request.post('/v1/admin/insights-connection').set(admin).send(connectionFor(info, 'plaintext', topic, ca));
    assert.equal(posted.status, 200);
    next.insights.start();
    try {
      await waitFor('the restarted Beacon to drain', () => next.insights.status(), (st) => st.backlog === 0);
      const got = await consumeAll(info, topic, { expected: 40, timeoutMs: 30_000 });
      assert.deepEqual(new Set(got.map((m) => m.headers.ce_id)), new Set(sent.map((r) => r.requestId)));
      for (const m of got) assertMessage(m, sent.find((r) => r.requestId === m.headers.ce_id)!);
    } finally {
      await next.insights.stop();
    }
  } finally {
    await t.close();
  }
});
