import type { Db } from '../platform/db';

// SQL for the durable outbox (insights_outbox) and its cluster-wide counters (insights_counters).

/** One payload as it will travel: the value is stored as text and sent verbatim. */
export interface OutboxEntry {
  requestId: string;
  messageKey: string;
  ceSource: string;
  eventTime: string;
  payload: string;
}

export interface ClaimedEntry extends OutboxEntry {
  id: string; // bigint, kept as text
}

export type OverflowPolicy = 'reject' | 'drop-oldest';

export interface InsertResult {
  inserted: number;
  /** Payloads this call did not store or removed to make room (the overflow policy). */
  dropped: number;
}

/** Claims and deletes inside the relay's transaction (see inRelayTransaction). */
export interface RelayTx {
  /** The oldest unclaimed rows with an id above afterId, locked until the transaction ends. */
  claim(limit: number, afterId?: string): Promise<ClaimedEntry[]>;
  /** Deletes delivered rows and counts them; takes effect when the transaction commits. */
  markDelivered(ids: string[]): Promise<void>;
}

export interface Counters {
  delivered: number;
  failed: number;
  dropped: number;
}

export interface BacklogStats {
  size: number;
  /** Measured on the database's clock, like created_at itself. */
  oldestAgeSeconds: number | undefined;
}

// Above this many rows the backlog size is reported as the id span (an upper bound) instead of
// an exact count(*), which would scan the whole table.
const EXACT_COUNT_LIMIT = 100_000;

// Backlog size estimate used on the write path: two index probes, never a scan. It over-counts
// by ids that were never committed (rolled-back inserts), which only errs on the safe side.
const SPAN = `(SELECT coalesce(max(id) - min(id) + 1, 0) AS n FROM insights_outbox)`;

const UNNEST = `unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[])
                  WITH ORDINALITY AS u(request_id, message_key, ce_source, event_time, payload, ord)`;

// The execution path's insert under the default 'reject' policy: the rows that fit under the bound,
// in order. A named prepared statement (parsed and planned once per connection) and no CTE: this
// costs PostgreSQL ~0.05 ms of CPU per payload against 0.3-0.9 ms for the unprepared CTE it
// replaced (bench/pipeline-cpu.ts, docs/benchmarks.md). The drop count is added by a second
// statement, only when something was refused.
const INSERT_WHAT_FITS = {
  name: 'beacon_outbox_insert',
  text: `INSERT INTO insights_outbox (request_id, message_key, ce_source, event_time, payload)
         SELECT u.request_id, u.message_key, u.ce_source, u.event_time, u.payload
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
                WITH ORDINALITY AS u(request_id, message_key, ce_source, event_time, payload, ord)
          ORDER BY u.ord
          LIMIT greatest(0, $6::bigint - ${SPAN})`,
};

