import type { Db } from '../platform/db';
import { decodeRecords, encodeRecords, type OutboxEntry, type OutboxMessage } from './outbox-records';

export type { OutboxEntry } from './outbox-records';

// SQL for the durable outbox: one row per group-commit batch (insights_outbox_batch, layout in
// migrations/20261202000000_insights_batch_outbox.ts), what the broker can never take
// (insights_outbox_set_aside) and the cluster-wide counters (insights_counters).

/** One payload as it will travel: the value is stored as bytes and sent verbatim. */

/** A claimed batch row and its payloads, in order. */
export interface ClaimedBatch {
  id: string; // bigint, kept as text
  messages: OutboxMessage[];
}

export type OverflowPolicy = 'reject' | 'drop-oldest';

export interface InsertResult {
  inserted: number;
  /** Payloads this call did not store or removed to make room (the overflow policy). */
  dropped: number;
}

/** Claims and deletes inside the relay's transaction (see inRelayTransaction). */
export interface RelayTx {
  /** The oldest batch rows with an id above afterId, up to about maxPayloads payloads (at least one row), locked until the transaction ends. */
  claim(maxPayloads: number, afterId?: string): Promise<ClaimedBatch[]>;
  /** Deletes delivered rows and counts their payloads; takes effect when the transaction commits. */
  markDelivered(ids: string[], payloads: number): Promise<void>;
}

export interface Counters {
  delivered: number;
  failed: number;
  dropped: number;
  setAside: number;
}

export interface StoredError {
  reason: string;
  message: string;
  at: Date;
  attempts: number;
}

export interface BacklogStats {
  size: number;
  /** Measured on the database's clock, like created_at itself. */
  oldestAgeSeconds: number | undefined;
  /** Why the oldest undelivered batch waits: the last failure stored with it (survives restarts). */
  oldestLastError: StoredError | undefined;
}

export const NEW_ROWS_CHANNEL = 'beacon_insights_outbox';

// Up to this many payloads the backlog is an exact sum; above, the sequence span (an upper bound
// that over-counts by payloads of rolled-back inserts and of set-aside payloads).
const EXACT_COUNT_LIMIT = 100_000;

// Backlog in payloads from the payload sequence: two index probes (newest and oldest row), never
// a scan.
const SPAN = `(SELECT coalesce((SELECT seq_end FROM insights_outbox_batch ORDER BY id DESC LIMIT 1)
                             - (SELECT seq_end - payloads FROM insights_outbox_batch ORDER BY id LIMIT 1), 0))`;

// The execution path's insert: one row for the whole group-commit batch, only if it fits under the
// bound. A named prepared statement: parsed and planned once per connection. It does not NOTIFY:
// a notifying commit takes a cluster-wide lock that it holds through its WAL flush, which would
// serialise every group commit behind the previous one's fsync (outbox-notify-store.ts announces
// new rows separately, at most every 50 ms).
const INSERT_IF_FITS = {
  name: 'beacon_outbox_batch_insert',
  text: `INSERT INTO insights_outbox_batch (payloads, seq_end, records)
         SELECT $1::int, (SELECT max(nextval('insights_payload_seq')) FROM generate_series(1, $1::int)), $2::bytea
          WHERE ${SPAN} + $1::int <= $3::bigint`,
};

interface PgConnection {
  query(q: { name: string; text: string; values: unknown[] }): Promise<{ rowCount: number | null }>;
}

const COUNTER = `UPDATE insights_counters SET value = value + ? WHERE name = ?`;

export class OutboxStore {
  constructor(private readonly db: Db) {}

  /** Runs a named prepared statement on a pooled connection (knex's raw() cannot name one). */
  private async prepared(q: { name: string; text: string }, values: unknown[]): Promise<{ rowCount: number | null }> {
    const conn = (await this.db.client.acquireConnection()) as PgConnection;
    try {
      return await conn.query({ ...q, values });
    } finally {
      await this.db.client.releaseConnection(conn);
    }
  }

