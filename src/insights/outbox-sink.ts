import type { Logger } from '../platform/logger';
import type { InsightsRecord, InsightsSink } from './insights-sink';
import type { InsertResult, OutboxEntry, OverflowPolicy } from './outbox-store';
import { buildPayload, ceSource, messageKey } from './payload';

// The execution path's side of Insights: make the payload durable in PostgreSQL and return.
// Group commit: payloads that arrive while a statement is being prepared or the INSERTs in flight
// are busy queue up and go out together in the next one, so under load one statement (one row, one
// synchronous commit) carries many executions and costs each a fraction of an insert; with no load
// a payload is written at once, no timer. Up to MAX_IN_FLIGHT statements run at once: a commit
// waits for its WAL flush (an fsync), and with a single statement in flight every caller would
// queue behind the previous group's fsync; PostgreSQL lets concurrent commits share a flush.

export interface OutboxSinkDeps {
  outbox: { insertBatch(entries: OutboxEntry[], maxBacklog: number, policy: OverflowPolicy): Promise<InsertResult> };
  maxBacklog: number;
  overflowPolicy: OverflowPolicy;
  logger: Logger;
  onAccepted(count: number): void;
  onDropped(count: number): void;
  /** Called after rows were committed (the relay can stop idling). */
  onStored?(): void;
  /** Live-tail hook (the console): the payloads each statement committed. */
  onStoredEntries?(entries: OutboxEntry[]): void;
  /** Where batches go while the database cannot take them (durable on local disk). */
  spool?: { append(entries: OutboxEntry[]): Promise<void> };
  maxBatch?: number;
}

interface Pending {
  entry: OutboxEntry;
  resolve: () => void;
  reject: (err: unknown) => void;
}

// Bounds a statement's size (payloads per batch row) and its latency.
const DEFAULT_MAX_BATCH = 1_000;
// Statements in flight at once (each holds a pooled connection while it waits for its commit).
export const MAX_IN_FLIGHT = 3;
const DROP_LOG_INTERVAL_MS = 10_000;

export class OutboxSink implements InsightsSink {
  private pending: Pending[] = [];
  private scheduled = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly dropLog: DropLog;

  constructor(private readonly deps: OutboxSinkDeps) {
    this.dropLog = new DropLog(deps.logger, deps.overflowPolicy, deps.maxBacklog);
  }

  /**
   * Resolves once the payload is committed to the outbox, or was refused by the overflow policy
   * (counted and logged: the execution itself must not fail because telemetry is full). While the
   * database cannot take it, the payload is spooled to local disk instead; rejects only when
   * neither worked.
   */
  accept(record: InsightsRecord): Promise<void> {
    let entry: OutboxEntry;
    try {
      entry = toEntry(record);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ entry, resolve, reject });
      this.schedule();
    });
  }

  /** Waits until everything accepted so far is written (or failed). */
  async flush(): Promise<void> {
    while (this.scheduled || this.inFlight.size > 0) {
      if (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
      else await new Promise((resolve) => setImmediate(resolve));
    }
    this.dropLog.flush();
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight.size >= MAX_IN_FLIGHT) return;
    this.scheduled = true;
    // Let every accept() of the current tick join the statement.
    setImmediate(() => {
      this.scheduled = false;
      this.startStatements();
    });
  }

  private startStatements(): void {
    const max = this.deps.maxBatch ?? DEFAULT_MAX_BATCH;
    while (this.pending.length > 0 && this.inFlight.size < MAX_IN_FLIGHT) {
      const batch = this.pending.splice(0, max);
      const p: Promise<void> = this.write(batch).finally(() => {
        this.inFlight.delete(p);
        if (this.pending.length > 0) this.schedule();
      });
      this.inFlight.add(p);
    }
  }

  private async write(batch: Pending[]): Promise<void> {
    try {
      const r = await this.deps.outbox.insertBatch(
        batch.map((p) => p.entry),
        this.deps.maxBacklog,
        this.deps.overflowPolicy,
      );
      if (r.inserted > 0) this.deps.onAccepted(r.inserted);
      if (r.dropped > 0) {
        this.deps.onDropped(r.dropped);
        this.dropLog.add(r.dropped);
      }
      for (const p of batch) p.resolve();
      if (r.inserted > 0 && this.deps.onStoredEntries) {
        // 'reject' keeps the first `inserted` of the batch, 'drop-oldest' the last ones.
        const kept = this.deps.overflowPolicy === 'reject' ? batch.slice(0, r.inserted) : batch.slice(batch.length - r.inserted);
        this.deps.onStoredEntries(kept.map((p) => p.entry));
      }
      if (r.inserted > 0) this.deps.onStored?.();
    } catch (err) {
      await this.spoolOrReject(batch, err);
    }
  }

  private async spoolOrReject(batch: Pending[], dbError: unknown): Promise<void> {
    if (!this.deps.spool) {
      for (const p of batch) p.reject(dbError);
      return;
    }
    try {
      await this.deps.spool.append(batch.map((p) => p.entry));
      for (const p of batch) p.resolve();
    } catch (spoolError) {
      this.deps.logger.error({ err: (spoolError as Error).message }, 'insights payloads could neither be stored nor spooled');
      for (const p of batch) p.reject(dbError);
    }
  }
}

export function toEntry(r: InsightsRecord): OutboxEntry {
  return {
    requestId: r.requestId,
    messageKey: messageKey(r),
    ceSource: ceSource(r),
    eventTime: r.time.toISOString(),
    payload: buildPayload(r),
  };
}

/** Drops are never silent, but a full backlog must not flood the log either: one line per 10 s. */
class DropLog {
  private unlogged = 0;
  private lastAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly policy: OverflowPolicy,
    private readonly maxBacklog: number,
  ) {}

  add(n: number): void {
    this.unlogged += n;
    const wait = this.lastAt + DROP_LOG_INTERVAL_MS - Date.now();
    if (wait <= 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), wait).unref();
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.unlogged === 0) return;
    const what = this.policy === 'reject' ? 'new payloads were not stored' : 'the oldest undelivered payloads were deleted';
    this.logger.warn(
      { dropped: this.unlogged, overflowPolicy: this.policy, maxBacklog: this.maxBacklog },
      `insights backlog is full (INSIGHTS_MAX_BACKLOG=${this.maxBacklog}): ${this.unlogged} payload(s) dropped, ${what}`,
    );
    this.unlogged = 0;
    this.lastAt = Date.now();
  }
}
