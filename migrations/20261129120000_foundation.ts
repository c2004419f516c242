import type { Knex } from 'knex';

// Users, API keys, algorithms, their source, builds and published versions.
// Invariants live in the database: unique names, unique semantic versions, one version per build.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE users (
      id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      username    text NOT NULL CHECK (username ~ '^[a-zA-Z][a-zA-Z0-9_]*$' AND length(username) <= 30),
      email       text,
      fullname    text,
      created_at  timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));

    CREATE TABLE api_keys (
      id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id                uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      key_hash               text NOT NULL UNIQUE,
      key_mask               text NOT NULL,
      key_label              text NOT NULL DEFAULT '',
      key_type               text NOT NULL CHECK (key_type IN ('AlgorithmKey', 'PlatformAdminKey')),
      allow_algo             boolean NOT NULL DEFAULT true,
      allow_algo_management  boolean NOT NULL DEFAULT false,
      algo_acl               text[] NOT NULL DEFAULT '{}',
      created_at             timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX api_keys_user_id_idx ON api_keys (user_id);

    CREATE TABLE algorithms (
      id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      owner_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      name        text NOT NULL CHECK (name ~ '^[a-zA-Z][a-zA-Z0-9_]*$' AND length(name) <= 64),
      language    text NOT NULL CHECK (language IN ('python3', 'javascript', 'r')),
      details     jsonb NOT NULL DEFAULT '{}',
      settings    jsonb NOT NULL DEFAULT '{}',
      created_at  timestamptz NOT NULL DEFAULT now(),
      updated_at  timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX algorithms_owner_name_key ON algorithms (owner_id, lower(name));

    CREATE TABLE algorithm_sources (
      algorithm_id  uuid PRIMARY KEY REFERENCES algorithms(id) ON DELETE CASCADE,
      files         jsonb NOT NULL,
      updated_at    timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE builds (
      id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      seq           bigserial NOT NULL UNIQUE,
      algorithm_id  uuid NOT NULL REFERENCES algorithms(id) ON DELETE CASCADE,
      commit_sha    char(40) NOT NULL CHECK (commit_sha ~ '^[0-9a-f]{40}$'),
      status        text NOT NULL CHECK (status IN ('in-progress', 'succeeded', 'failed')),
      language      text NOT NULL,
      files         jsonb NOT NULL,
      logs          text NOT NULL DEFAULT '',
      started_at    timestamptz NOT NULL DEFAULT now(),
      finished_at   timestamptz
    );
    CREATE UNIQUE INDEX builds_algorithm_commit_key ON builds (algorithm_id, commit_sha);
    CREATE INDEX builds_algorithm_seq_idx ON builds (algorithm_id, seq DESC);

    CREATE TABLE versions (
      id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      seq                    bigserial NOT NULL UNIQUE,
      algorithm_id           uuid NOT NULL REFERENCES algorithms(id) ON DELETE CASCADE,
      build_id               uuid NOT NULL UNIQUE REFERENCES builds(id) ON DELETE CASCADE,
      major                  integer NOT NULL CHECK (major >= 0),
      minor                  integer NOT NULL CHECK (minor >= 0),
      revision               integer NOT NULL CHECK (revision >= 0),
      algorithm_callability  text NOT NULL CHECK (algorithm_callability IN ('public', 'private')),
      insights_enabled       boolean NOT NULL DEFAULT false,
      details                jsonb NOT NULL DEFAULT '{}',
      settings               jsonb NOT NULL DEFAULT '{}',
      release_notes          text NOT NULL DEFAULT '',
      sample_input           text,
      published_at           timestamptz NOT NULL DEFAULT now(),
      UNIQUE (algorithm_id, major, minor, revision)
    );
    CREATE INDEX versions_algorithm_seq_idx ON versions (algorithm_id, seq DESC);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS versions, builds, algorithm_sources, algorithms, api_keys, users CASCADE');
}
