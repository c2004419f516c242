import type { Knex } from 'knex';

// Data: every payload still in the first layout's insights_outbox (one row per payload) becomes
// part of a batch row of the second layout, oldest first and in id order (per-key order is kept),
// 1,000 payloads per batch, encoded as src/insights/outbox-records.ts reads them. Then the old
// table goes. Runs in the migration's transaction: either every row moved or none.
const FIELD = (col: string) => `int4send(octet_length(convert_to(${col}, 'UTF8'))) || convert_to(${col}, 'UTF8')`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    WITH chunks AS (
      SELECT chunk, count(*)::int AS n, max(attempts) AS attempts, min(created_at) AS created_at,
             string_agg(${FIELD('request_id')} || ${FIELD('message_key')} || ${FIELD('ce_source')} ||
                        ${FIELD('event_time')} || ${FIELD('payload')}, ''::bytea ORDER BY id) AS records
        FROM (SELECT o.*, (row_number() OVER (ORDER BY id) - 1) / 1000 AS chunk FROM insights_outbox o) numbered
       GROUP BY chunk)
    INSERT INTO insights_outbox_batch (payloads, seq_end, records, attempts, created_at)
    SELECT n, (SELECT max(nextval('insights_payload_seq')) FROM generate_series(1, chunks.n)), records, attempts, created_at
      FROM chunks ORDER BY chunk;
    DROP TABLE insights_outbox;
  `);
}

export async function down(knex: Knex): Promise<void> {
  // The batch layout holds the same payloads; going back would need the decoder in SQL. Refuse
  // rather than lose them.
  const { rows } = await knex.raw<{ rows: Array<{ n: string }> }>('SELECT count(*) AS n FROM insights_outbox_batch');
  if (Number(rows[0].n) > 0) throw new Error('insights_outbox_batch still holds undelivered payloads; deliver them before migrating down');
  await knex.raw(`
    CREATE TABLE insights_outbox (
      id bigserial PRIMARY KEY, request_id text NOT NULL, message_key text NOT NULL, ce_source text NOT NULL,
      event_time text NOT NULL, payload text NOT NULL, attempts integer NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now())`);
}
