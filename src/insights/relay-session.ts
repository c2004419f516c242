import type { OutboxMessage } from './outbox-records';
import type { ClaimedBatch, RelayTx } from './outbox-store';
import type { RelayProducer } from './relay-producer';

// One relay transaction (a "batch session"): claim the oldest batch rows, send their payloads,
// delete the rows, and overlap the database with Kafka: the next rows are claimed and the previous
// ones deleted while the current payloads are encoded and acknowledged. Sends stay strictly
// sequential (per-key order). The session ends after a short claim, SESSION_MAX_BATCHES or
// SESSION_MAX_MS, so deletes are committed promptly; a failure rolls it all back and what it had
// already sent is sent again later (duplicates, never losses; consumers dedupe on ce_id).

// A relay transaction covers at most this many claims or milliseconds before it commits.
export const SESSION_MAX_BATCHES = 20;
export const SESSION_MAX_MS = 1_000;

export interface SessionDeps {
  tx: RelayTx;
  topic: string;
  /** Payloads per claim (one produce request, cut only by the broker's size limit). */
  batchSize: number;
  /** Connects on first use: a broker that refuses us fails the first claim's attempt. */
  producer(): Promise<RelayProducer>;
  /** The rows of the attempt now in flight (the caller records a failure on them). */
  attempting(rows: ClaimedBatch[]): void;
  stopping(): boolean;
  /** After the broker acknowledged these payloads (before the delete commits). */
  acknowledged(messages: OutboxMessage[]): void;
}

/** Returns how many payloads were sent and deleted (committed by the caller's transaction). */
export async function runSession(d: SessionDeps): Promise<number> {
  const started = Date.now();
  const pending: Promise<unknown>[] = [];
  let delivered = 0;
  let claims = 0;
  try {
    let rows = await d.tx.claim(d.batchSize);
    if (rows.length === 0) return 0;
    d.attempting(rows);
    const producer = await d.producer();
    while (rows.length > 0) {
      claims += 1;
      const messages = rows.flatMap((r) => r.messages);
      const more = messages.length >= d.batchSize && claims < SESSION_MAX_BATCHES && Date.now() - started < SESSION_MAX_MS && !d.stopping();
      const next = observed(more ? d.tx.claim(d.batchSize, rows[rows.length - 1].id) : Promise.resolve([]));
      pending.push(next);
      d.attempting(rows);
      await producer.send(d.topic, messages);
      d.acknowledged(messages);
      pending.push(observed(d.tx.markDelivered(rows.map((r) => r.id), messages.length)));
      delivered += messages.length;
      rows = await next;
    }
    await Promise.all(pending);
  } catch (err) {
    // Let queued statements settle before the rollback is issued behind them.
    await Promise.allSettled(pending);
    throw err;
  }
  return delivered;
}

/** Marks a promise as handled now (it is awaited later), so a rejection while we wait elsewhere is not "unhandled". */
function observed<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}
