import type { Knex } from 'knex';

// Failed executions, for GET /v1/algorithms/:owner/:name/errors and /v1/users/:user/errors
// (Algorithmia kept the last 7 days). The caller's input is not kept: it may be large or private.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE algorithm_errors (
      id            bigserial PRIMARY KEY,
      algorithm_id  uuid NOT NULL REFERENCES algorithms(id) ON DELETE CASCADE,
      request_id    text NOT NULL,
      version       text NOT NULL,
      caller        text NOT NULL,
      error_type    text NOT NULL,
      message       text NOT NULL,
      stacktrace    text,
      session_id    text NOT NULL,
      created_at    timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX algorithm_errors_recent ON algorithm_errors (algorithm_id, created_at DESC);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE algorithm_errors');
}
