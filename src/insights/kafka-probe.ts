import { randomUUID } from 'node:crypto';
import type { Admin, Producer } from 'kafkajs';
import type { KafkaConnection } from './connection';
import { type KafkaClientFactory, PROBE_TUNING } from './kafka-client-factory';
import { classifyKafkaError, type FailureReason } from './kafka-errors';
import { CE_SPECVERSION } from './payload';

// POST /v1/admin/insights-connection/test: does this connection work end to end?
// 1. connect (TCP, TLS verification, SASL authentication) with an admin client;
// 2. fetch the topic's metadata (exists, and we may describe it);
// 3. write one small test message with the same idempotent producer settings the relay uses.
// kafkajs has no way to ask "may I write?" without writing (Metadata v8 authorized operations are
// not implemented), so step 3 really produces. The message is marked with ce_type
// beacon.connection-test and has the operational fields of a payload, so flat-JSON consumers
// parse it and CloudEvents-aware consumers can skip it (docs/insights.md).

export const CONNECTION_TEST_CE_TYPE = 'beacon.connection-test';
const PROBE_DEADLINE_MS = 25_000;

export interface ProbeResult {
  ok: boolean;
  reason: FailureReason | 'ok';
  message: string;
}

export async function probeConnection(factory: KafkaClientFactory, conn: KafkaConnection): Promise<ProbeResult> {
  const kafka = factory.kafka(conn, PROBE_TUNING);
  let admin: Admin | undefined;
  let producer: Producer | undefined;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`no answer within ${PROBE_DEADLINE_MS / 1000} s`), { code: 'ETIMEDOUT' })),
      PROBE_DEADLINE_MS,
    );
  });
  let abandoned = false;
  const steps = async (): Promise<ProbeResult> => {
    admin = kafka.admin({ retry: { retries: PROBE_TUNING.retries } });
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: [conn.topic] });
    const partitions = meta.topics[0]?.partitions.length ?? 0;
    if (abandoned) throw new Error('abandoned after the deadline');
    producer = factory.newProducer(kafka, PROBE_TUNING);
    await producer.connect();
    const [written] = await producer.send({ topic: conn.topic, acks: -1, timeout: PROBE_TUNING.ackTimeoutMs, messages: [testMessage()] });
    return {
      ok: true,
      reason: 'ok',
      message:
        `Connected to ${conn.brokers.join(',')}, topic '${conn.topic}' has ${partitions} partition(s); ` +
        `a test message was written to partition ${written?.partition ?? '?'} (ce_type ${CONNECTION_TEST_CE_TYPE}).`,
    };
  };
  try {
    return await Promise.race([steps(), deadline]);
  } catch (err) {
    const c = classifyKafkaError(err);
    return { ok: false, reason: c.reason, message: c.message };
  } finally {
    abandoned = true;
    clearTimeout(timer);
    // Disconnects are best effort and must not hold the answer back on a dead broker.
    const quietly = (p: Promise<void> | undefined) => p?.catch(() => undefined);
    await Promise.race([
      Promise.all([quietly(producer?.disconnect()), quietly(admin?.disconnect())]),
      new Promise((r) => setTimeout(r, 2_000).unref()),
    ]);
  }
}

function testMessage() {
  const requestId = `req-${randomUUID()}`;
  const time = new Date().toISOString();
  return {
    key: 'beacon/connection-test',
    value: JSON.stringify({
      request_id: requestId,
      session_id: `rses-${randomUUID()}`,
      time,
      duration_milliseconds: 0,
      algorithm_owner: 'beacon',
      algorithm_name: 'connection-test',
      algorithm_version: '0.0.0',
    }),
    headers: {
      ce_specversion: CE_SPECVERSION,
      ce_id: requestId,
      ce_type: CONNECTION_TEST_CE_TYPE,
      ce_source: '/beacon/insights-connection/test',
      ce_time: time,
      'content-type': 'application/json',
    },
  };
}
