// The relay's loop against a fake outbox and a fake producer: order, rollback on failure, back-off,
// producer rebuilds, connection changes, payloads set aside, the delivered hook, stop().
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { Backoff } from '../../src/insights/backoff';
import type { KafkaConnection } from '../../src/insights/connection';
import { DeliveryError, PoisonPayloadError } from '../../src/insights/kafka-errors';
import type { OutboxMessage } from '../../src/insights/outbox-records';
import type { ClaimedBatch, RelayTx } from '../../src/insights/outbox-store';
import { type DeliveredPayload, Relay, type RelayDeps, type RelayProducer } from '../../src/insights/relay';

const logger = pino({ level: 'silent' });
const CONN: KafkaConnection = { connectionType: 'kafka_unauthenticated_plaintext', brokers: ['127.0.0.1:1'], topic: 't' };

function message(rowId: string, index: number, n: string): OutboxMessage {
  const b = (s: string) => Buffer.from(s);
  return { rowId, index, requestId: b(`req-${n}`), key: b('o/n'), ceSource: b('/algorithms/o/n/1.0.0'), eventTime: b('2026-01-01T00:00:00.000Z'), value: b(`{"n":${n}}`) };
}

/** A batch row holding `payloads` payloads (named <id> when alone, <id>.<i> otherwise). */
function row(id: number, payloads = 1): ClaimedBatch {
  const rowId = String(id);
  return { id: rowId, messages: Array.from({ length: payloads }, (_, i) => message(rowId, i, payloads === 1 ? rowId : `${rowId}.${i}`)) };
}

/** What the fake producer records for a message: the name its row gave it. */
const nameOf = (m: OutboxMessage) => m.requestId.toString().slice(4);

/** An in-memory outbox with the relay transaction's semantics: deletes apply on commit only. */
class FakeOutbox {
  rows: ClaimedBatch[] = [];
  locked = false;
  failedAttempts: string[] = [];
  failedReasons: string[] = [];
  setAsideIds: string[] = [];
  transactions = 0;

  add(from: number, to: number) {
    for (let i = from; i <= to; i++) this.rows.push(row(i));
  }

  async inRelayTransaction<T>(_key: number, work: (tx: RelayTx) => Promise<T>) {
    if (this.locked) return { locked: true } as const;
    this.transactions += 1;
    const deleted = new Set<string>();
    const value = await work({
      claim: async (maxPayloads, afterId) => {
        const out: ClaimedBatch[] = [];
        let before = 0;
        for (const r of this.rows.filter((x) => Number(x.id) > Number(afterId ?? 0))) {
          if (before >= maxPayloads) break;
          out.push(r);
          before += r.messages.length;
        }
        return out;
      },
      markDelivered: async (ids) => ids.forEach((id) => deleted.add(id)),
    });
    this.rows = this.rows.filter((r) => !deleted.has(r.id)); // commit
    return { locked: false, value } as const;
  }

  async recordFailedAttempt(ids: string[], _payloads: number, error: { reason: string }) {
    this.failedAttempts.push(...ids);
    this.failedReasons.push(error.reason);
  }

  async setAside(rowId: string, index: number) {
    const r = this.rows.find((x) => x.id === rowId);
    const m = r?.messages[index];
    if (!r || !m) return false;
    this.setAsideIds.push(nameOf(m));
    r.messages = r.messages.filter((_, i) => i !== index).map((x, i) => ({ ...x, index: i }));
    if (r.messages.length === 0) this.rows = this.rows.filter((x) => x !== r);
    return true;
  }
}

/** Records what was sent; `failNext` makes the next sends throw. */
class FakeKafka {
  sent: string[] = [];
  sends = 0;
  producersCreated = 0;
  disconnects = 0;
  failures: Error[] = [];
  inFlight = 0;
  maxInFlight = 0;

  async create(_conn: KafkaConnection): Promise<RelayProducer> {
    this.producersCreated += 1;
    return {
      send: async (_topic, rows) => {
        this.inFlight += 1;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        await new Promise((r) => setImmediate(r));
        this.inFlight -= 1;
        const failure = this.failures.shift();
        if (failure) throw failure;
        this.sends += 1;
        this.sent.push(...rows.map(nameOf));
      },
      disconnect: async () => {
        this.disconnects += 1;
      },
    };
  }
}

