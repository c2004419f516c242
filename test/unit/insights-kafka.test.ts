// Error classification (kafkajs wraps causes several levels deep) and the relay producer's
// chunking by bytes, with a fake kafkajs producer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kafkaConfig, pinoLogCreator, RELAY_TUNING } from '../../src/insights/kafka-client-factory';
import { classifyKafkaError, PoisonPayloadError } from '../../src/insights/kafka-errors';
import { ChunkingProducer, kafkaMessage } from '../../src/insights/kafka-relay-producer';
import { decodeRecords, encodeRecords, type OutboxMessage } from '../../src/insights/outbox-records';
import pino from 'pino';

const named = (name: string, message: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(message), { name, ...extra });

test('classifies the causes an operator can act on, however deeply kafkajs wraps them', () => {
  const cases: Array<[unknown, string]> = [
    [named('KafkaJSSASLAuthenticationError', 'SASL SCRAM SHA512 authentication failed'), 'authentication_failed'],
    [named('KafkaJSNonRetriableError', 'x', { cause: named('KafkaJSProtocolError', 'y', { type: 'UNSUPPORTED_SASL_MECHANISM' }) }), 'authentication_failed'],
    [named('KafkaJSConnectionError', 'Connection error: self-signed certificate in certificate chain', { code: 'SELF_SIGNED_CERT_IN_CHAIN' }), 'tls_verification_failed'],
    [named('KafkaJSConnectionError', "Hostname/IP does not match certificate's altnames", { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), 'tls_verification_failed'],
    [named('KafkaJSProtocolError', 'Not authorized', { type: 'TOPIC_AUTHORIZATION_FAILED' }), 'not_authorised'],
    [named('KafkaJSProtocolError', 'Cluster authorization failed', { type: 'CLUSTER_AUTHORIZATION_FAILED' }), 'not_authorised'],
    [named('KafkaJSNumberOfRetriesExceeded', 'retries', { originalError: named('KafkaJSProtocolError', 'This server does not host this topic-partition', { type: 'UNKNOWN_TOPIC_OR_PARTITION' }) }), 'topic_missing'],
    [named('KafkaJSNonRetriableError', 'x', { cause: named('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED 127.0.0.1:1', { code: 'ECONNREFUSED' }) }), 'unreachable'],
    [named('KafkaJSConnectionError', 'Connection timeout'), 'unreachable'],
    [named('KafkaJSProtocolError', 'too large', { type: 'MESSAGE_TOO_LARGE' }), 'message_too_large'],
    [named('KafkaJSProtocolError', 'Leader not available', { type: 'LEADER_NOT_AVAILABLE' }), 'broker_error'],
    ['a string', 'broker_error'],
  ];
  for (const [err, reason] of cases) assert.equal(classifyKafkaError(err).reason, reason, String((err as Error).message ?? err));
});

test('a connection closed by the broker says that the listener may expect another connection type', () => {
  const c = classifyKafkaError(named('KafkaJSConnectionClosedError', 'Closed connection'));
  assert.equal(c.reason, 'unreachable');
  assert.match(c.message, /another connection type/);
});

test('kafkajs config: TLS with the given CA, SASL mechanism lower-cased, low retries', () => {
  const logger = pinoLogCreator(pino({ level: 'silent' }));
  const tls = kafkaConfig(
    { connectionType: 'kafka_sasl_ssl', brokers: ['a:1', 'b:2'], topic: 't', username: 'u', password: 'p', saslMechanism: 'SCRAM-SHA-256', caCertificate: 'PEM' },
    RELAY_TUNING,
    logger,
  );
  assert.deepEqual(tls.ssl, { rejectUnauthorized: true, ca: ['PEM'] });
  assert.deepEqual(tls.sasl, { mechanism: 'scram-sha-256', username: 'u', password: 'p' });
  assert.deepEqual(tls.brokers, ['a:1', 'b:2']);
  assert.equal(tls.retry?.retries, 2);
  const plain = kafkaConfig({ connectionType: 'kafka_unauthenticated_plaintext', brokers: ['a:1'], topic: 't' }, RELAY_TUNING, logger);
  assert.equal(plain.ssl, false);
  assert.equal(plain.sasl, undefined);
  const saslPlain = kafkaConfig({ connectionType: 'kafka_sasl_plaintext', brokers: ['a:1'], topic: 't', username: 'u', password: 'p', saslMechanism: 'PLAIN' }, RELAY_TUNING, logger);
  assert.equal(saslPlain.ssl, false);
  assert.equal(saslPlain.sasl?.mechanism, 'plain');
});

test('kafkajs log lines go to pino at warn and never carry the SASL password', () => {
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (l: string) => void lines.push(l) });
  const log = pinoLogCreator(logger)();
  log({ namespace: 'Connection', level: 1, label: 'ERROR', log: { timestamp: '', message: 'Connection error', broker: 'a:1', sasl: { password: 'hunter2' } } });
  log({ namespace: 'Producer', level: 2, label: 'WARN', log: { timestamp: '', message: 'Limiting retries for the idempotent producer may invalidate EoS guarantees' } });
  log({ namespace: 'Producer', level: 4, label: 'INFO', log: { timestamp: '', message: 'info is dropped' } });
  log({ namespace: 'Connection', level: 1, label: 'ERROR', log: { timestamp: '', message: 'Connection error', broker: 'a:1' } });
  const parsed = lines.map((l) => JSON.parse(l));
  assert.equal(parsed.length, 3);
  assert.equal(parsed[2].level, 20, 'the same complaint again within 30 s is demoted');
  assert.equal(parsed[0].level, 40);
  assert.equal(parsed[0].msg, 'Connection error');
  assert.equal(parsed[1].level, 20, 'the deliberate bounded-retries warning is demoted');
  assert.ok(!lines.join('').includes('hunter2'));
});

