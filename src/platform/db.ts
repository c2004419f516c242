import knexFactory, { type Knex } from 'knex';
import path from 'node:path';

export type Db = Knex;

export function createDb(connectionString: string, poolMax = 10): Db {
  return knexFactory({
    client: 'pg',
    connection: { connectionString, application_name: 'beacon' },
    pool: { min: 0, max: poolMax, acquireTimeoutMillis: 10_000 },
    acquireConnectionTimeout: 10_000,
  });
}

/** The connection string a Db was created with (createDb), e.g. for a worker thread's own pool. */
export function connectionStringOf(db: Db): string {
  const connection = (db.client.config as Knex.Config).connection;
  if (typeof connection === 'string') return connection;
  const cs = (connection as { connectionString?: unknown } | undefined)?.connectionString;
  if (typeof cs !== 'string') throw new Error('this database handle was not created from a connection string');
  return cs;
}

/**
 * A small second pool on the same database whose sessions commit asynchronously: a commit returns
 * before its WAL reaches disk (PostgreSQL's synchronous_commit=off). A crash of PostgreSQL itself
 * (not of Beacon, and not a clean restart) can lose the last few hundred milliseconds of such
 * commits; nothing is ever corrupted. Used only where that trade is documented (the Insights outbox).
 */
export function createAsyncCommitPool(db: Db, poolMax = 2): Db {
  const base = db.client.config as Knex.Config;
  return knexFactory({
    ...base,
    pool: {
      min: 0,
      max: poolMax,
      afterCreate: (conn: { query(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void) => {
        conn.query('SET synchronous_commit TO off', (err) => done(err, conn));
      },
    },
  });
}

// Works from src/ (tsx, .ts migrations) and from dist/ (compiled .js migrations).
const compiled = __filename.endsWith('.js');
export const migrationConfig: Knex.MigratorConfig = {
  directory: path.join(__dirname, '..', '..', 'migrations'),
  loadExtensions: compiled ? ['.js'] : ['.ts'],
  tableName: 'knex_migrations',
};

/** Readiness: one round trip to the database. */
export async function pingDatabase(db: Db): Promise<void> {
  await db.raw('select 1');
}

export async function migrateLatest(db: Db): Promise<void> {
  await db.migrate.latest(migrationConfig);
}
