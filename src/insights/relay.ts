import type { Logger } from '../platform/logger';
import { Backoff } from './backoff';
import { type KafkaConnection, SecretUnreadableError } from './connection';
import { DeliveryError, type FailureReason, PoisonPayloadError } from './kafka-errors';
import type { OutboxMessage } from './outbox-records';
import type { ClaimedBatch, RelayTx } from './outbox-store';
import { ProducerLifecycle, type RelayProducer } from './relay-producer';
import { runSession } from './relay-session';

// The relay loop moves the outbox to Kafka: one batch session at a time (relay-session.ts) under
// the cluster-wide relay lock; on any failure the session rolls back (the rows stay, with the
// reason stored on them), the loop backs off, the producer is rebuilt (relay-producer.ts) and it
// tries again. It runs until stop() and never lets an error escape: telemetry must not crash Beacon.

/** pg_try_advisory_xact_lock key shared by every Beacon on a database ("beacon-insights-relay"). */
export const RELAY_LOCK_KEY = 0x6265_6163;

export type { RelayProducer } from './relay-producer';

export interface ActiveConnection {
  fingerprint: string;
  connection: KafkaConnection;
}

/** One payload the broker acknowledged, for live tails (the console): the exact value bytes as text. */
export interface DeliveredPayload {
  key: string;
  value: string;
  requestId?: string;
}

export interface RelayDeps {
  outbox: {
    inRelayTransaction<T>(lockKey: number, work: (tx: RelayTx) => Promise<T>): Promise<{ locked: true } | { locked: false; value: T }>;
    recordFailedAttempt(ids: string[], payloads: number, error: { reason: string; message: string }): Promise<void>;
    setAside(rowId: string, index: number, reason: string, message: string): Promise<boolean>;
  };
  /** The configured connection, read on every loop; throws when its secret cannot be read. */
  connection(): Promise<ActiveConnection | undefined>;
  createProducer(conn: KafkaConnection): Promise<RelayProducer>;
  countDelivered(count: number): void;
  countFailed(count: number): void;
  countSetAside(count: number): void;
  /** Called after the broker acknowledged a batch (before its delete commits; a crash may send it again). */
  onDelivered?(payloads: DeliveredPayload[]): void;
  /** False while nobody listens: the payloads are then not turned into strings at all. */
  deliveredWanted?(): boolean;
  logger: Logger;
  /** Payloads per produce request. */
  batchSize: number;
  idleMs: number;
  /**
   * How long the idle relay waits after being told of new rows before it looks, so that one
   * transaction and one produce request carry every payload stored meanwhile (default 0: at once).
   */
  lingerMs?: number;
  backoff?: Backoff;
}

export type RelayFailureReason = FailureReason | 'database_unavailable' | 'configuration';

export interface RelayState {
  running: boolean;
  connected: boolean;
  lastError: { reason: RelayFailureReason; message: string } | undefined;
  lastErrorAt: Date | undefined;
}

export { SESSION_MAX_BATCHES, SESSION_MAX_MS } from './relay-session';

// While failing, one warn line per this many milliseconds (plus the first one), not per attempt.
const ERROR_LOG_INTERVAL_MS = 30_000;

export class Relay {
  private readonly backoff: Backoff;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private readonly producers: ProducerLifecycle;
  private connected = false;
  private lastError: RelayState['lastError'];
  private lastErrorAt: Date | undefined;
  private lastErrorLoggedAt = 0;
  private sleeper: Sleeper | undefined;
  /** New rows were announced while a step ran (nobody was sleeping to be woken). */
  private announcedWhileBusy = false;

