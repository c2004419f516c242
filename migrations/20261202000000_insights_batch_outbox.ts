import type { Knex } from 'knex';

// The outbox's second layout: one row per group-commit batch instead of one per payload, so
// PostgreSQL inserts, reads, locks and deletes one row for many executions. `records` holds the
// batch's payloads already encoded for the relay (src/insights/outbox-records.ts): for each payload
// its request id, message key, ce_source, event time and value, each as a 4-byte big-endian length
// and the bytes. `seq_end` comes from a payload sequence advanced by the batch's size, so the
// backlog in payloads is two index probes away (the newest seq_end minus the oldest's start).
// Batches the broker can never take are moved to insights_outbox_set_aside with the reason.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE SEQUENCE insights_payload_seq AS bigint;

    CREATE TABLE insights_outbox_batch (
      id                 bigserial PRIMARY KEY,
      payloads           integer NOT NULL CHECK (payloads > 0),
      seq_end            bigint NOT NULL,
      records            bytea NOT NULL,
      attempts           integer NOT NULL DEFAULT 0,
      last_error_reason  text,
      last_error         text,
      last_error_at      timestamptz,
      created_at         timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE insights_outbox_set_aside (
      id           bigserial PRIMARY KEY,
      payloads     integer NOT NULL CHECK (payloads > 0),
      records      bytea NOT NULL,
      reason       text NOT NULL,
      message      text NOT NULL,
      created_at   timestamptz NOT NULL,
      set_aside_at timestamptz NOT NULL DEFAULT now()
    );

    INSERT INTO insights_counters (name, value) VALUES ('failed', 0), ('set_aside', 0) ON CONFLICT (name) DO NOTHING;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE IF EXISTS insights_outbox_batch, insights_outbox_set_aside;
    DROP SEQUENCE IF EXISTS insights_payload_seq;
    DELETE FROM insights_counters WHERE name = 'set_aside';
  `);
}
