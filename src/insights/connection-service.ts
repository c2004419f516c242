import { randomUUID } from 'node:crypto';
import { ErrorCode, notFound } from '../platform/errors';
import type { Logger } from '../platform/logger';
import {
  connectionFingerprint,
  isSasl,
  type KafkaConnection,
  SecretUnreadableError,
  type StoredConnection,
} from './connection';
import type { ConnectionBody } from './connection-schema';
import type { ConnectionStore } from './connection-store';
import type { ProbeResult } from './kafka-probe';
import type { ActiveConnection } from './relay';
import type { SecretBox } from './secret-box';

export interface ConnectionServiceDeps {
  store: ConnectionStore;
  secrets: SecretBox;
  probe(conn: KafkaConnection): Promise<ProbeResult>;
  /** Called after the stored connection was replaced or deleted. */
  onChange(): void;
  logger: Logger;
}

/** The admin connection: set, read (never the password), delete, test; and the relay's view of it. */
export class ConnectionService {
  // The relay reads the connection on every loop; decrypt only when it changed.
  private cache: ActiveConnection | undefined;

  constructor(private readonly deps: ConnectionServiceDeps) {}

  async get(): Promise<StoredConnection> {
    const c = await this.deps.store.find();
    if (!c) throw notFound('No Insights connection is configured.', ErrorCode.ConfigEntryNotFound);
    return c;
  }

  async set(body: ConnectionBody): Promise<StoredConnection> {
    const conn = fromBody(body);
    const stored = await this.deps.store.replace({
      id: body.id ?? randomUUID(),
      connectionType: conn.connectionType,
      brokers: conn.brokers,
      topic: conn.topic,
      username: conn.username,
      passwordSealed: conn.password === undefined ? undefined : this.deps.secrets.encrypt(conn.password),
      saslMechanism: conn.saslMechanism,
      caCertificate: conn.caCertificate,
    });
    this.deps.onChange();
    // Never the password, nor the CA text: what changed, for the audit trail.
    this.deps.logger.info(
      { connectionType: stored.connectionType, brokers: stored.brokers, topic: stored.topic, generation: stored.generation },
      'insights connection replaced',
    );
    return stored;
  }

  async delete(): Promise<void> {
    if (await this.deps.store.delete()) this.deps.logger.info('insights connection deleted; payloads wait in the outbox');
    this.deps.onChange();
  }

  /** Tests the candidate in the body without saving it, or the stored connection for an empty body. */
  async test(body: ConnectionBody | Record<string, never>): Promise<ProbeResult> {
    if ('connection_type' in body) return this.deps.probe(fromBody(body as ConnectionBody));
    const active = await this.active();
    if (!active) throw notFound('No Insights connection is configured; send one in the body to test it.', ErrorCode.ConfigEntryNotFound);
    return this.deps.probe(active.connection);
  }

  /** What the relay delivers to, with the password decrypted; undefined when none is configured. */
  async active(): Promise<ActiveConnection | undefined> {
    const stored = await this.deps.store.find();
    if (!stored) {
      this.cache = undefined;
      return undefined;
    }
    const fingerprint = connectionFingerprint(stored);
    if (this.cache?.fingerprint === fingerprint) return this.cache;
    let password: string | undefined;
    if (stored.passwordSealed !== undefined) {
      try {
        password = this.deps.secrets.decrypt(stored.passwordSealed);
      } catch {
        throw new SecretUnreadableError();
      }
    }
    const { passwordSealed: _sealed, id: _id, generation: _g, updatedAt: _u, ...rest } = stored;
    this.cache = { fingerprint, connection: { ...rest, password } };
    return this.cache;
  }

  async isConfigured(): Promise<boolean> {
    return (await this.deps.store.find()) !== undefined;
  }
}

function fromBody(b: ConnectionBody): KafkaConnection {
  const sasl = isSasl(b.connection_type);
  return {
    connectionType: b.connection_type,
    brokers: b.broker_url.split(','),
    topic: b.topic,
    username: sasl ? b.broker_username : undefined,
    password: sasl ? b.broker_password : undefined,
    saslMechanism: sasl ? b.sasl_mechanism : undefined,
    caCertificate: b.connection_type === 'kafka_sasl_ssl' ? b.ca_certificate : undefined,
  };
}
