import { randomBytes } from 'node:crypto';
import knexFactory from 'knex';
import { createDb, type Db, migrateLatest } from '../../src/platform/db';

/** The server that test databases are created on (the machine's PostgreSQL by default). */
export const adminDatabaseUrl = (): string =>
  process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDb {
  db: Db;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database per test file, dropped at the end (`migrated: false`: an empty one). */
export async function createTestDb(opts: { migrated?: boolean } = {}): Promise<TestDb> {
  const name = `beacon_t_${randomBytes(6).toString('hex')}`;
  const admin = knexFactory({ client: 'pg', connection: adminDatabaseUrl(), pool: { min: 0, max: 1 } });
  await admin.raw(`CREATE DATABASE ${name}`);
  const url = new URL(adminDatabaseUrl());
  url.pathname = `/${name}`;
  const db = createDb(url.toString(), 10);
  if (opts.migrated !== false) await migrateLatest(db);
  return {
    db,
    url: url.toString(),
    async drop() {
      await db.destroy();
      await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.destroy();
    },
  };
}
