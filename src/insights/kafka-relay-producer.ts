import { CompressionTypes, type Producer } from 'kafkajs';
import type { KafkaConnection } from './connection';
import { asDeliveryError, type KafkaClientFactory, RELAY_TUNING } from './kafka-client-factory';
import { PoisonPayloadError } from './kafka-errors';
import type { OutboxMessage } from './outbox-records';
import { CE_SPECVERSION, CE_TYPE } from './payload';
import type { RelayProducer } from './relay-producer';

// The relay's producer. Claimed batches normally go out as one produce request; they are cut into
// several only when they would exceed what a broker accepts in one record batch (message.max.bytes,
// 1 MiB by default, per partition). If the broker still answers "too large" (a topic configured
// smaller), the byte budget halves until it fits; a single payload the broker refuses on its own
// is reported as poison so that it is set aside and cannot block the outbox.
//
// Key, value and the per-payload header values are slices of the outbox row's buffer, and the
// constant header values are shared Buffers: with kafka-record-encoder.ts nothing is converted or
// re-encoded per message except the record framing.

export type RelayCompression = 'none' | 'gzip';

/** Under the default message.max.bytes (1,048,588) even if every record lands on one partition. */
export const DEFAULT_SEND_BUDGET_BYTES = 1_000_000;
// Record framing and varints (~24), the six header names and constant header values (~100), slack.
const RECORD_OVERHEAD_BYTES = 140;

const SPECVERSION = Buffer.from(CE_SPECVERSION);
const TYPE = Buffer.from(CE_TYPE);
const JSON_TYPE = Buffer.from('application/json');

const estimate = (m: OutboxMessage): number =>
  RECORD_OVERHEAD_BYTES + m.key.length + m.value.length + m.requestId.length + m.ceSource.length + m.eventTime.length;

/** The message kafkajs sends for one payload: the CloudEvents binary-mode headers, in this order. */
export function kafkaMessage(m: OutboxMessage) {
  return {
    key: m.key,
    value: m.value,
    headers: { ce_specversion: SPECVERSION, ce_id: m.requestId, ce_type: TYPE, ce_source: m.ceSource, ce_time: m.eventTime, 'content-type': JSON_TYPE },
  };
}

export async function connectRelayProducer(factory: KafkaClientFactory, conn: KafkaConnection, compression: RelayCompression = 'none'): Promise<RelayProducer> {
  const producer = factory.newProducer(factory.kafka(conn, RELAY_TUNING), RELAY_TUNING);
  try {
    await producer.connect();
  } catch (err) {
    await producer.disconnect().catch(() => undefined);
    throw asDeliveryError(err);
  }
  return new ChunkingProducer(producer, DEFAULT_SEND_BUDGET_BYTES, compression);
}

export class ChunkingProducer implements RelayProducer {
  constructor(
    private readonly producer: Pick<Producer, 'send' | 'disconnect'>,
    private budget = DEFAULT_SEND_BUDGET_BYTES,
    private readonly compression: RelayCompression = 'none',
  ) {}

  async send(topic: string, messages: OutboxMessage[]): Promise<void> {
    let start = 0;
    while (start < messages.length) {
      let end = start;
      let bytes = 0;
      do bytes += estimate(messages[end++]);
      while (end < messages.length && bytes + estimate(messages[end]) <= this.budget);
      const chunk = messages.slice(start, end);
      try {
        await this.producer.send({
          topic,
          acks: -1,
          timeout: RELAY_TUNING.ackTimeoutMs,
          compression: this.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
          messages: chunk.map(kafkaMessage),
        });
        start = end;
      } catch (err) {
        const e = asDeliveryError(err);
        if (e.reason !== 'message_too_large') throw e;
        if (chunk.length === 1) {
          const m = chunk[0];
          const id = m.requestId.toString();
          throw new PoisonPayloadError(m.rowId, m.index, id, `payload ${id} is larger than the broker accepts: ${e.message}`);
        }
        this.budget = Math.max(1, Math.floor(Math.min(this.budget, bytes) / 2));
      }
    }
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
  }
}
