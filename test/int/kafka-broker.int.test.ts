// Proves the dev/test broker from scripts/kafka is real and configured as documented: every
// listener round-trips a message, both SCRAM mechanisms work for the same user, TLS is verified
// against our CA, bad credentials are rejected and the ACL-less user may not write.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Kafka, Partitioners, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import { consumeAll, consumeWith, createTopic, deleteTopic, ensureKafka, type KafkaInfo } from '../support/kafka.js';

let info: KafkaInfo;
const topics: string[] = [];

before(async () => {
  info = await ensureKafka();
}, { timeout: 15 * 60_000 });

after(async () => {
  for (const topic of topics) await deleteTopic(info, topic);
});

type Mechanism = 'scram-sha-256' | 'scram-sha-512';
const MECHANISMS: Mechanism[] = ['scram-sha-256', 'scram-sha-512'];

function scram(mechanism: Mechanism, username: string, password: string): SASLOptions {
  return { mechanism, username, password };
}

function client(config: Omit<KafkaConfig, 'clientId' | 'logLevel'>): Kafka {
  return new Kafka({ clientId: 'kafka-broker-int-test', logLevel: logLevel.NOTHING, ...config });
}

async function freshTopic(label: string): Promise<string> {
  const topic = `broker-test-${label}-${randomUUID().slice(0, 8)}`;
  topics.push(topic);
  await createTopic(info, topic, 1);
  return topic;
}

/** Produces one message and reads it back, both through `kafka`. */
async function roundTrip(kafka: Kafka, label: string): Promise<void> {
  const topic = await freshTopic(label);
  const key = randomUUID();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true });
  await producer.connect();
  try {
    const [meta] = await producer.send({
      topic,
      messages: [{ key, value: `hello over ${label}`, headers: { listener: label } }],
    });
    assert.equal(meta?.errorCode, 0);
  } finally {
    await producer.disconnect();
  }

  const got = await consumeWith(kafka, topic, { expected: 1, timeoutMs: 20_000 });
  assert.equal(got.length, 1, `no message came back over ${label}`);
  assert.equal(got[0]?.key, key);
  assert.equal(got[0]?.value, `hello over ${label}`);
  assert.deepEqual(got[0]?.headers, { listener: label });
}

async function connectError(kafka: Kafka): Promise<Error & { type?: string }> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  try {
    await producer.connect();
  } catch (err) {
    return err as Error;
  } finally {
    await producer.disconnect();
  }
  assert.fail('connect() should have failed');
}

test('start script reports every listener, both mechanisms and the CA', () => {
  for (const addr of [info.plaintext, info.sasl_plaintext, info.sasl_ssl]) assert.match(addr, /^127\.0\.0\.1:\d+$/);
  assert.deepEqual(info.mechanisms, ['SCRAM-SHA-256', 'SCRAM-SHA-512']);
  assert.match(readFileSync(info.ca_certificate, 'utf8'), /BEGIN CERTIFICATE/);
  assert.equal(info.topic, 'insights');
  assert.ok(info.pid > 0);
});

test('the insights topic exists with 3 partitions', async () => {
  const admin = client({ brokers: [info.plaintext] }).admin();
  await admin.connect();
  try {
    const { topics: [meta] } = await admin.fetchTopicMetadata({ topics: [info.topic] });
    assert.equal(meta?.partitions.length, 3);
  } finally {
    await admin.disconnect();
  }
});

test('PLAINTEXT listener round-trips a message', { timeout: 60_000 }, async () => {
  await roundTrip(client({ brokers: [info.plaintext] }), 'plaintext');
  // consumeAll reads PLAINTEXT too; it sees what the plaintext producer wrote.
  const got = await consumeAll(info, topics[topics.length - 1]!, { expected: 1, timeoutMs: 20_000 });
  assert.equal(got[0]?.value, 'hello over plaintext');
});

for (const mechanism of MECHANISMS) {
  test(`SASL_PLAINTEXT with ${mechanism} round-trips a message as beacon`, { timeout: 60_000 }, async () => {
    const sasl = scram(mechanism, 'beacon', info.users.beacon);
    await roundTrip(client({ brokers: [info.sasl_plaintext], sasl }), `sasl-plaintext-${mechanism}`);
  });

  test(`SASL_SSL with ${mechanism} round-trips a message, TLS verified by our CA`, { timeout: 60_000 }, async () => {
    const sasl = scram(mechanism, 'beacon', info.users.beacon);
    const ssl = { ca: [readFileSync(info.ca_certificate, 'utf8')] };
    await roundTrip(client({ brokers: [info.sasl_ssl], sasl, ssl }), `sasl-ssl-${mechanism}`);
  });

  test(`a wrong ${mechanism} password is rejected with an authentication error`, { timeout: 30_000 }, async () => {
    const sasl = scram(mechanism, 'beacon', 'definitely-wrong');
    const err = await connectError(client({ brokers: [info.sasl_plaintext], sasl, retry: { retries: 0 } }));
    assert.equal(err.name, 'KafkaJSSASLAuthenticationError');
    assert.match(err.message, /authentication failed/i);
  });
}

test('SASL_SSL without our CA fails the TLS handshake', { timeout: 30_000 }, async () => {
  const sasl = scram('scram-sha-512', 'beacon', info.users.beacon);
  const err = await connectError(client({ brokers: [info.sasl_ssl], sasl, ssl: true, retry: { retries: 0 } }));
  assert.match(`${err.message} ${String((err as { cause?: unknown }).cause ?? '')}`, /self[- ]signed|unable to (get|verify)|certificate/i);
});

test('user nobody authenticates but may not write (no ACLs)', { timeout: 30_000 }, async () => {
  assert.ok(info.users.nobody, 'start.sh reports the password of user nobody');
  const topic = await freshTopic('denied');
  const sasl = scram('scram-sha-512', 'nobody', info.users.nobody);
  const producer = client({ brokers: [info.sasl_plaintext], sasl, retry: { retries: 0 } }).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    await assert.rejects(producer.send({ topic, messages: [{ value: 'must not land' }] }), (err: Error & { type?: string }) => {
      assert.match(`${err.name} ${err.type ?? ''} ${err.message}`, /AUTHORIZATION|not authorized/i);
      return true;
    });
  } finally {
    await producer.disconnect();
  }
  assert.deepEqual(await consumeAll(info, topic, { timeoutMs: 3_000 }), []);
});