  /**
   * Stores a batch as one row in one statement (one round trip, one synchronous commit) and applies
   * the backlog bound, counted in payloads: 'reject' stores what fits and counts the rest;
   * 'drop-oldest' stores the newest and deletes the oldest undelivered batch rows to make room
   * (whole rows, so up to one row more than needed; rows a relay is sending are skipped).
   */
  async insertBatch(entries: OutboxEntry[], maxBacklog: number, policy: OverflowPolicy): Promise<InsertResult> {
    if (entries.length === 0) return { inserted: 0, dropped: 0 };
    if (policy === 'drop-oldest') return this.insertDroppingOldest(entries, maxBacklog);
    const r = await this.prepared(INSERT_IF_FITS, [entries.length, encodeRecords(entries), maxBacklog]);
    if ((r.rowCount ?? 0) > 0) return { inserted: entries.length, dropped: 0 };
    // Not all of it fits (the rare path): store the oldest that do, count the rest.
    const { rows } = await this.db.raw<{ rows: Array<{ n: string }> }>(`SELECT ${SPAN} AS n`);
    const room = Math.max(0, Math.min(entries.length - 1, maxBacklog - Number(rows[0].n)));
    let inserted = 0;
    if (room > 0) {
      const again = await this.prepared(INSERT_IF_FITS, [room, encodeRecords(entries.slice(0, room)), maxBacklog]);
      if ((again.rowCount ?? 0) > 0) inserted = room;
    }
    const dropped = entries.length - inserted;
    await this.db.raw(COUNTER, [dropped, 'dropped']);
    return { inserted, dropped };
  }

  private async insertDroppingOldest(all: OutboxEntry[], maxBacklog: number): Promise<InsertResult> {
    const entries = all.length > maxBacklog ? all.slice(all.length - maxBacklog) : all;
    return this.db.transaction(async (trx) => {
      const { rows } = await trx.raw<{ rows: Array<{ n: string }> }>(`SELECT ${SPAN} AS n`);
      const need = Number(rows[0].n) + entries.length - maxBacklog;
      let removed = 0;
      if (need > 0) {
        const old = await trx.raw<{ rows: Array<{ id: string; payloads: number }> }>(
          'SELECT id, payloads FROM insights_outbox_batch ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED',
          [need],
        );
        const ids: string[] = [];
        for (const r of old.rows) {
          if (removed >= need) break;
          ids.push(r.id);
          removed += r.payloads;
        }
        if (ids.length > 0) await trx.raw('DELETE FROM insights_outbox_batch WHERE id = ANY(?::bigint[])', [ids]);
      }
      await trx.raw(
        `INSERT INTO insights_outbox_batch (payloads, seq_end, records)
         SELECT ?::int, (SELECT max(nextval('insights_payload_seq')) FROM generate_series(1, ?::int)), ?::bytea`,
        [entries.length, entries.length, encodeRecords(entries)],
      );
      const dropped = removed + (all.length - entries.length);
      if (dropped > 0) await trx.raw(COUNTER, [dropped, 'dropped']);
      return { inserted: entries.length, dropped };
    });
  }

  /**
   * The relay's transaction: take the cluster-wide relay lock first (one relay at a time keeps
   * per-key order and avoids double sends; other instances get `locked` and wait), then let
   * `work` claim and delete batches. Everything `work` deleted is committed together; if it
   * throws, the transaction rolls back and every row it claimed stays for the next attempt.
   */
  async inRelayTransaction<T>(lockKey: number, work: (tx: RelayTx) => Promise<T>): Promise<{ locked: true } | { locked: false; value: T }> {
    return this.db.transaction(async (trx) => {
      const lock = await trx.raw<{ rows: Array<{ ok: boolean }> }>('SELECT pg_try_advisory_xact_lock(?) AS ok', [lockKey]);
      if (!lock.rows[0].ok) return { locked: true } as const;
      const tx: RelayTx = {
        async claim(maxPayloads, afterId) {
          const { rows } = await trx.raw<{ rows: Array<{ id: string; records: Buffer }> }>(
            `SELECT id, records FROM insights_outbox_batch WHERE id IN (
               SELECT id FROM (SELECT id, sum(payloads) OVER (ORDER BY id) - payloads AS before
                                 FROM insights_outbox_batch WHERE id > ? ORDER BY id LIMIT ?) s
                WHERE before < ?)
             ORDER BY id FOR UPDATE SKIP LOCKED`,
            [afterId ?? '0', maxPayloads, maxPayloads],
          );
          return rows.map((r) => ({ id: r.id, messages: decodeRecords(r.id, r.records) }));
        },
        async markDelivered(ids, payloads) {
          await trx.raw(
            `WITH del AS (DELETE FROM insights_outbox_batch WHERE id = ANY(?::bigint[]))
             UPDATE insights_counters SET value = value + ? WHERE name = 'delivered'`,
            [ids, payloads],
          );
        },
      };
      return { locked: false, value: await work(tx) } as const;
    });
  }

