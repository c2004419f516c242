import type { KafkaConnection } from './connection';
import type { OutboxMessage } from './outbox-records';

// The relay's producer lifecycle: one producer per connection fingerprint, built on first use,
// thrown away after a delivery failure (kafkajs may hold stale sequence numbers or a half-dead
// socket) or when the connection changes, and disconnected when the relay stops.

/** What the relay needs from a producer: send payloads, in order, or throw a DeliveryError. */
export interface RelayProducer {
  send(topic: string, messages: OutboxMessage[]): Promise<void>;
  disconnect(): Promise<void>;
}

export class ProducerLifecycle {
  private producer: RelayProducer | undefined;
  private current: string | undefined;

  constructor(private readonly create: (conn: KafkaConnection) => Promise<RelayProducer>) {}

  get fingerprint(): string | undefined {
    return this.current;
  }

  /** The producer for this connection, connecting it if needed. */
  async get(conn: KafkaConnection): Promise<RelayProducer> {
    this.producer ??= await this.create(conn);
    return this.producer;
  }

  /** Another connection (or none): the old producer goes. Returns true when it changed. */
  async switchTo(fingerprint: string | undefined): Promise<boolean> {
    if (fingerprint === this.current) return false;
    await this.drop();
    this.current = fingerprint;
    return true;
  }

  async drop(): Promise<void> {
    const p = this.producer;
    this.producer = undefined;
    if (p) await p.disconnect().catch(() => undefined);
  }
}
