import type { Config } from '../config';
import type { Db } from '../platform/db';
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
import { OutboxNotifications } from './outbox-notify-store';
import { OutboxSink } from './outbox-sink';
import { OutboxSpool } from './outbox-spool';
import { type BacklogStats, OutboxStore } from './outbox-store';
import { type DeliveredPayload, Relay } from './relay';
import { SecretBox } from './secret-box';

export interface InsightsDeps {
  db: Db;
  config: Config;
  logger: Logger;
  metrics: Metrics;
}

export type DeliveredListener = (payloads: DeliveredPayload[]) => void;

export interface InsightsModule {
  routes: RouteDef[];
  sink: InsightsSink;
  /** Summary for the status route (fresh reads). */
  status(): Promise<InsightsStatus>;
  /** The same summary for /readyz: the backlog comes from a snapshot at most a second old. */
  cachedStatus(): Promise<InsightsStatus>;
  /** Live tail: called with the payloads of every batch this instance's relay got acknowledged. */
  onDelivered(listener: DeliveredListener): () => void;
  /** Starts the relay (outbox -> Kafka) in the background. */
  start(): void;
  /** Flushes pending outbox writes and stops the relay after its current batch. */
  stop(): Promise<void>;
}

// /metrics and /readyz read the backlog at most this often, however often they are scraped.
const BACKLOG_SNAPSHOT_MS = 1_000;

/** Wires the Insights pipeline: admin connection routes, the outbox sink, and the relay to Kafka. */
export function createInsightsModule(deps: InsightsDeps): InsightsModule {
  const { db, config, logger, metrics } = deps;
  if (!config.secretKey) {
    throw new Error('Insights needs config.secretKey (BEACON_SECRET_KEY, 32 bytes) to encrypt the broker password at rest');
  }
  const log = logger.child({ component: 'insights' });
  const { relayBatchSize, relayIdleMs, relayLingerMs, maxBacklog, overflowPolicy, relayEnabled, compression } = config.insights;
  // The execution path's inserts use the service's pool and commit synchronously: accept()
  // resolves after the batch's WAL is on disk (one fsync per group commit).
  const outbox = new OutboxStore(db);
  const kafka = new KafkaClientFactory(log);

  const payloads = metrics.insightsPayloads;
  const connections = new ConnectionService({
    store: new ConnectionStore(db),
    secrets: new SecretBox(config.secretKey, 'insights_connection.broker_password'),
    probe: (conn) => probeConnection(kafka, conn),
    onChange: () => relay.notifyConnectionChanged(),
    logger: log,
  });
  const listeners = new Set<DeliveredListener>();
  // The console's live tail: fed by this instance's sink ("waiting") and relay ("delivered").
  const liveTail = new LiveTail();
  listeners.add((batch) => liveTail.delivered(batch.map((d) => ({ requestId: d.requestId ?? '', payload: d.value }))));
  const relay = new Relay({
    outbox,
    connection: () => connections.active(),
    createProducer: (conn) => connectRelayProducer(kafka, conn, compression),
    countDelivered: (n) => payloads.inc({ stage: 'delivered' }, n),
    countFailed: (n) => payloads.inc({ stage: 'failed' }, n),
    countSetAside: (n) => payloads.inc({ stage: 'set_aside' }, n),
    onDelivered: (batch) => {
      for (const l of listeners) l(batch);
    },
    deliveredWanted: () => listeners.size > 0,
    logger: log,
    batchSize: relayBatchSize,
    idleMs: relayIdleMs,
    lingerMs: relayLingerMs,
  });
  const notifications = new OutboxNotifications(db, () => relay.notifyNewRows(), log);
  // Rows committed here: wake this relay directly, and the others through one coalesced NOTIFY.
  const stored = () => {
    relay.notifyNewRows();
    notifications.announce();
  };
  const spool = new OutboxSpool(config.insights.spoolDir, {
    async insert(entries) {
      const r = await outbox.insertBatch(entries, maxBacklog, overflowPolicy);
      if (r.inserted > 0) payloads.inc({ stage: 'accepted' }, r.inserted);
      if (r.dropped > 0) payloads.inc({ stage: 'dropped' }, r.dropped);
      if (r.inserted > 0) stored();
    },
  }, log);
  const sink = new OutboxSink({
    spool,
    outbox,
    maxBacklog,
    overflowPolicy,
    logger: log,
    onAccepted: (n) => payloads.inc({ stage: 'accepted' }, n),
    onDropped: (n) => payloads.inc({ stage: 'dropped' }, n),
    onStored: () => stored(),
    onStoredEntries: (entries) => liveTail.waiting(entries),
  });

  const snapshot = cachedFor(BACKLOG_SNAPSHOT_MS, () => outbox.backlog());
  metrics.gauge('beacon_insights_backlog', 'Undelivered Insights payloads in the outbox (exact up to 100,000)', async () => (await snapshot()).size);
  metrics.gauge(
    'beacon_insights_oldest_undelivered_age_seconds',
    'Age of the oldest undelivered Insights payload (0 when none)',
    async () => (await snapshot()).oldestAgeSeconds ?? 0,
  );

  const statusFrom = (backlog: () => Promise<BacklogStats>) => () =>
    readStatus({
      configured: () => connections.isConfigured(),
      relay: () => relay.state(),
      relayEnabled,
      backlog,
      counters: () => outbox.counters(),
      overflowPolicy,
      maxBacklog,
    });

  let unguard: (() => void) | undefined;
  let stopped: Promise<void> | undefined;
  const status = statusFrom(() => outbox.backlog());
  return {
    routes: [...connectionRoutes(connections, status), ...liveTailRoutes(liveTail)],
    sink,
    status,
    cachedStatus: statusFrom(snapshot),
    onDelivered(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    start() {
      spool.start();
      if (!relayEnabled || unguard) return;
      stopped = undefined;
      unguard = guardKafkaRejections(log);
      notifications.start();
      relay.start();
    },
    stop() {
      stopped ??= (async () => {
        await sink.flush();
        spool.stop();
        await notifications.stop();
        await relay.stop();
        unguard?.();
        unguard = undefined;
      })();
      return stopped;
    },
  };
}

/** One read per `ms`, shared by every caller meanwhile (a failed read is not kept). */
function cachedFor<T>(ms: number, read: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  let at = 0;
  return () => {
    if (!value || Date.now() - at >= ms) {
      at = Date.now();
      const p = read();
      value = p;
      p.catch(() => {
        if (value === p) value = undefined;
      });
    }
    return value;
  };
}
