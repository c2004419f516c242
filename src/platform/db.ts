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

/**
 * Readiness: one round trip to the database, bounded in time: waiting for a pooled connection and
 * the statement together take at most `timeoutMs` (a saturated pool or a hung server makes the
 * probe fail fast instead of hanging the prober).
 */
export async function pingDatabase(db: Db, timeoutMs = 300): Promise<void> {
  await withTimeout(db.raw('select 1').timeout(timeoutMs), timeoutMs, 'database ping');
}

/** Rejects after `ms` if `p` has not settled (p keeps running; its outcome is ignored). */
export function withTimeout<T>(p: PromiseLike<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  const run = Promise.resolve(p);
  run.catch(() => undefined);
  return Promise.race([run, late]).finally(() => clearTimeout(timer));
}

export async function migrateLatest(db: Db): Promise<void> {
  await db.migrate.latest(migrationConfig);
}
