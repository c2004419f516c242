import type { Db } from '../platform/db';
import type { StoredConnection } from './connection';

interface ConnectionRow {
  connection_id: string;
  connection_type: StoredConnection['connectionType'];
  broker_url: string;
  topic: string;
  broker_username: string | null;
  broker_password_enc: string | null;
  sasl_mechanism: StoredConnection['saslMechanism'] | null;
  ca_certificate: string | null;
  generation: number;
  updated_at: Date;
}

export type NewConnection = Omit<StoredConnection, 'generation' | 'updatedAt'>;

/** SQL for the singleton insights_connection row (id = 1). find() returns undefined when unset. */
export class ConnectionStore {
  constructor(private readonly db: Db) {}

  async find(): Promise<StoredConnection | undefined> {
    const { rows } = await this.db.raw<{ rows: ConnectionRow[] }>('SELECT * FROM insights_connection WHERE id = 1');
    return rows[0] ? toConnection(rows[0]) : undefined;
  }

  /**
   * Replaces the connection in one statement, so readers see the old or the new one, never a mix.
   * generation goes up on every replacement; the relay rebuilds its producer when it changes.
   */
  async replace(c: NewConnection): Promise<StoredConnection> {
    const { rows } = await this.db.raw<{ rows: ConnectionRow[] }>(
      `INSERT INTO insights_connection AS ic
         (id, connection_id, connection_type, broker_url, topic, broker_username, broker_password_enc,
          sasl_mechanism, ca_certificate, generation, updated_at)
       VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, 1, clock_timestamp())
       ON CONFLICT (id) DO UPDATE SET
         connection_id = EXCLUDED.connection_id, connection_type = EXCLUDED.connection_type,
         broker_url = EXCLUDED.broker_url, topic = EXCLUDED.topic, broker_username = EXCLUDED.broker_username,
         broker_password_enc = EXCLUDED.broker_password_enc, sasl_mechanism = EXCLUDED.sasl_mechanism,
         ca_certificate = EXCLUDED.ca_certificate, generation = ic.generation + 1, updated_at = clock_timestamp()
       RETURNING *`,
      [
        c.id,
        c.connectionType,
        c.brokers.join(','),
        c.topic,
        c.username ?? null,
        c.passwordSealed ?? null,
        c.saslMechanism ?? null,
        c.caCertificate ?? null,
      ],
    );
    return toConnection(rows[0]);
  }

  /** Returns whether there was a connection to delete. */
  async delete(): Promise<boolean> {
    const { rowCount } = await this.db.raw<{ rowCount: number }>('DELETE FROM insights_connection WHERE id = 1');
    return rowCount > 0;
  }
}

function toConnection(r: ConnectionRow): StoredConnection {
  return {
    id: r.connection_id,
    connectionType: r.connection_type,
    brokers: r.broker_url.split(','),
    topic: r.topic,
    username: r.broker_username ?? undefined,
    passwordSealed: r.broker_password_enc ?? undefined,
    saslMechanism: r.sasl_mechanism ?? undefined,
    caCertificate: r.ca_certificate ?? undefined,
    generation: r.generation,
    updatedAt: r.updated_at,
  };
}
