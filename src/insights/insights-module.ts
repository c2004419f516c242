import type { Config } from '../config';
import { connectionStringOf, createAsyncCommitPool, type Db } from '../platform/db';
import type { Logger } from '../platform/logger';
import type { Metrics } from '../platform/metrics';
import type { RouteDef } from '../platform/routes';
import { connectionRoutes } from './connection-routes';
import { ConnectionService } from './connection-service';
import { ConnectionStore } from './connection-store';
import type { InsightsSink } from './insights-sink';
import { type InsightsStatus, readStatus } from './insights-status';
import { KafkaClientFactory } from './kafka-client-factory';
import { LiveTail } from './live-tail';
import { liveTailRoutes } from './live-tail-routes';
import { probeConnection } from './kafka-probe';
import { connectRelayProducer } from './kafka-relay-producer';
import { guardKafkaRejections } from './kafka-rejection-guard';
import { OutboxSink } from './outbox-sink';
import { OutboxSpool } from './outbox-spool';
import { OutboxStore } from './outbox-store';
import { Relay } from './relay';
import { RelayThread } from './relay-thread';
import { SecretBox } from './secret-box';

export interface InsightsDeps {
  db: Db;
  config: Config;
  logger: Logger;
  metrics: Metrics;
}

export interface InsightsModule {
  routes: RouteDef[];
  sink: InsightsSink;
  /** Summary for /readyz and the status route. */
  status(): Promise<InsightsStatus>;
  /** Starts the relay (outbox -> Kafka) in the background. */
  start(): void;
  /** Flushes pending outbox writes and stops the relay after its current batch. */
  stop(): Promise<void>;
}

/** Wires the Insights pipeline: admin connection routes, the outbox sink, and the relay to Kafka. */
export function createInsightsModule(deps: InsightsDeps): InsightsModule {
  const { db, config, logger, metrics } = deps;
  if (!config.secretKey) {
    throw new Error('Insights needs config.secretKey (BEACON_SECRET_KEY, 32 bytes) to encrypt the broker password at rest');
  }
  const log = logger.child({ component: 'insights' });
  const { relayBatchSize, relayIdleMs, relayLingerMs, relayThread, maxBacklog, overflowPolicy, relayEnabled } = config.insights;
  const outbox = new OutboxStore(db);
  // The execution path's inserts: a separate small pool, committing asynchronously unless configured
  // otherwise (docs/insights.md, "Durability of the outbox write").
  const writerDb = config.insights.outboxSyncCommit ? undefined : createAsyncCommitPool(db);
  const outboxWrites = writerDb ? new OutboxStore(writerDb) : outbox;
  const kafka = new KafkaClientFactory(log);

  const payloads = metrics.insightsPayloads;
  const liveTail = new LiveTail(); // the console's live tail (issue 10): fed by the sink and the in-process relay
  const connections = new ConnectionService({
    store: new ConnectionStore(db),
    secrets: new SecretBox(config.secretKey, 'insights_connection.broker_password'),
    probe: (conn) => probeConnection(kafka, conn),
    onChange: () => relay.notifyConnectionChanged(),
    logger: log,
  });
  const onDelivered = (n: number) => payloads.inc({ stage: 'delivered' }, n);
  const onFailed = (n: number) => payloads.inc({ stage: 'failed' }, n);
  const onDropped = (n: number) => payloads.inc({ stage: 'dropped' }, n);
  const relay = relayThread
    ? new RelayThread({
        data: {
          connectionString: connectionStringOf(db),
          secretKey: new Uint8Array(config.secretKey),
          batchSize: relayBatchSize,
          idleMs: relayIdleMs,
          lingerMs: relayLingerMs,
          logLevel: config.logLevel,
        },
        logger,
        onDelivered,
        onFailed,
        onDropped,
      })
    : new Relay({
        outbox,
        connection: () => connections.active(),
        createProducer: (conn) => connectRelayProducer(kafka, conn),
        onDelivered,
        onFailed,
        onDropped,
        onDeliveredPayloads: (rows) => liveTail.delivered(rows),
        logger: log,
        batchSize: relayBatchSize,
        idleMs: relayIdleMs,
        lingerMs: relayLingerMs,
      });
  const spool = new OutboxSpool(config.insights.spoolDir, {
    async insert(entries) {
      const r = await outboxWrites.insertBatch(entries, maxBacklog, overflowPolicy);
      if (r.inserted > 0) payloads.inc({ stage: 'accepted' }, r.inserted);
      if (r.dropped > 0) payloads.inc({ stage: 'dropped' }, r.dropped);
      if (r.inserted > 0) relay.notifyNewRows();
    },
  }, log);
  const sink = new OutboxSink({
    spool,
    outbox: outboxWrites,
    maxBacklog,
    overflowPolicy,
    logger: log,
    onAccepted: (n) => payloads.inc({ stage: 'accepted' }, n),
    onDropped: (n) => payloads.inc({ stage: 'dropped' }, n),
    onStored: () => relay.notifyNewRows(),
    onStoredEntries: (entries) => liveTail.waiting(entries),
  });

  metrics.gauge('beacon_insights_backlog', 'Undelivered Insights payloads in the outbox (exact up to 100,000)', async () => (await outbox.backlog()).size);
  metrics.gauge(
    'beacon_insights_oldest_undelivered_age_seconds',
    'Age of the oldest undelivered Insights payload (0 when none)',
    async () => (await outbox.backlog()).oldestAgeSeconds ?? 0,
  );

  const status = () =>
    readStatus({
      configured: () => connections.isConfigured(),
      relay: () => relay.state(),
      relayEnabled,
      backlog: () => outbox.backlog(),
      counters: () => outbox.counters(),
      overflowPolicy,
      maxBacklog,
    });

  let unguard: (() => void) | undefined;
  let stopped: Promise<void> | undefined;
  return {
    routes: [...connectionRoutes(connections, status), ...liveTailRoutes(liveTail)],
    sink,
    status,
    start() {
      spool.start();
      if (!relayEnabled || unguard) return;
      stopped = undefined;
      unguard = guardKafkaRejections(log); // the relay thread installs its own
      relay.start();
    },
    stop() {
      stopped ??= (async () => {
        await sink.flush();
        spool.stop();
        await relay.stop();
        await writerDb?.destroy();
        unguard?.();
        unguard = undefined;
      })();
      return stopped;
    },
  };
}
