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

// Works from src/ (tsx, .ts migrations) and from dist/ (compiled .js migrations).
const compiled = __filename.endsWith('.js');
export const migrationConfig: Knex.MigratorConfig = {
  directory: path.join(__dirname, '..', '..', 'migrations'),
  loadExtensions: compiled ? ['.js'] : ['.ts'],
  tableName: 'knex_migrations',
};

export async function migrateLatest(db: Db): Promise<void> {
  await db.migrate.latest(migrationConfig);
}
