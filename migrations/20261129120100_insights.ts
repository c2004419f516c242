import type { Knex } from 'knex';

// The one cluster-wide Insights broker connection, and the durable outbox between executions and Kafka.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE insights_connection (
      id                   smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
      connection_id        uuid NOT NULL DEFAULT gen_random_uuid(),
      connection_type      text NOT NULL CHECK (connection_type IN
                             ('kafka_sasl_ssl', 'kafka_sasl_plaintext', 'kafka_unauthenticated_plaintext')),
      broker_url           text NOT NULL,
      topic                text NOT NULL,
      broker_username      text,
      broker_password_enc  text,
      sasl_mechanism       text CHECK (sasl_mechanism IN ('SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN')),
      ca_certificate       text,
      generation           integer NOT NULL DEFAULT 1,
      updated_at           timestamptz NOT NULL DEFAULT now()
    );

    -- One row per execution of an Insights-enabled version, deleted once Kafka acknowledged it.
    CREATE TABLE insights_outbox (
      id           bigserial PRIMARY KEY,
      request_id   text NOT NULL,
      message_key  text NOT NULL,
      ce_source    text NOT NULL,
      event_time   text NOT NULL,
      payload      text NOT NULL,
      attempts     integer NOT NULL DEFAULT 0,
      created_at   timestamptz NOT NULL DEFAULT now()
    );

    -- Durable counters that must survive restarts (payloads dropped by the overflow policy, delivered).
    CREATE TABLE insights_counters (
      name   text PRIMARY KEY,
      value  bigint NOT NULL DEFAULT 0
    );
    INSERT INTO insights_counters (name, value) VALUES ('delivered', 0), ('dropped', 0);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS insights_outbox, insights_connection, insights_counters');
}
