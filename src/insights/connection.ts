// The cluster-wide Insights broker connection as the domain sees it. One at a time (Algorithmia:
// "only one Insights broker connection per cluster").

export const CONNECTION_TYPES = ['kafka_sasl_ssl', 'kafka_sasl_plaintext', 'kafka_unauthenticated_plaintext'] as const;
export type ConnectionType = (typeof CONNECTION_TYPES)[number];

export const SASL_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export const isSasl = (t: ConnectionType): boolean => t !== 'kafka_unauthenticated_plaintext';

/** Everything needed to reach the broker; the password is plaintext and lives only in memory. */
export interface KafkaConnection {
  connectionType: ConnectionType;
  brokers: string[]; // host:port, in the order given
  topic: string;
  username?: string;
  password?: string;
  saslMechanism?: SaslMechanism;
  caCertificate?: string; // PEM, one or more certificates
}

/** The stored row: the password stays sealed until the relay or the test route needs it. */
export interface StoredConnection extends Omit<KafkaConnection, 'password'> {
  id: string;
  passwordSealed?: string;
  generation: number;
  updatedAt: Date;
}

/** Changes whenever the stored connection is replaced or deleted and set again. */
export const connectionFingerprint = (c: StoredConnection): string => `${c.id}:${c.generation}:${c.updatedAt.getTime()}`;

/** The stored password does not decrypt with the configured key (BEACON_SECRET_KEY changed?). */
export class SecretUnreadableError extends Error {
  constructor() {
    super('The stored broker password cannot be decrypted with the configured BEACON_SECRET_KEY; POST the connection again.');
    this.name = 'SecretUnreadableError';
  }
}
