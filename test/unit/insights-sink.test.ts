// The outbox sink's group commit and overflow reporting, with a fake outbox store.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { test } from 'node:test';
import pino from 'pino';
import type { InsightsRecord } from '../../src/insights/insights-sink';
import { MAX_IN_FLIGHT, OutboxSink } from '../../src/insights/outbox-sink';
import type { InsertResult, OutboxEntry } from '../../src/insights/outbox-store';

const record = (i: number): InsightsRecord => ({
  requestId: `req-${randomUUID()}`,
  sessionId: `rses-${randomUUID()}`,
  time: new Date('2026-01-02T03:04:05.678Z'),
  durationMs: i,
  owner: 'ana',
  name: 'Counter',
  version: '1.2.3',
  metrics: { n: i },
});

function fakeStore(opts: { delayMs?: number; capacity?: number; fail?: boolean } = {}) {
  const batches: OutboxEntry[][] = [];
  let stored = 0;
  return {
    batches,
    async insertBatch(entries: OutboxEntry[]): Promise<InsertResult> {
      batches.push(entries);
      await new Promise((r) => setTimeout(r, opts.delayMs ?? 1));
      if (opts.fail) throw new Error('database down');
      const room = Math.max(0, (opts.capacity ?? Infinity) - stored);
      const inserted = Math.min(room, entries.length);
      stored += inserted;
      return { inserted, dropped: entries.length - inserted };
    },
  };
}

function sinkWith(store: ReturnType<typeof fakeStore>, lines: string[] = [], maxBatch?: number) {
  const counts = { accepted: 0, dropped: 0, stored: 0 };
  const sink = new OutboxSink({
    outbox: store,
    maxBacklog: 5,
    overflowPolicy: 'reject',
    logger: pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) }),
    onAccepted: (n) => (counts.accepted += n),
    onDropped: (n) => (counts.dropped += n),
    onStored: () => (counts.stored += 1),
    maxBatch,
  });
  return { sink, counts };
}

test('calls that arrive while an insert is in flight share the next one', async () => {
  const store = fakeStore({ delayMs: 20 });
  const { sink, counts } = sinkWith(store);
  await Promise.all(Array.from({ length: 200 }, (_, i) => sink.accept(record(i))));
  assert.equal(store.batches.flat().length, 200);
  assert.ok(store.batches.length <= 3, `200 concurrent calls took ${store.batches.length} statements`);
  assert.equal(counts.accepted, 200);
});

test('batches are capped', async () => {
  const store = fakeStore();
  const { sink } = sinkWith(store, [], 50);
  await Promise.all(Array.from({ length: 120 }, (_, i) => sink.accept(record(i))));
  assert.deepEqual(store.batches.map((b) => b.length), [50, 50, 20]);
});

test('entries carry the flat payload, the key and the CloudEvents attributes', async () => {
  const store = fakeStore();
  const { sink } = sinkWith(store);
  const r = record(7);
  await sink.accept(r);
  const [e] = store.batches[0];
  assert.equal(e.requestId, r.requestId);
  assert.equal(e.messageKey, 'ana/Counter');
  assert.equal(e.ceSource, '/algorithms/ana/Counter/1.2.3');
  assert.equal(e.eventTime, '2026-01-02T03:04:05.678Z');
  assert.deepEqual(JSON.parse(e.payload), {
    n: 7,
    request_id: r.requestId,
    session_id: r.sessionId,
    time: '2026-01-02T03:04:05.678Z',
    duration_milliseconds: 7,
    algorithm_owner: 'ana',
    algorithm_name: 'Counter',
    algorithm_version: '1.2.3',
  });
});

test('payloads refused by the overflow policy resolve, are counted and logged with a count', async () => {
  const store = fakeStore({ capacity: 5 });
  const lines: string[] = [];
  const { sink, counts } = sinkWith(store, lines);
  for (let i = 0; i < 8; i++) await sink.accept(record(i));
  await sink.flush();
  assert.equal(counts.accepted, 5);
  assert.equal(counts.dropped, 3);
  const warned = lines.map((l) => JSON.parse(l)).filter((l) => l.level === 40);
  assert.ok(warned.length >= 1 && warned.length <= 2, 'one line per interval, not one per payload');
  assert.equal(warned.reduce((s, l) => s + l.dropped, 0), 3);
  assert.match(warned[0].msg, /dropped/);
});

test('a database failure rejects every call of the batch', async () => {
  const store = fakeStore({ fail: true });
  const { sink } = sinkWith(store);
  const results = await Promise.allSettled([sink.accept(record(1)), sink.accept(record(2))]);
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
});

test('the payload matches the published JSON Schema, including odd metric names and values', async () => {
  const ajv = new Ajv2020({ allErrors: true, allowUnionTypes: true });
  addFormats(ajv);
  const validate = ajv.compile(JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'docs', 'insights-payload.schema.json'), 'utf8')));
  const store = fakeStore();
  const { sink } = sinkWith(store);
  await sink.accept({ ...record(1), metrics: { 'ünïcode_kéy': 1.5, zero: 0, neg: -3, flag: false, big: 1e21 } });
  await sink.accept({ ...record(2), version: 'a'.repeat(40), metrics: {} });
  for (const e of store.batches.flat()) {
    assert.match(e.payload, /^[\x20-\x7e]*$/, 'ASCII only');
    assert.ok(validate(JSON.parse(e.payload)), ajv.errorsText(validate.errors));
  }
  assert.ok(!validate({ ...JSON.parse(store.batches[0][0].payload), nested: { a: 1 } }), 'nested objects are not payloads');
});

test('at most MAX_IN_FLIGHT statements at once; callers arriving meanwhile form the next groups', async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const sizes: number[] = [];
  const store = {
    async insertBatch(entries: OutboxEntry[]): Promise<InsertResult> {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      sizes.push(entries.length);
      await new Promise((r) => setTimeout(r, 20)); // a commit waiting for its flush
      inFlight -= 1;
      return { inserted: entries.length, dropped: 0 };
    },
  };
  const sink = new OutboxSink({ outbox: store, maxBacklog: 1_000, overflowPolicy: 'reject', logger: pino({ level: 'silent' }), onAccepted: () => undefined, onDropped: () => undefined });
  const all: Promise<void>[] = [];
  for (let tick = 0; tick < 10; tick++) {
    for (let i = 0; i < 5; i++) all.push(sink.accept(record(tick * 5 + i)));
    await new Promise((r) => setTimeout(r, 2));
  }
  await Promise.all(all);
  await sink.flush();
  assert.equal(maxInFlight, MAX_IN_FLIGHT);
  assert.equal(sizes.reduce((a, b) => a + b, 0), 50, 'every payload written once');
  assert.ok(sizes.length < 10, `callers were grouped (${sizes.join(', ')})`);
});