function relayWith(outbox: FakeOutbox, kafka: FakeKafka, extra: Partial<RelayDeps> = {}) {
  const counts = { delivered: 0, failed: 0, setAside: 0 };
  const acked: DeliveredPayload[][] = [];
  let conn: { fingerprint: string; connection: KafkaConnection } | undefined = { fingerprint: 'a', connection: CONN };
  const relay = new Relay({
    outbox,
    connection: async () => conn,
    createProducer: (c) => kafka.create(c),
    countDelivered: (n) => (counts.delivered += n),
    countFailed: (n) => (counts.failed += n),
    countSetAside: (n) => (counts.setAside += n),
    onDelivered: (batch) => acked.push(batch),
    logger,
    batchSize: 10,
    idleMs: 5,
    backoff: new Backoff({ initialMs: 2, maxMs: 20, random: () => 0.5 }),
    ...extra,
  });
  return { relay, counts, acked, setConnection: (c: typeof conn) => (conn = c) };
}

async function until(cond: () => boolean, what: string, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

test('delivers every row once, oldest first, one send at a time, and deletes them', async () => {
  const outbox = new FakeOutbox();
  outbox.add(1, 95);
  const kafka = new FakeKafka();
  const { relay, counts } = relayWith(outbox, kafka);
  relay.start();
  await until(() => outbox.rows.length === 0, 'drain');
  await relay.stop();
  assert.deepEqual(kafka.sent, Array.from({ length: 95 }, (_, i) => String(i + 1)));
  assert.equal(kafka.sends, 10, 'one produce request per batch of 10');
  assert.equal(kafka.maxInFlight, 1);
  assert.equal(counts.delivered, 95);
  assert.equal(relay.state().connected, false, 'stop() disconnects');
  assert.equal(kafka.disconnects, 1);
});

test('a failed send rolls back, counts the failure, backs off, rebuilds the producer and resumes', async () => {
  const outbox = new FakeOutbox();
  outbox.add(1, 25);
  const kafka = new FakeKafka();
  kafka.failures.push(
    new DeliveryError('unreachable', 'Could not reach the broker'),
    new DeliveryError('authentication_failed', 'The broker rejected the credentials'),
  );
  const { relay, counts } = relayWith(outbox, kafka);
  relay.start();
  await until(() => counts.failed === 20, 'two failed attempts');
  assert.equal(relay.state().lastError?.reason, 'authentication_failed');
  assert.ok(relay.state().lastErrorAt instanceof Date);
  await until(() => outbox.rows.length === 0, 'drain after recovery');
  await relay.stop();
  // Nothing was lost: every id was sent, the failed batch again after recovery, in order.
  assert.deepEqual([...new Set(kafka.sent)], Array.from({ length: 25 }, (_, i) => String(i + 1)));
  assert.deepEqual(outbox.failedAttempts.slice(0, 10), Array.from({ length: 10 }, (_, i) => String(i + 1)));
  assert.equal(kafka.producersCreated, 3, 'a fresh producer after each failure');
  assert.equal(relay.state().lastError, undefined, 'a success clears the error');
  assert.equal(counts.delivered, 25);
});

test('a failure in the middle of a transaction re-sends the earlier batches (duplicates, never losses)', async () => {
  const outbox = new FakeOutbox();
  outbox.add(1, 30);
  const kafka = new FakeKafka();
  kafka.failures.push(undefined as unknown as Error, new DeliveryError('unreachable', 'gone'));
  const { relay } = relayWith(outbox, kafka);
  relay.start();
  await until(() => outbox.rows.length === 0, 'drain');
  await relay.stop();
  for (let i = 1; i <= 30; i++) assert.ok(kafka.sent.includes(String(i)), `row ${i} delivered`);
  assert.deepEqual(kafka.sent.slice(0, 10), kafka.sent.slice(10, 20), 'the batch acked before the rollback is sent again first');
});

test('back-off grows while failing and is capped', () => {
  const b = new Backoff({ initialMs: 200, maxMs: 30_000, random: () => 1 });
  const delays = Array.from({ length: 12 }, () => b.next());
  assert.deepEqual(delays.slice(0, 4), [200, 400, 800, 1600]);
  assert.equal(Math.max(...delays), 30_000);
  const low = new Backoff({ initialMs: 200, maxMs: 30_000, random: () => 0 });
  assert.deepEqual([low.next(), low.next()], [100, 200], 'jitter keeps at least half the step');
  b.reset();
  assert.equal(b.next(), 200);
});

test('while another instance holds the relay lock nothing is sent', async () => {
  const outbox = new FakeOutbox();
  outbox.add(1, 5);
  outbox.locked = true;
  const kafka = new FakeKafka();
  const { relay } = relayWith(outbox, kafka);
  relay.start();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(kafka.sends, 0);
  outbox.locked = false;
  await until(() => outbox.rows.length === 0, 'drain once the lock is free');
  await relay.stop();
});

test('a replaced connection rebuilds the producer; no connection means no producer', async () => {
  const outbox = new FakeOutbox();
  const kafka = new FakeKafka();
  const { relay, setConnection } = relayWith(outbox, kafka);
  relay.start();
  await until(() => kafka.producersCreated === 1, 'first producer');
  setConnection({ fingerprint: 'b', connection: CONN });
  relay.notifyConnectionChanged();
  await until(() => kafka.producersCreated === 2, 'producer for the new connection');
  setConnection(undefined);
  await until(() => kafka.disconnects === 2, 'producer dropped when the connection is deleted');
  assert.equal(relay.state().connected, false);
  await relay.stop();
});

test('a payload the broker refuses on its own is set aside and counted, the rest of its batch flows', async () => {
  const outbox = new FakeOutbox();
  outbox.rows.push(row(1, 3), row(2));
  const kafka = new FakeKafka();
  kafka.failures.push(new PoisonPayloadError('1', 1, 'req-1.1', 'too large'));
  const { relay, counts } = relayWith(outbox, kafka);
  relay.start();
  await until(() => outbox.rows.length === 0, 'drain');
  await relay.stop();
  assert.deepEqual(outbox.setAsideIds, ['1.1']);
  assert.equal(counts.setAside, 1);
  assert.equal(counts.failed, 0, 'setting aside is not a failed attempt');
  assert.deepEqual(kafka.sent, ['1.0', '1.2', '2']);
});

test('batch rows of many payloads: one claim fills a produce request, order kept, the hook sees every acked payload', async () => {
  const outbox = new FakeOutbox();
  for (let id = 1; id <= 7; id++) outbox.rows.push(row(id, 4));
  const kafka = new FakeKafka();
  const { relay, counts, acked } = relayWith(outbox, kafka, { batchSize: 10 });
  relay.start();
  await until(() => outbox.rows.length === 0, 'drain');
  await relay.stop();
  const names = Array.from({ length: 7 }, (_, r) => Array.from({ length: 4 }, (_, i) => `${r + 1}.${i}`)).flat();
  assert.deepEqual(kafka.sent, names);
  assert.equal(kafka.sends, 3, 'claims of 3 rows (12 payloads), 3 rows, 1 row');
  assert.equal(counts.delivered, 28);
  assert.deepEqual(acked.flat().map((p) => p.requestId), names.map((n) => `req-${n}`));
  assert.deepEqual(acked.flat()[0], { key: 'o/n', value: '{"n":1.0}', requestId: 'req-1.0' });
});

test('a failed attempt stores its reason on the rows it tried', async () => {
  const outbox = new FakeOutbox();
  outbox.add(1, 3);
  const kafka = new FakeKafka();
  kafka.failures.push(new DeliveryError('topic_missing', 'The topic does not exist'));
  const { relay } = relayWith(outbox, kafka);
  relay.start();
  await until(() => outbox.rows.length === 0, 'drain');
  await relay.stop();
  assert.deepEqual(outbox.failedAttempts, ['1', '2', '3']);
  assert.deepEqual(outbox.failedReasons, ['topic_missing']);
});

test('database errors are reported, retried, and never escape the loop', async () => {
  const outbox = new FakeOutbox();
  outbox.add(1, 3);
  let fail = 2;
  const real = outbox.inRelayTransaction.bind(outbox);
  outbox.inRelayTransaction = (async (key: number, work: (tx: RelayTx) => Promise<unknown>) => {
    if (fail-- > 0) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    return real(key, work);
  }) as FakeOutbox['inRelayTransaction'];
  const kafka = new FakeKafka();
  const { relay } = relayWith(outbox, kafka);
  relay.start();
  await until(() => relay.state().lastError?.reason === 'database_unavailable', 'database error reported');
  await until(() => outbox.rows.length === 0, 'drain after the database is back');
  await relay.stop();
  assert.equal(kafka.producersCreated, 1, 'a database error does not throw the producer away');
});

test('stop() lets the batch in flight finish and commits it', async () => {
  const outbox = new FakeOutbox();
  outbox.add(1, 1000);
  const kafka = new FakeKafka();
  const { relay } = relayWith(outbox, kafka);
  relay.start();
  await until(() => kafka.sends >= 1, 'first send');
  await relay.stop();
  const left = outbox.rows.length;
  assert.equal(kafka.sent.length, 1000 - left, 'everything sent was deleted, nothing deleted was unsent');
  assert.ok(left > 0, 'stopped before draining everything');
});

test('a connection replaced during a relay transaction: the transaction is re-done with the new producer', async () => {
  const outbox = new FakeOutbox();
  outbox.add(1, 30);
  const kafka = new FakeKafka();
  const { relay, setConnection } = relayWith(outbox, kafka);
  const original = kafka.create.bind(kafka);
  const sentBy: string[][] = [];
  kafka.create = async (c) => {
    const p = await original(c);
    const mine: string[] = [];
    sentBy.push(mine);
    return {
      send: async (topic, rows) => {
        await p.send(topic, rows);
        mine.push(...rows.map(nameOf));
        // The admin replaces the connection while the first producer is sending.
        if (sentBy.length === 1 && mine.length === 10) setConnection({ fingerprint: 'b', connection: CONN });
      },
      disconnect: () => p.disconnect(),
    };
  };
  relay.start();
  await until(() => outbox.rows.length === 0, 'drain');
  await relay.stop();
  assert.equal(sentBy.length, 2);
  assert.deepEqual(sentBy[1], Array.from({ length: 30 }, (_, i) => String(i + 1)), 'everything went to the new connection');
});

test('rows announced one by one while idle go out together after the linger: one transaction, one send', async () => {
  const outbox = new FakeOutbox();
  const kafka = new FakeKafka();
  const { relay } = relayWith(outbox, kafka, { batchSize: 100, idleMs: 60_000, lingerMs: 100 });
  relay.start();
  await until(() => outbox.transactions === 1, 'the first, empty look');
  await new Promise((r) => setTimeout(r, 10)); // the relay is asleep now
  for (let i = 1; i <= 10; i++) {
    outbox.add(i, i);
    relay.notifyNewRows();
  }
  await until(() => outbox.rows.length === 0, 'drain');
  await relay.stop();
  assert.equal(kafka.sends, 1);
  assert.equal(outbox.transactions, 2);
  assert.deepEqual(kafka.sent, Array.from({ length: 10 }, (_, i) => String(i + 1)));
});

test('rows announced while the relay is busy are not left waiting for the idle interval', async () => {
  const outbox = new FakeOutbox();
  outbox.add(1, 5);
  const kafka = new FakeKafka();
  const { relay } = relayWith(outbox, kafka, { batchSize: 10, idleMs: 60_000, lingerMs: 0 });
  const create = kafka.create.bind(kafka);
  let announced = false;
  kafka.create = async (c) => {
    const producer = await create(c);
    return {
      ...producer,
      async send(topic, rows) {
        await producer.send(topic, rows);
        if (!announced) {
          announced = true;
          outbox.add(6, 8); // stored by a caller while the first batch is on its way
          relay.notifyNewRows();
        }
      },
    };
  };
  relay.start();
  await until(() => kafka.sent.length === 8, 'the rows stored during the first send');
  await relay.stop();
  assert.deepEqual(kafka.sent, ['1', '2', '3', '4', '5', '6', '7', '8']);
});
