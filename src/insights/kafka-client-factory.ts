import { Kafka, type KafkaConfig, logLevel, type LogEntry, Partitioners, type Producer, type SASLOptions } from 'kafkajs';
import type { Logger } from '../platform/logger';
import { isSasl, type KafkaConnection } from './connection';
import { classifyKafkaError, DeliveryError } from './kafka-errors';
import { installRecordEncoder } from './kafka-record-encoder';

// The one place that turns a stored connection into kafkajs objects. Only src/insights/kafka-*.ts
// import kafkajs.

/** kafkajs' own retries stay low: the relay's loop owns back-off, so a dead broker fails fast. */
export interface KafkaTuning {
  connectionTimeoutMs: number;
  authenticationTimeoutMs: number;
  requestTimeoutMs: number;
  retries: number;
  /** How long the broker may wait for acks=-1 (all in-sync replicas) before failing a produce. */
  ackTimeoutMs: number;
}

export const RELAY_TUNING: KafkaTuning = {
  connectionTimeoutMs: 3_000,
  authenticationTimeoutMs: 5_000,
  requestTimeoutMs: 15_000,
  retries: 2,
  ackTimeoutMs: 10_000,
};

/** The connection test answers within seconds, so it retries even less. */
export const PROBE_TUNING: KafkaTuning = {
  connectionTimeoutMs: 3_000,
  authenticationTimeoutMs: 5_000,
  requestTimeoutMs: 8_000,
  retries: 1,
  ackTimeoutMs: 5_000,
};

export function kafkaConfig(conn: KafkaConnection, tuning: KafkaTuning, logCreator: KafkaConfig['logCreator']): KafkaConfig {
  let sasl: SASLOptions | undefined;
  if (isSasl(conn.connectionType)) {
    const mechanism = (conn.saslMechanism ?? 'SCRAM-SHA-512').toLowerCase() as 'plain' | 'scram-sha-256' | 'scram-sha-512';
    sasl = { mechanism, username: conn.username ?? '', password: conn.password ?? '' } as SASLOptions;
  }
  const tls = conn.connectionType === 'kafka_sasl_ssl';
  return {
    clientId: 'beacon-insights',
    brokers: conn.brokers,
    // Without a CA of its own the broker is verified against the system's CAs; never unverified.
    ssl: tls ? { rejectUnauthorized: true, ...(conn.caCertificate ? { ca: [conn.caCertificate] } : {}) } : false,
    sasl,
    connectionTimeout: tuning.connectionTimeoutMs,
    authenticationTimeout: tuning.authenticationTimeoutMs,
    requestTimeout: tuning.requestTimeoutMs,
    enforceRequestTimeout: true,
    retry: { retries: tuning.retries, initialRetryTime: 100, maxRetryTime: 1_000 },
    logLevel: logLevel.WARN,
    logCreator,
  };
}

// kafkajs warns about this on every idempotent producer with bounded retries; bounded retries are
// deliberate here (the outbox re-sends, consumers dedupe on ce_id), so it is not worth a warning.
const EXPECTED_WARNINGS = [/Limiting retries for the idempotent producer/];

// kafkajs repeats the same complaint on every retry of every attempt while a broker is down; the
// relay already reports the classified cause once per 30 s.
const REPEAT_WINDOW_MS = 30_000;

/** kafkajs logs go to our pino logger at warn (repeats within 30 s at debug), never with credentials. */
export function pinoLogCreator(logger: Logger, now: () => number = Date.now) {
  const log = logger.child({ lib: 'kafkajs' });
  const lastSeen = new Map<string, number>();
  return () =>
    ({ namespace, level, log: entry }: LogEntry) => {
      if (level > logLevel.WARN) return;
      const { message, broker, clientId, error, retryCount, retryTime } = entry;
      const key = `${namespace}:${message}`;
      const repeated = now() - (lastSeen.get(key) ?? -Infinity) < REPEAT_WINDOW_MS;
      if (!repeated) {
        if (lastSeen.size > 1_000) lastSeen.clear();
        lastSeen.set(key, now());
      }
      const quiet = repeated || EXPECTED_WARNINGS.some((re) => re.test(message));
      log[quiet ? 'debug' : 'warn']({ namespace, broker, clientId, error, retryCount, retryTime }, message);
    };
}

export class KafkaClientFactory {
  // One log bridge for every client this factory makes, so repeats are recognised across the
  // producers the relay rebuilds.
  private readonly logCreator: KafkaConfig['logCreator'];

  constructor(logger: Logger) {
    this.logCreator = pinoLogCreator(logger);
    installRecordEncoder(); // before the first produce request loads kafkajs' encoder
  }

  kafka(conn: KafkaConnection, tuning: KafkaTuning = RELAY_TUNING): Kafka {
    return new Kafka(kafkaConfig(conn, tuning, this.logCreator));
  }

  /** One idempotent producer, acks from all in-sync replicas, one request in flight (keeps order). */
  newProducer(kafka: Kafka, tuning: KafkaTuning): Producer {
    return kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: tuning.retries, initialRetryTime: 100, maxRetryTime: 1_000 },
    });
  }
}

export function asDeliveryError(err: unknown): DeliveryError {
  const c = classifyKafkaError(err);
  return new DeliveryError(c.reason, c.message);
}