const entry = (id: number, payloadBytes: number): OutboxMessage & { id: string } => ({
  ...decodeRecords(String(id), encodeRecords([{ requestId: `req-${id}`, messageKey: 'o/n', ceSource: '/algorithms/o/n/1.0.0', eventTime: '2026-01-01T00:00:00.000Z', payload: 'x'.repeat(payloadBytes) }]))[0],
  id: String(id),
});

function fakeProducer(maxBytes: number) {
  const calls: string[][] = [];
  return {
    calls,
    producer: {
      async send({ messages }: { messages: Array<{ value: Buffer; headers: Record<string, Buffer> }> }) {
        const bytes = messages.reduce((s, m) => s + m.value.length + 200, 0);
        if (bytes > maxBytes) throw Object.assign(new Error('too large'), { name: 'KafkaJSProtocolError', type: 'MESSAGE_TOO_LARGE' });
        calls.push(messages.map((m) => m.headers.ce_id.toString()));
        return [];
      },
      async disconnect() {},
    },
  };
}

test('a small batch goes out as one produce request with CloudEvents headers', async () => {
  const fake = fakeProducer(10_000_000);
  await new ChunkingProducer(fake.producer as never).send('t', [entry(1, 100), entry(2, 100)]);
  assert.deepEqual(fake.calls, [['req-1', 'req-2']]);
});

test('the message of a payload: the stored bytes and the six CloudEvents headers, in the documented order', () => {
  const m = kafkaMessage(entry(7, 10));
  assert.equal(m.key.toString(), 'o/n');
  assert.equal(m.value.toString(), 'x'.repeat(10));
  assert.deepEqual(Object.keys(m.headers), ['ce_specversion', 'ce_id', 'ce_type', 'ce_source', 'ce_time', 'content-type']);
  assert.deepEqual(Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, v.toString()])), {
    ce_specversion: '1.0',
    ce_id: 'req-7',
    ce_type: 'com.algorithmia.insights.v1',
    ce_source: '/algorithms/o/n/1.0.0',
    ce_time: '2026-01-01T00:00:00.000Z',
    'content-type': 'application/json',
  });
});

test('a batch over the byte budget is cut into requests, in order', async () => {
  const fake = fakeProducer(10_000_000);
  const rows = Array.from({ length: 10 }, (_, i) => entry(i + 1, 1_000));
  await new ChunkingProducer(fake.producer as never, 3_500).send('t', rows);
  assert.ok(fake.calls.length > 1);
  assert.deepEqual(fake.calls.flat(), rows.map((r) => r.requestId.toString()));
});

test('"too large" from the broker halves the budget until it fits; a lone oversized payload is poison', async () => {
  const fake = fakeProducer(5_000);
  const p = new ChunkingProducer(fake.producer as never, 1_000_000);
  const rows = Array.from({ length: 20 }, (_, i) => entry(i + 1, 1_000));
  await p.send('t', rows);
  assert.deepEqual(fake.calls.flat(), rows.map((r) => r.requestId.toString()));
  await assert.rejects(p.send('t', [entry(99, 10_000)]), (err: unknown) => err instanceof PoisonPayloadError && err.rowId === '99' && err.index === 0 && err.requestId === 'req-99');
});
