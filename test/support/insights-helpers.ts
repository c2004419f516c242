// Shared by the insights integration tests: admin calls, a second Beacon on the same database,
// record factories, polling with a bound, and payload assertions.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { createApp, type Beacon } from '../../src/app';
import { loadConfig } from '../../src/config';
import type { InsightsRecord } from '../../src/insights/insights-sink';
import { decodeRecords } from '../../src/insights/outbox-records';
import type { Db } from '../../src/platform/db';
import { createLogger } from '../../src/platform/logger';
import { ADMIN_KEY, type TestApp } from './app';
import { type ConsumedMessage, createTopic, type KafkaInfo, plaintextClient } from './kafka';

export const admin = { Authorization: `Simple ${ADMIN_KEY}` };
export const CE_HEADERS = ['ce_id', 'ce_source', 'ce_specversion', 'ce_time', 'ce_type', 'content-type'];
export const OPERATIONAL = ['algorithm_name', 'algorithm_owner', 'algorithm_version', 'duration_milliseconds', 'request_id', 'session_id', 'time'];

const ajv = new Ajv2020({ allErrors: true, allowUnionTypes: true });
addFormats(ajv);
/** docs/insights-payload.schema.json, compiled: the published contract of the message value. */
export const validatePayload = ajv.compile<Record<string, unknown>>(JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'docs', 'insights-payload.schema.json'), 'utf8')));

export type Listener = 'plaintext' | 'scram-256' | 'scram-512' | 'tls';

/** A connection body for one of the broker's listeners, with the right credentials unless told otherwise. */
export function connectionFor(info: KafkaInfo, listener: Listener, topic: string, ca: string, overrides: Record<string, unknown> = {}) {
  const sasl = (mechanism: string) => ({ broker_username: 'beacon', broker_password: info.users.beacon, sasl_mechanism: mechanism });
  const base =
    listener === 'plaintext'
      ? { connection_type: 'kafka_unauthenticated_plaintext', broker_url: info.plaintext, topic }
      : listener === 'tls'
        ? { connection_type: 'kafka_sasl_ssl', broker_url: info.sasl_ssl, topic, ...sasl('SCRAM-SHA-512'), ca_certificate: ca }
        : { connection_type: 'kafka_sasl_plaintext', broker_url: info.sasl_plaintext, topic, ...sasl(listener === 'scram-256' ? 'SCRAM-SHA-256' : 'SCRAM-SHA-512') };
  return { ...base, ...overrides };
}

export function record(owner = 'ana', name = 'Counter', metrics: InsightsRecord['metrics'] = { cats: 3, score: 0.25, ok: true }): InsightsRecord {
  return {
    requestId: `req-${randomUUID()}`,
    sessionId: `rses-${randomUUID()}`,
    time: new Date(),
    durationMs: 12.6,
    owner,
    name,
    version: '1.2.3',
    metrics,
  };
}

export async function waitFor<T>(what: string, probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (done(v)) return v;
    if (Date.now() > end) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function status(t: TestApp) {
  const res = await t.request.get('/v1/admin/insights-connection/status').set(admin);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

export const waitForDrain = (t: TestApp, timeoutMs = 60_000) => waitFor('the outbox to drain', () => status(t), (s) => s.backlog === 0, timeoutMs);

/** Asserts one consumed message is exactly the documented Insights message for `r`. */
export function assertMessage(m: ConsumedMessage, r: InsightsRecord): void {
  assert.equal(m.key, `${r.owner}/${r.name}`);
  assert.match(m.value, /^[\x20-\x7e]*$/, 'the value is ASCII-only JSON');
  const payload = JSON.parse(m.value) as Record<string, unknown>;
  assert.ok(validatePayload(payload), `the value matches docs/insights-payload.schema.json: ${ajv.errorsText(validatePayload.errors)}`);
  assert.deepEqual(Object.keys(payload).sort(), [...OPERATIONAL, ...Object.keys(r.metrics)].sort());
  assert.equal(payload.request_id, r.requestId);
  assert.equal(payload.session_id, r.sessionId);
  assert.equal(payload.time, r.time.toISOString());
  assert.equal(payload.duration_milliseconds, Math.round(r.durationMs));
  assert.equal(payload.algorithm_owner, r.owner);
  assert.equal(payload.algorithm_name, r.name);
  assert.equal(payload.algorithm_version, r.version);
  for (const [k, v] of Object.entries(r.metrics)) assert.deepEqual(payload[k], v, `metric ${k}`);
  assert.deepEqual(Object.keys(m.headers).sort(), CE_HEADERS);
  assert.deepEqual(m.headers, {
    ce_id: r.requestId,
    ce_source: `/algorithms/${r.owner}/${r.name}/${r.version}`,
    ce_specversion: '1.0',
    ce_time: r.time.toISOString(),
    ce_type: 'com.algorithmia.insights.v1',
    'content-type': 'application/json',
  });
}

/** Another Beacon on an existing database, as a second instance or a restarted one would be. */
export function beaconOn(db: Db, env: Record<string, string> = {}): Beacon {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    BEACON_SECRET_KEY: '0'.repeat(64),
    INSIGHTS_RELAY_IDLE_MS: '50',
    ...env,
  });
  return createApp({ config, db, logger: createLogger(config.logLevel), baseUrl: () => 'http://127.0.0.1' });
}

/** Creates a topic with a unique name and notes it in `created` (for deleteTopic in after()). */
export async function freshTopic(info: KafkaInfo, label: string, created: string[], partitions = 1): Promise<string> {
  const topic = `insights-${label}-${randomUUID().slice(0, 8)}`;
  created.push(topic);
  await createTopic(info, topic, partitions);
  return topic;
}

/** How many messages the topic holds (sum of end offsets): exact, duplicates included. */
export async function topicSize(info: KafkaInfo, topic: string): Promise<number> {
  const client = plaintextClient(info, 'insights-offsets').admin();
  await client.connect();
  try {
    return (await client.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await client.disconnect();
  }
}

/** Request ids of the undelivered payloads in the outbox, oldest first (decoded from the batch rows). */
export async function storedIds(db: Db): Promise<string[]> {
  const rows: Array<{ id: string; records: Buffer }> = await db('insights_outbox_batch').orderBy('id').select('id', 'records');
  return rows.flatMap((r) => decodeRecords(r.id, r.records).map((m) => m.requestId.toString()));
}

/** The undelivered payloads in the outbox by request id, parsed (decoded from the batch rows). */
export async function storedPayloads(db: Db): Promise<Map<string, Record<string, unknown>>> {
  const rows: Array<{ id: string; records: Buffer }> = await db('insights_outbox_batch').orderBy('id').select('id', 'records');
  const out = new Map<string, Record<string, unknown>>();
  for (const r of rows) for (const m of decodeRecords(r.id, r.records)) out.set(m.requestId.toString(), JSON.parse(m.value.toString()));
  return out;
}
