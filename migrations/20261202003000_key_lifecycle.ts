import type { Knex } from 'knex';

// Key lifecycle: a short prefix an operator can recognise a key by (the key itself is never stored),
// an optional expiry, and when the key last authenticated a request (updated at most once a minute).
// Keys made before this migration have no prefix; their mask still identifies them.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE api_keys
      ADD COLUMN key_prefix    text CHECK (key_prefix IS NULL OR length(key_prefix) <= 12),
      ADD COLUMN expires_at    timestamptz,
      ADD COLUMN last_used_at  timestamptz;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE api_keys DROP COLUMN key_prefix, DROP COLUMN expires_at, DROP COLUMN last_used_at');
}
