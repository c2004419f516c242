import type { Logger } from '../platform/logger';
import { Backoff } from './backoff';
import { type KafkaConnection, SecretUnreadableError } from './connection';
import { DeliveryError, type FailureReason, PoisonPayloadError } from './kafka-errors';
import type { ClaimedEntry, RelayTx } from './outbox-store';

// The relay moves the outbox to Kafka: claim the oldest rows, send them in one produce request,
// delete them, commit; on any failure roll back (the rows stay), back off, rebuild the producer and
// try again. It runs until stop() and never lets an error escape: telemetry must not crash Beacon.

/** pg_try_advisory_xact_lock key shared by every Beacon on a database ("beacon-insights-relay"). */
export const RELAY_LOCK_KEY = 0x6265_6163;

/** What the relay needs from a producer: send one batch, in order, or throw a DeliveryError. */
export interface RelayProducer {
  send(topic: string, rows: ClaimedEntry[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface ActiveConnection {
  fingerprint: string;
  connection: KafkaConnection;
}

export interface RelayDeps {
  outbox: {
    inRelayTransaction<T>(lockKey: number, work: (tx: RelayTx) => Promise<T>): Promise<{ locked: true } | { locked: false; value: T }>;
    recordFailedAttempt(ids: string[]): Promise<void>;
    dropPoison(id: string): Promise<boolean>;
  };
  /** The configured connection, read on every loop; throws when its secret cannot be read. */
  connection(): Promise<ActiveConnection | undefined>;
  createProducer(conn: KafkaConnection): Promise<RelayProducer>;
  onDelivered(count: number): void;
  onFailed(count: number): void;
  onDropped(count: number): void;
  /** Live-tail hook (issue 10): each batch Kafka acknowledged, right after its send. */
  onDeliveredPayloads?(rows: ClaimedEntry[]): void;
  logger: Logger;
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

// A relay transaction covers at most this many batches or milliseconds before it commits.
export const SESSION_MAX_BATCHES = 20;
export const SESSION_MAX_MS = 1_000;

// While failing, one warn line per this many milliseconds (plus the first one), not per attempt.
const ERROR_LOG_INTERVAL_MS = 30_000;

export class Relay {
  private readonly backoff: Backoff;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private producer: RelayProducer | undefined;
  private fingerprint: string | undefined;
  private connected = false;
  private lastError: RelayState['lastError'];
  private lastErrorAt: Date | undefined;
  private lastErrorLoggedAt = 0;
  private sleeper: Sleeper | undefined;
  /** New rows were announced while a step ran (nobody was sleeping to be woken). */
  private announcedWhileBusy = false;

  constructor(private readonly deps: RelayDeps) {
    this.backoff = deps.backoff ?? new Backoff();
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
        else if (err instanceof PoisonPayloadError) delay = await this.dropPoison(err);
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
    if (!active) {
      if (this.fingerprint !== undefined) await this.switchTo(undefined);
      return idle;
    }
    if (active.fingerprint !== this.fingerprint) await this.switchTo(active.fingerprint);
    let attempted: string[] = [];
    let result: { locked: true } | { locked: false; value: number };
    try {
      result = await this.deps.outbox.inRelayTransaction(RELAY_LOCK_KEY, (tx) =>
        this.session(tx, active, (ids) => {
          attempted = ids;
        }),
      );
    } catch (err) {
      if (attempted.length > 0 && err instanceof DeliveryError) {
        this.deps.onFailed(attempted.length);
        await this.deps.outbox.recordFailedAttempt(attempted).catch(() => undefined);
      }
      throw err;
    }
    if (result.locked || result.value === 0) {
      // Nothing to send: connect anyway, so the status tells whether the broker is reachable.
      await this.ensureProducer(active.connection);
      this.succeeded();
      return idle;
    }
    this.deps.onDelivered(result.value);
    this.succeeded();
    // A short last batch means the outbox was empty a moment ago: wait for new rows (announced,
    // see notifyNewRows) instead of claiming again at once.
    return result.value < this.deps.batchSize ? idle : { ms: 0, idle: true };
  }

  /**
   * Sends batches in one transaction, oldest first, one produce request per batch, and overlaps
   * the database with Kafka: the next batch is claimed and the previous one deleted while the
   * current one is encoded and acknowledged. Sends stay strictly sequential (per-key order).
   * The transaction ends after a short batch, SESSION_MAX_BATCHES or SESSION_MAX_MS, so deletes
   * are committed promptly; a failure rolls it all back and the batches it had already sent are
   * sent again later (duplicates, never losses; consumers dedupe on ce_id).
   */
  private async session(tx: RelayTx, active: ActiveConnection, attempting: (ids: string[]) => void): Promise<number> {
    const { batchSize } = this.deps;
    const { topic } = active.connection;
    const started = Date.now();
    const pending: Promise<unknown>[] = [];
    let delivered = 0;
    let batches = 0;
    try {
      let rows = await tx.claim(batchSize);
      if (rows.length === 0) return 0;
      // Connecting is part of the first batch's attempt: if the broker refuses us, these payloads
      // count as failed (and stay).
      attempting(rows.map((r) => r.id));
      const producer = await this.ensureProducer(active.connection);
      while (rows.length > 0) {
        batches += 1;
        const more = rows.length === batchSize && batches < SESSION_MAX_BATCHES && Date.now() - started < SESSION_MAX_MS && !this.stopping;
        const next = observed(more ? tx.claim(batchSize, rows[rows.length - 1].id) : Promise.resolve([]));
        pending.push(next);
        const ids = rows.map((r) => r.id);
        attempting(ids);
        await producer.send(topic, rows);
        this.deps.onDeliveredPayloads?.(rows);
        pending.push(observed(tx.markDelivered(ids)));
        delivered += rows.length;
        rows = await next;
      }
      await Promise.all(pending);
      // A connection replaced while this transaction ran: roll back, so that everything accepted
      // after the change goes to the new destination (the old one may get a copy).
      if (delivered > 0 && (await this.deps.connection())?.fingerprint !== active.fingerprint) throw new ConnectionChanged();
    } catch (err) {
      // Let queued statements settle before the rollback is issued behind them.
      await Promise.allSettled(pending);
      throw err;
    }
    return delivered;
  }

  private async ensureProducer(conn: KafkaConnection): Promise<RelayProducer> {
    // `connected` is set by succeeded(): a producer that connected while the last attempt's error
    // still stands proves nothing until its send (or an idle connect) goes through.
    this.producer ??= await this.deps.createProducer(conn);
    return this.producer;
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

  private async switchTo(fingerprint: string | undefined): Promise<void> {
    await this.dropProducer();
    this.fingerprint = fingerprint;
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
    if (err instanceof DeliveryError) await this.dropProducer();
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
   * A payload the broker refuses even alone would block every later one forever: it is removed
   * and counted as dropped, loudly. (Payloads are bounded to ~25 KiB of metrics, so this takes a
   * topic configured with a tiny max.message.bytes.)
   */
  private async dropPoison(err: PoisonPayloadError): Promise<{ ms: number; idle: boolean }> {
    try {
      if (await this.deps.outbox.dropPoison(err.rowId)) this.deps.onDropped(1);
      this.deps.logger.error({ requestId: err.requestId }, `insights payload dropped: ${err.message}`);
      return { ms: 0, idle: false };
    } catch (dbErr) {
      return { ms: await this.onFailure(dbErr).catch(() => 1_000), idle: false };
    }
  }

  private async dropProducer(): Promise<void> {
    const p = this.producer;
    this.producer = undefined;
    this.connected = false;
    if (p) await p.disconnect().catch(() => undefined);
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

/** Marks a promise as handled now (it is awaited later), so a rejection while we wait elsewhere is not "unhandled". */
function observed<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}
