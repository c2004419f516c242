import type { Logger } from '../platform/logger';
import type { InsightsRecord, InsightsSink } from './insights-sink';
import type { InsertResult, OutboxEntry, OverflowPolicy } from './outbox-store';
import { buildPayload, ceSource, messageKey } from './payload';

// The execution path's side of Insights: make the payload durable in PostgreSQL and return.
// Group commit: while one INSERT is in flight, new payloads queue up and go out together in the
// next one, so under load one statement (and one commit) carries many executions and costs each
// a fraction of an insert; with no load a payload is written at once, no timer.

export interface OutboxSinkDeps {
  outbox: { insertBatch(entries: OutboxEntry[], maxBacklog: number, policy: OverflowPolicy): Promise<InsertResult> };
  maxBacklog: number;
  overflowPolicy: OverflowPolicy;
  logger: Logger;
  onAccepted(count: number): void;
  onDropped(count: number): void;
  /** Called after rows were committed (the relay can stop idling). */
  onStored?(): void;
  /** Live-tail hook (issue 10): the entries just committed ('reject' keeps a batch's first ones, 'drop-oldest' its last). */
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

// Bounds a statement's size (5 array parameters of this many elements) and its latency.
const DEFAULT_MAX_BATCH = 1_000;
const DROP_LOG_INTERVAL_MS = 10_000;

export class OutboxSink implements InsightsSink {
  private pending: Pending[] = [];
  private flushing: Promise<void> | undefined;
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
      this.flushing ??= this.drain();
    });
  }

  /** Waits until everything accepted so far is written (or failed). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    this.dropLog.flush();
  }

  private async drain(): Promise<void> {
    // Let every accept() of the current tick join the first statement.
    await new Promise((resolve) => setImmediate(resolve));
    const max = this.deps.maxBatch ?? DEFAULT_MAX_BATCH;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, max);
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
          const kept = this.deps.overflowPolicy === 'reject' ? batch.slice(0, r.inserted) : batch.slice(batch.length - r.inserted);
          this.deps.onStoredEntries(kept.map((p) => p.entry));
        }
        if (r.inserted > 0) this.deps.onStored?.();
      } catch (err) {
        await this.spoolOrReject(batch, err);
      }
    }
    this.flushing = undefined;
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
