// The second outbox layout against the real PostgreSQL and broker: rows of the first layout are
// delivered after the upgrade migration; rows stored by one Beacon wake the relay of another
// (LISTEN/NOTIFY) long before its idle poll; a payload the broker refuses even alone is set aside
// with its reason while the rest of its batch is delivered; the reason a batch waits survives a
// restart; /readyz stays bounded when the pool is exhausted.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import knexFactory from 'knex';
import supertest from 'supertest';
import { toEntry } from '../../src/insights/outbox-sink';
import { createDb, type Db, migrateLatest, migrationConfig } from '../../src/platform/db';
import { bootstrapAdmin } from '../../src/users/bootstrap-admin';
import { ADMIN_KEY, startTestApp } from '../support/app';
import { adminDatabaseUrl } from '../support/db';
import { consumeAll, createTopic, deleteTopic, ensureKafka, type KafkaInfo } from '../support/kafka';
import { admin, assertMessage, beaconOn, connectionFor, freshTopic as newTopic, record, status, storedIds, waitFor } from '../support/insights-helpers';

let info: KafkaInfo;
let ca: string;
const topics: string[] = [];
const freshTopic = (label: string) => newTopic(info, label, topics);

before(async () => {
  info = await ensureKafka();
  ca = readFileSync(info.ca_certificate, 'utf8');
});

after(async () => {
  for (const topic of topics) await deleteTopic(info, topic);
});

/** A database migrated only up to the first Insights layout, as a Beacon before the upgrade left it. */
async function oldLayoutDb(): Promise<{ db: Db; drop(): Promise<void> }> {
  const name = `beacon_t_${randomBytes(6).toString('hex')}`;
  const server = knexFactory({ client: 'pg', connection: adminDatabaseUrl(), pool: { min: 0, max: 1 } });
  await server.raw(`CREATE DATABASE ${name}`);
  const url = new URL(adminDatabaseUrl());
  url.pathname = `/${name}`;
  const db = createDb(url.toString(), 10);
  await db.migrate.up({ ...migrationConfig, name: '20261129120000_foundation.ts' });
  await db.migrate.up({ ...migrationConfig, name: '20261129120100_insights.ts' });
  return {
    db,
    async drop() {
      await db.destroy();
      await server.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await server.destroy();
    },
  };
}

test('rows of the old one-row-per-payload outbox are delivered, exactly and in order, after the upgrade migration', async () => {
  const topic = await freshTopic('upgrade');
  const old = await oldLayoutDb();
  try {
    // 2,345 old rows: three batch rows of the new layout (1,000 + 1,000 + 345).
    const sent = Array.from({ length: 2_345 }, (_, i) => record('upgrade', `algo${i % 3}`, { i, ok: i % 2 === 0 }));
    const entries = sent.map(toEntry);
    for (let i = 0; i < entries.length; i += 500) {
      await old.db('insights_outbox').insert(
        entries.slice(i, i + 500).map((e) => ({ request_id: e.requestId, message_key: e.messageKey, ce_source: e.ceSource, event_time: e.eventTime, payload: e.payload })),
      );
    }
    await migrateLatest(old.db);
    assert.equal((await old.db.raw("SELECT to_regclass('insights_outbox') AS t")).rows[0].t, null, 'the old table is gone');
    const rows = await old.db('insights_outbox_batch').orderBy('id').pluck('payloads');
    assert.deepEqual(rows, [1_000, 1_000, 345]);
    assert.deepEqual(await storedIds(old.db), sent.map((r) => r.requestId), 'every payload, in the old order');

    const beacon = beaconOn(old.db);
    await bootstrapAdmin(beacon.users, ADMIN_KEY);
    const request = supertest(beacon.app);
    assert.equal((await request.get('/v1/admin/insights-connection/status').set(admin)).body.backlog, 2_345);
    assert.equal((await request.post('/v1/admin/insights-connection').set(admin).send(connectionFor(info, 'plaintext', topic, ca))).status, 200);
    beacon.insights.start();
    try {
      await waitFor('the upgraded outbox to drain', () => beacon.insights.status(), (s) => s.backlog === 0);
      const got = await consumeAll(info, topic, { expected: sent.length, timeoutMs: 60_000 });
      assert.equal(got.length, sent.length);
      const byId = new Map(sent.map((r) => [r.requestId, r]));
      for (const m of got) assertMessage(m, byId.get(m.headers.ce_id)!);
      assert.deepEqual(got.sort((a, b) => Number(a.offset) - Number(b.offset)).map((m) => m.headers.ce_id), sent.map((r) => r.requestId));
    } finally {
      await beacon.insights.stop();
    }
  } finally {
    await old.drop();
  }
});

