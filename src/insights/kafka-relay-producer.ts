import type { Producer } from 'kafkajs';
import type { KafkaConnection } from './connection';
import { asDeliveryError, type KafkaClientFactory, RELAY_TUNING } from './kafka-client-factory';
import { PoisonPayloadError } from './kafka-errors';
import type { ClaimedEntry } from './outbox-store';
import { cloudEventHeaders } from './payload';
import type { RelayProducer } from './relay';

// The relay's producer. A claimed batch normally goes out as one produce request; it is cut into
// several only when it would exceed what a broker accepts in one record batch (message.max.bytes,
// 1 MiB by default, per partition). If the broker still answers "too large" (a topic configured
// smaller), the byte budget halves until it fits; a single payload the broker refuses on its own
// is reported as poison so it cannot block the outbox forever.

/** Under the default message.max.bytes (1,048,588) even if every record lands on one partition. */
export const DEFAULT_SEND_BUDGET_BYTES = 1_000_000;
// Record framing and varints (~24), the six header names and constant header values (~100), slack.
// Keys, payloads and header values are ASCII (payload.ts escapes the rest), so length = bytes.
const RECORD_OVERHEAD_BYTES = 140;

const estimate = (r: ClaimedEntry): number =>
  RECORD_OVERHEAD_BYTES + r.messageKey.length + r.payload.length + r.requestId.length + r.ceSource.length + r.eventTime.length;

export async function connectRelayProducer(factory: KafkaClientFactory, conn: KafkaConnection): Promise<RelayProducer> {
  const producer = factory.newProducer(factory.kafka(conn, RELAY_TUNING), RELAY_TUNING);
  try {
    await producer.connect();
  } catch (err) {
    await producer.disconnect().catch(() => undefined);
    throw asDeliveryError(err);
  }
  return new ChunkingProducer(producer);
}

export class ChunkingProducer implements RelayProducer {
  constructor(
    private readonly producer: Pick<Producer, 'send' | 'disconnect'>,
    private budget = DEFAULT_SEND_BUDGET_BYTES,
  ) {}

  async send(topic: string, rows: ClaimedEntry[]): Promise<void> {
    let start = 0;
    while (start < rows.length) {
      let end = start;
      let bytes = 0;
      do bytes += estimate(rows[end++]);
      while (end < rows.length && bytes + estimate(rows[end]) <= this.budget);
      const chunk = rows.slice(start, end);
      try {
        await this.producer.send({
          topic,
          acks: -1,
          timeout: RELAY_TUNING.ackTimeoutMs,
          messages: chunk.map((r) => ({ key: r.messageKey, value: r.payload, headers: cloudEventHeaders(r) })),
        });
        start = end;
      } catch (err) {
        const e = asDeliveryError(err);
        if (e.reason !== 'message_too_large') throw e;
        if (chunk.length === 1) {
          throw new PoisonPayloadError(chunk[0].id, chunk[0].requestId, `payload ${chunk[0].requestId} is larger than the broker accepts: ${e.message}`);
        }
        this.budget = Math.max(1, Math.floor(Math.min(this.budget, bytes) / 2));
      }
    }
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
  }
}
