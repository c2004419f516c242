import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { createDb, type Db, migrateLatest, migrationConfig } from '../../src/platform/db';

/** The server that test databases are created on (the machine's PostgreSQL by default). */
export const adminDatabaseUrl = (): string =>
  process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDb {
  db: Db;
  url: string;
  drop(): Promise<void>;
}

const urlOf = (name: string): string => {
  const url = new URL(adminDatabaseUrl());
  url.pathname = `/${name}`;
  return url.toString();
};

/**
 * The migrated template: named after a hash of the migrations, so a changed migration makes a new one
 * and every test file (each in its own process, several at once) shares the one that matches. Built
 * under a private name and renamed into place, so nobody ever clones a half-migrated template.
 */
async function migratedTemplate(admin: Knex): Promise<string> {
  const dir = migrationConfig.directory as string;
  const hash = createHash('sha256');
  for (const f of fs.readdirSync(dir).sort()) hash.update(f).update(fs.readFileSync(path.join(dir, f)));
  const name = `beacon_tpl_${hash.digest('hex').slice(0, 16)}`;
  const exists = async () => (await admin.raw('SELECT 1 FROM pg_database WHERE datname = ?', [name])).rows.length > 0;
  if (await exists()) return name;
  const building = `beacon_tplb_${randomBytes(6).toString('hex')}`;
  await admin.raw(`CREATE DATABASE ${building}`);
  const db = createDb(urlOf(building), 1);
  try {
    await migrateLatest(db);
  } finally {
    await db.destroy();
  }
  try {
    await admin.raw(`ALTER DATABASE ${building} RENAME TO ${name}`);
  } catch (err) {
    // Another test file renamed its copy first (42P04: duplicate database); use that one.
    await admin.raw(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
    if ((err as { code?: string }).code !== '42P04') throw err;
  }
  return name;
}

/** A fresh database per test file, cloned from the migrated template (`migrated: false`: an empty one), dropped at the end. */
export async function createTestDb(opts: { migrated?: boolean } = {}): Promise<TestDb> {
  const name = `beacon_t_${randomBytes(6).toString('hex')}`;
  const admin = knexFactory({ client: 'pg', connection: adminDatabaseUrl(), pool: { min: 0, max: 1 } });
  if (opts.migrated === false) {
    await admin.raw(`CREATE DATABASE ${name}`);
  } else {
    const template = await migratedTemplate(admin);
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.raw(`CREATE DATABASE ${name} TEMPLATE ${template}`);
        break;
      } catch (err) {
        // 55006: the template is briefly in use (another clone or its own creation); try again.
        if ((err as { code?: string }).code !== '55006' || attempt >= 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
  const url = urlOf(name);
  const db = createDb(url, 10);
  return {
    db,
    url,
    async drop() {
      await db.destroy();
      await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.destroy();
    },
  };
}