  constructor(private readonly deps: RelayDeps) {
    this.backoff = deps.backoff ?? new Backoff();
    this.producers = new ProducerLifecycle((conn) => deps.createProducer(conn));
  }

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.run();
  }

  /** Finishes the batch in flight, then stops and disconnects. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.sleeper?.wake();
    await this.loop;
    this.loop = undefined;
  }

  /** New rows arrived: cut an idle wait short, after the linger (a back-off wait is kept). */
  notifyNewRows(): void {
    if (!this.sleeper) this.announcedWhileBusy = true;
    else if (this.sleeper.idle) this.sleeper.wakeWithin(this.deps.lingerMs ?? 0);
  }

  /** The connection was replaced here: stop backing off and pick it up now. */
  notifyConnectionChanged(): void {
    this.backoff.reset();
    this.sleeper?.wake();
  }

  state(): RelayState {
    return { running: this.loop !== undefined, connected: this.connected, lastError: this.lastError, lastErrorAt: this.lastErrorAt };
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let delay: { ms: number; idle: boolean };
      this.announcedWhileBusy = false;
      try {
        delay = await this.step();
      } catch (err) {
        if (err instanceof ConnectionChanged) delay = { ms: 0, idle: false };
        else if (err instanceof PoisonPayloadError) delay = await this.setAside(err);
        else delay = { ms: await this.onFailure(err).catch(() => 1_000), idle: false };
      }
      // Rows announced during the step would otherwise wait for the whole idle interval.
      if (delay.idle && this.announcedWhileBusy) delay = { ms: Math.min(delay.ms, this.deps.lingerMs ?? 0), idle: true };
      if (delay.ms > 0 && !this.stopping) await this.sleep(delay.ms, delay.idle);
    }
    await this.dropProducer();
  }

  /** One unit of work; returns how long to wait before the next. */
  private async step(): Promise<{ ms: number; idle: boolean }> {
    const idle = { ms: this.deps.idleMs, idle: true };
    const active = await this.deps.connection();
    if (await this.producers.switchTo(active?.fingerprint)) this.resetErrors();
    if (!active) return idle;
    let attempted: ClaimedBatch[] = [];
    let result: { locked: true } | { locked: false; value: number };
    try {
      result = await this.deps.outbox.inRelayTransaction(RELAY_LOCK_KEY, (tx) => this.session(tx, active, (rows) => (attempted = rows)));
    } catch (err) {
      if (attempted.length > 0 && err instanceof DeliveryError && !(err instanceof PoisonPayloadError)) {
        const payloads = attempted.reduce((n, r) => n + r.messages.length, 0);
        this.deps.countFailed(payloads);
        await this.deps.outbox
          .recordFailedAttempt(attempted.map((r) => r.id), payloads, { reason: err.reason, message: err.message })
          .catch(() => undefined);
      }
      throw err;
    }
    if (result.locked || result.value === 0) {
      // Nothing to send: connect anyway, so the status tells whether the broker is reachable.
      await this.producers.get(active.connection);
      this.succeeded();
      return idle;
    }
    this.deps.countDelivered(result.value);
    this.succeeded();
    // A short last claim means the outbox was empty a moment ago: wait for new rows (announced,
    // see notifyNewRows) instead of claiming again at once.
    return result.value < this.deps.batchSize ? idle : { ms: 0, idle: true };
  }

  private async session(tx: RelayTx, active: ActiveConnection, attempting: (rows: ClaimedBatch[]) => void): Promise<number> {
    const delivered = await runSession({
      tx,
      topic: active.connection.topic,
      batchSize: this.deps.batchSize,
      producer: () => this.producers.get(active.connection),
      attempting,
      stopping: () => this.stopping,
      acknowledged: (messages) => this.tell(messages),
    });
    // A connection replaced while this transaction ran: roll back, so that everything accepted
    // after the change goes to the new destination (the old one may get a copy).
    if (delivered > 0 && (await this.deps.connection())?.fingerprint !== active.fingerprint) throw new ConnectionChanged();
    return delivered;
  }

  /** The live-tail hook: never allowed to break delivery. */
  private tell(messages: OutboxMessage[]): void {
    const hook = this.deps.onDelivered;
    if (!hook || this.deps.deliveredWanted?.() === false) return;
    try {
      hook(messages.map((m) => ({ key: m.key.toString('utf8'), value: m.value.toString('utf8'), requestId: m.requestId.toString('utf8') })));
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message }, 'insights onDelivered listener failed');
    }
  }

  private succeeded(): void {
    this.connected = true;
    if (this.backoff.consecutiveFailures > 0) {
      this.deps.logger.info({ failures: this.backoff.consecutiveFailures }, 'insights relay recovered; delivering again');
    }
    this.backoff.reset();
    this.lastError = undefined;
    this.lastErrorAt = undefined;
  }

  private resetErrors(): void {
    this.connected = false;
    this.backoff.reset();
    this.lastError = undefined;
    this.lastErrorAt = undefined;
  }

  private async onFailure(err: unknown): Promise<number> {
    const { reason, message } = describeFailure(err);
    this.lastError = { reason, message };
    this.lastErrorAt = new Date();
    this.connected = false;
    // A producer that failed once is not trusted again: kafkajs may hold stale sequence numbers or
    // a half-dead socket. The next attempt builds a fresh one.
    if (err instanceof DeliveryError) await this.producers.drop();
    const delay = this.backoff.next();
    const now = Date.now();
    if (this.backoff.consecutiveFailures === 1 || now - this.lastErrorLoggedAt >= ERROR_LOG_INTERVAL_MS) {
      this.lastErrorLoggedAt = now;
      this.deps.logger.warn(
        { reason, failures: this.backoff.consecutiveFailures, retryInMs: delay },
        `insights relay cannot deliver: ${message}`,
      );
    }
    return delay;
  }

  /**
   * A payload the broker refuses even alone would block every later one forever: it is set aside
   * (insights_outbox_set_aside, with the reason), counted, and logged at error; the rest of its
   * batch goes on. (Payloads are bounded to ~25 KiB of metrics, so this takes a topic configured
   * with a tiny max.message.bytes.)
   */
  private async setAside(err: PoisonPayloadError): Promise<{ ms: number; idle: boolean }> {
    try {
      if (await this.deps.outbox.setAside(err.rowId, err.index, err.reason, err.message)) this.deps.countSetAside(1);
      this.deps.logger.error({ requestId: err.requestId }, `insights payload set aside: ${err.message}`);
      return { ms: 0, idle: false };
    } catch (dbErr) {
      return { ms: await this.onFailure(dbErr).catch(() => 1_000), idle: false };
    }
  }

  private async dropProducer(): Promise<void> {
    this.connected = false;
    await this.producers.drop();
  }

  private sleep(ms: number, idle: boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      let soon: NodeJS.Timeout | undefined;
      this.sleeper = {
        idle,
        wake: done,
        wakeWithin(within) {
          if (within <= 0) done();
          else soon ??= setTimeout(done, within);
        },
      };
      function done() {
        clearTimeout(timer);
        if (soon) clearTimeout(soon);
        resolve();
      }
    }).finally(() => {
      this.sleeper = undefined;
    });
  }
}

function describeFailure(err: unknown): { reason: RelayFailureReason; message: string } {
  if (err instanceof DeliveryError) return { reason: err.reason, message: err.message };
  if (err instanceof SecretUnreadableError) return { reason: 'configuration', message: err.message };
  const e = err as { message?: string } | undefined;
  return { reason: 'database_unavailable', message: `outbox query failed: ${e?.message ?? String(err)}` };
}

class ConnectionChanged extends Error {}

interface Sleeper {
  idle: boolean;
  wake(): void;
  wakeWithin(ms: number): void;
}
