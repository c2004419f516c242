// Roles and database of the embedded PostgreSQL, set up (idempotently) on every start as the
// superuser: Beacon itself then connects as APP_ROLE, which
//   - is not a superuser and cannot create roles or databases,
//   - is not in pg_execute_server_program / pg_read_server_files / pg_write_server_files
//     (so no COPY ... TO PROGRAM, no reading the server's files),
//   - owns the `beacon` database, its public schema and every object in it, and nothing else.
// A data folder from before this existed (superuser postgres/postgres, tables owned by postgres)
// is migrated here: the superuser gets the random password, the tables change owner.
import pg from 'pg';

export const APP_ROLE = 'beacon_app';
const LEGACY_PASSWORD = 'postgres';

export interface PgSecrets {
  superuserPassword: string;
  appPassword: string;
  /** The folder predates the secrets file: its superuser may still have the old fixed password. */
  legacy?: boolean;
}
type Log = (level: 'info' | 'warn', obj: object, msg: string) => void;

export async function bootstrapRoles(port: number, secrets: PgSecrets, log: Log): Promise<void> {
  const admin = await superuser(port, 'postgres', secrets, log);
  try {
    const role = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [APP_ROLE]);
    const password = literal(secrets.appPassword);
    if (role.rowCount === 0) {
      await admin.query(`CREATE ROLE ${APP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${password}`);
    } else {
      await admin.query(`ALTER ROLE ${APP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${password}`);
    }
    // Whenever the database is missing (a first start that failed after initdb), it is created.
    const db = await admin.query("SELECT 1 FROM pg_database WHERE datname = 'beacon'");
    if (db.rowCount === 0) {
      await admin.query(`CREATE DATABASE beacon OWNER ${APP_ROLE} ENCODING 'UTF8' TEMPLATE template0`);
      log('info', {}, 'embedded PostgreSQL: database "beacon" created');
    } else {
      await admin.query(`ALTER DATABASE beacon OWNER TO ${APP_ROLE}`);
    }
    await admin.query('REVOKE CONNECT ON DATABASE postgres FROM PUBLIC');
  } finally {
    await admin.end();
  }
  const inBeacon = await superuser(port, 'beacon', secrets, log);
  try {
    await inBeacon.query(`ALTER SCHEMA public OWNER TO ${APP_ROLE}`);
    await inBeacon.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
    // Objects made by an older Beacon that connected as the superuser.
    const owned = await inBeacon.query(
      `SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = $1)
         AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
         -- a serial's sequence follows its table (and cannot be given away on its own)
         AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i'))`,
      [APP_ROLE],
    );
    for (const row of owned.rows as Array<{ relname: string; relkind: string }>) {
      const kind = row.relkind === 'S' ? 'SEQUENCE' : row.relkind === 'v' ? 'VIEW' : row.relkind === 'm' ? 'MATERIALIZED VIEW' : 'TABLE';
      await inBeacon.query(`ALTER ${kind} public.${ident(row.relname)} OWNER TO ${APP_ROLE}`);
    }
    if (owned.rowCount) log('info', { objects: owned.rowCount }, `embedded PostgreSQL: objects handed to ${APP_ROLE}`);
  } finally {
    await inBeacon.end();
  }
}

/** Logs in as the superuser; a pre-secrets folder is moved from the fixed password to the random one. */
async function superuser(port: number, database: string, secrets: PgSecrets, log: Log): Promise<pg.Client> {
  try {
    return await connect(port, database, secrets.superuserPassword);
  } catch (e) {
    if (!secrets.legacy || (e as { code?: string }).code !== '28P01') throw e;
  }
  const client = await connect(port, database, LEGACY_PASSWORD);
  await client.query(`ALTER ROLE postgres PASSWORD ${literal(secrets.superuserPassword)}`);
  log('warn', {}, 'embedded PostgreSQL: the superuser password was the old fixed one; replaced with the random one stored beside the data folder');
  return client;
}

async function connect(port: number, database: string, password: string): Promise<pg.Client> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;
const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