  /** After a failed send: the rows stay, with the attempt and its reason; the 'failed' counter counts payloads. */
  async recordFailedAttempt(ids: string[], payloads: number, error: { reason: string; message: string }): Promise<void> {
    await this.db.raw(
      `WITH a AS (UPDATE insights_outbox_batch
                     SET attempts = attempts + 1, last_error_reason = ?, last_error = ?, last_error_at = now()
                   WHERE id = ANY(?::bigint[]))
       UPDATE insights_counters SET value = value + ? WHERE name = 'failed'`,
      [error.reason, error.message, ids, payloads],
    );
  }

  /**
   * Moves one payload the broker can never take out of its batch row into insights_outbox_set_aside,
   * with the reason, and counts it; the rest of the row stays and is sent next. False when the
   * payload was already gone.
   */
  async setAside(rowId: string, index: number, reason: string, message: string): Promise<boolean> {
    return this.db.transaction(async (trx) => {
      const { rows } = await trx.raw<{ rows: Array<{ records: Buffer; created_at: Date }> }>(
        'SELECT records, created_at FROM insights_outbox_batch WHERE id = ? FOR UPDATE',
        [rowId],
      );
      if (rows.length === 0) return false;
      const messages = decodeRecords(rowId, rows[0].records);
      const bad = messages[index];
      if (!bad) return false;
      const rest = messages.filter((_, i) => i !== index);
      await trx.raw(
        'INSERT INTO insights_outbox_set_aside (payloads, records, reason, message, created_at) VALUES (1, ?, ?, ?, ?)',
        [Buffer.concat(fieldsOf(rows[0].records, bad)), reason, message, rows[0].created_at],
      );
      if (rest.length === 0) await trx.raw('DELETE FROM insights_outbox_batch WHERE id = ?', [rowId]);
      else {
        await trx.raw('UPDATE insights_outbox_batch SET payloads = ?, records = ? WHERE id = ?', [
          rest.length,
          Buffer.concat(rest.flatMap((m) => fieldsOf(rows[0].records, m))),
          rowId,
        ]);
      }
      await trx.raw(COUNTER, [1, 'set_aside']);
      return true;
    });
  }

  async counters(): Promise<Counters> {
    const rows: Array<{ name: string; value: string }> = await this.db('insights_counters').select('name', 'value');
    const get = (name: string) => Number(rows.find((r) => r.name === name)?.value ?? 0);
    return { delivered: get('delivered'), failed: get('failed'), dropped: get('dropped'), setAside: get('set_aside') };
  }

  /** One statement: the size (exact for small backlogs, the sequence span above), the oldest row's age and last error. */
  async backlog(): Promise<BacklogStats> {
    const { rows } = await this.db.raw<{
      rows: Array<{ span: string; exact: string | null; age: number | null; reason: string | null; message: string | null; at: Date | null; attempts: number | null }>;
    }>(
      `WITH s AS (SELECT ${SPAN} AS span),
            o AS (SELECT extract(epoch FROM now() - created_at)::float8 AS age, last_error_reason, last_error, last_error_at, attempts
                    FROM insights_outbox_batch ORDER BY id LIMIT 1)
       SELECT s.span,
              CASE WHEN s.span BETWEEN 1 AND ? THEN (SELECT sum(payloads) FROM insights_outbox_batch) END AS exact,
              o.age, o.last_error_reason AS reason, o.last_error AS message, o.last_error_at AS at, o.attempts
         FROM s LEFT JOIN o ON true`,
      [EXACT_COUNT_LIMIT],
    );
    const r = rows[0];
    const size = r.exact !== null ? Number(r.exact) : Number(r.span);
    return {
      size,
      oldestAgeSeconds: r.age === null ? undefined : Math.max(0, r.age),
      oldestLastError: r.reason && r.message && r.at ? { reason: r.reason, message: r.message, at: r.at, attempts: r.attempts ?? 0 } : undefined,
    };
  }
}

/** The five length-prefixed fields of one decoded message, as slices of its row's buffer. */
function fieldsOf(records: Buffer, m: OutboxMessage): Buffer[] {
  const start = m.requestId.byteOffset - records.byteOffset - 4;
  const end = m.value.byteOffset - records.byteOffset + m.value.length;
  return [records.subarray(start, end)];
}