test('rows stored by another Beacon wake this relay at once (LISTEN/NOTIFY), not after its idle poll', async () => {
  const topic = await freshTopic('notify');
  // The writer runs no relay; the relay's idle poll is a minute, longer than this test may wait.
  const t = await startTestApp({ INSIGHTS_RELAY_ENABLED: 'false' });
  const relayer = beaconOn(t.testDb.db, { INSIGHTS_RELAY_IDLE_MS: '60000', INSIGHTS_SPOOL_DIR: t.config.insights.spoolDir + '-relayer' });
  try {
    assert.equal((await t.request.post('/v1/admin/insights-connection').set(admin).send(connectionFor(info, 'plaintext', topic, ca))).status, 200);
    const tailed: string[] = [];
    relayer.insights.onDelivered((batch) => tailed.push(...batch.map((p) => JSON.parse(p.value).request_id as string)));
    relayer.insights.start();
    await waitFor('the relay to connect and go idle', () => relayer.insights.status(), (s) => s.connected);
    await new Promise((r) => setTimeout(r, 500)); // asleep for its minute now
    const all: string[] = [];
    for (let round = 0; round < 2; round++) {
      const sent = Array.from({ length: 20 }, () => record('notify', 'Algo'));
      all.push(...sent.map((r) => r.requestId));
      await Promise.all(sent.map((r) => t.beacon.insights.sink.accept(r)));
      await waitFor('the other Beacon to deliver', () => status(t), (s) => s.backlog === 0, 15_000);
    }
    assert.equal((await status(t)).delivered, 40);
    assert.deepEqual(new Set(tailed), new Set(all), 'the live-tail hook saw every acknowledged payload, exact value text');
  } finally {
    await relayer.insights.stop();
    await t.close();
  }
});

test('a payload the broker refuses even alone is set aside with its reason; the rest of its batch is delivered', async () => {
  const topic = `insights-small-${randomBytes(4).toString('hex')}`;
  topics.push(topic);
  await createTopic(info, topic, 1, { 'max.message.bytes': '2000' });
  const t = await startTestApp();
  try {
    // ~6 KB of metrics: larger than the topic takes in one record batch.
    const bigMetrics = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`${'m'.repeat(200)}${i}`, i]));
    const small = Array.from({ length: 6 }, () => record('aside', 'Algo'));
    const big = record('aside', 'Algo', bigMetrics);
    const sent = [...small.slice(0, 3), big, ...small.slice(3)];
    await Promise.all(sent.map((r) => t.beacon.insights.sink.accept(r))); // one group commit, one row
    assert.equal(Number((await t.testDb.db('insights_outbox_batch').count('* as n'))[0].n), 1);
    assert.equal((await t.request.post('/v1/admin/insights-connection').set(admin).send(connectionFor(info, 'plaintext', topic, ca))).status, 200);
    t.beacon.insights.start();
    const s = await waitFor('the small payloads to be delivered and the big one set aside', () => status(t), (x) => x.backlog === 0 && x.set_aside === 1);
    assert.equal(s.delivered, 6);
    assert.equal(s.dropped, 0);
    // The chunks acknowledged before the refusal are sent again with the rest (duplicates with the
    // same ce_id, as after any rolled-back relay transaction): read everything there is.
    const got = await consumeAll(info, topic, { timeoutMs: 8_000 });
    assert.deepEqual(new Set(got.map((m) => m.headers.ce_id)), new Set(small.map((r) => r.requestId)));
    const aside = await t.testDb.db('insights_outbox_set_aside').select('payloads', 'reason', 'message');
    assert.equal(aside.length, 1);
    assert.equal(aside[0].reason, 'message_too_large');
    assert.match(aside[0].message, new RegExp(big.requestId));
    assert.match((await t.request.get('/metrics').set(admin)).text, /^beacon_insights_payloads_total\{stage="set_aside"\} 1$/m);
  } finally {
    await t.close();
  }
});

test('why a batch waits is stored with it: a restarted Beacon still tells the status route', async () => {
  const t = await startTestApp();
  try {
    const missing = `insights-missing-${randomBytes(4).toString('hex')}`; // never created
    assert.equal((await t.request.post('/v1/admin/insights-connection').set(admin).send(connectionFor(info, 'plaintext', missing, ca))).status, 200);
    t.beacon.insights.start();
    await Promise.all(Array.from({ length: 5 }, () => t.beacon.insights.sink.accept(record())));
    await waitFor('a failed attempt stored with the batch', () => status(t), (s) => s.undelivered_last_error?.reason === 'topic_missing');
    await t.beacon.insights.stop();

    const next = beaconOn(t.testDb.db); // a fresh process: no in-memory error
    const s = await next.insights.status();
    assert.equal(s.last_error, null);
    assert.equal(s.backlog, 5);
    assert.equal(s.undelivered_last_error?.reason, 'topic_missing');
    assert.ok((s.undelivered_last_error?.attempts ?? 0) >= 1);
    assert.match(s.undelivered_last_error?.message ?? '', /topic/i);
  } finally {
    await t.close();
  }
});

test('/readyz stays bounded when every pooled connection is taken: 503 with the database check failed, no hang', async () => {
  const t = await startTestApp();
  const held: Array<() => void> = [];
  try {
    // Take all ten pooled connections and keep them.
    const busy = Array.from({ length: 10 }, () =>
      t.testDb.db.transaction((trx) => trx.raw('select 1').then(() => new Promise<void>((resolve) => held.push(resolve)))),
    );
    await waitFor('the pool to be exhausted', async () => held.length, (n) => n === 10, 10_000);
    const res = await t.request.get('/readyz').set(admin).timeout(5_000);
    assert.equal(res.status, 503);
    assert.equal(res.body.status, 'not ready');
    // The detail needs the admin key recognised, itself bounded: present only when the key was cached.
    if (res.body.checks) assert.equal(res.body.checks.database, 'unreachable');
    held.forEach((release) => release());
    await Promise.all(busy);
    assert.equal((await t.request.get('/readyz')).status, 200);
  } finally {
    held.forEach((release) => release());
    await t.close();
  }
});