interface PgConnection {
  query(q: { name: string; text: string; values: unknown[] }): Promise<{ rowCount: number | null }>;
}

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
   * Stores a batch in one statement (one round trip, one commit; a second only to count refused
   * payloads) and applies the backlog bound:
   * 'reject' stores only what fits and counts the rest; 'drop-oldest' stores the newest and
   * deletes the oldest undelivered rows to make room (rows a relay is sending right now are
   * skipped, so the bound can be exceeded by at most one relay batch).
   */
  async insertBatch(entries: OutboxEntry[], maxBacklog: number, policy: OverflowPolicy): Promise<InsertResult> {
    const k = entries.length;
    const columns = [
      entries.map((e) => e.requestId),
      entries.map((e) => e.messageKey),
      entries.map((e) => e.ceSource),
      entries.map((e) => e.eventTime),
      entries.map((e) => e.payload),
    ];
    if (policy === 'reject') {
      const inserted = (await this.prepared(INSERT_WHAT_FITS, [...columns, maxBacklog])).rowCount ?? 0;
      const dropped = k - inserted;
      if (dropped > 0) await this.db.raw(`UPDATE insights_counters SET value = value + ? WHERE name = 'dropped'`, [dropped]);
      return { inserted, dropped };
    }
    const sql = `WITH cur AS ${SPAN},
           ins AS (
             INSERT INTO insights_outbox (request_id, message_key, ce_source, event_time, payload)
             SELECT u.request_id, u.message_key, u.ce_source, u.event_time, u.payload FROM ${UNNEST}
              WHERE u.ord > ?::bigint - ? ORDER BY u.ord
             RETURNING 1),
           del AS (
             DELETE FROM insights_outbox WHERE id IN (
               SELECT id FROM insights_outbox ORDER BY id
                LIMIT (SELECT greatest(cur.n + least(?::bigint, ?::bigint) - ?, 0) FROM cur)
                  FOR UPDATE SKIP LOCKED)
             RETURNING 1),
           d AS (SELECT ?::bigint - (SELECT count(*) FROM ins) + (SELECT count(*) FROM del) AS n),
           cnt AS (UPDATE insights_counters SET value = value + d.n FROM d WHERE name = 'dropped' AND d.n > 0)
           SELECT (SELECT count(*) FROM ins)::int AS inserted, (SELECT n FROM d)::int AS dropped`;
    const bindings = [...columns, k, maxBacklog, k, maxBacklog, maxBacklog, k];
    const { rows } = await this.db.raw<{ rows: InsertResult[] }>(sql, bindings);
    return rows[0];
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
        async claim(limit, afterId) {
          const { rows } = await trx.raw<{ rows: ClaimedEntry[] }>(
            `SELECT id, request_id AS "requestId", message_key AS "messageKey", ce_source AS "ceSource",
                    event_time AS "eventTime", payload
               FROM insights_outbox WHERE id > ? ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED`,
            [afterId ?? '0', limit],
          );
          return rows;
        },
        async markDelivered(ids) {
          await trx.raw(
            `WITH del AS (DELETE FROM insights_outbox WHERE id = ANY(?::bigint[]))
             UPDATE insights_counters SET value = value + ? WHERE name = 'delivered'`,
            [ids, ids.length],
          );
        },
      };
      return { locked: false, value: await work(tx) } as const;
    });
  }

  /** After a failed send: the rows stay; note the attempt on them and in the 'failed' counter. */
  async recordFailedAttempt(ids: string[]): Promise<void> {
    await this.db.raw(
      `WITH a AS (UPDATE insights_outbox SET attempts = attempts + 1 WHERE id = ANY(?::bigint[]))
       INSERT INTO insights_counters (name, value) VALUES ('failed', ?)
       ON CONFLICT (name) DO UPDATE SET value = insights_counters.value + EXCLUDED.value`,
      [ids, ids.length],
    );
  }

  /** Removes one undeliverable row and counts it as dropped; false when it was already gone. */
  async dropPoison(id: string): Promise<boolean> {
    const { rows } = await this.db.raw<{ rows: Array<{ n: number }> }>(
      `WITH del AS (DELETE FROM insights_outbox WHERE id = ? RETURNING 1),
       cnt AS (UPDATE insights_counters SET value = value + (SELECT count(*) FROM del) WHERE name = 'dropped')
       SELECT count(*)::int AS n FROM del`,
      [id],
    );
    return rows[0].n > 0;
  }

  async counters(): Promise<Counters> {
    const rows: Array<{ name: string; value: string }> = await this.db('insights_counters').select('name', 'value');
    const get = (name: string) => Number(rows.find((r) => r.name === name)?.value ?? 0);
    return { delivered: get('delivered'), failed: get('failed'), dropped: get('dropped') };
  }

  /** Exact count for small backlogs, the id span (an upper bound) for large ones. */
  async backlog(): Promise<BacklogStats> {
    const { rows } = await this.db.raw<{ rows: Array<{ span: string; age: number | null }> }>(
      `SELECT (SELECT n FROM ${SPAN} s) AS span,
              (SELECT extract(epoch FROM now() - created_at)::float8 FROM insights_outbox ORDER BY id LIMIT 1) AS age`,
    );
    let size = Number(rows[0].span);
    if (size > 0 && size <= EXACT_COUNT_LIMIT) {
      const exact = await this.db.raw<{ rows: Array<{ n: string }> }>('SELECT count(*) AS n FROM insights_outbox');
      size = Number(exact.rows[0].n);
    }
    return { size, oldestAgeSeconds: rows[0].age === null ? undefined : Math.max(0, rows[0].age) };
  }
}
