// The worker sandbox against a hostile Python algorithm: each test performs one attack from issue 8,
// asserts that it fails with a clear error, and that a healthy algorithm answers right after.
// Every assertion here fails when the control is missing (WORKER_SANDBOX=off makes them fail).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../support/app';
import { assertError, callAlgo, deployWith, HEALTHY_PY, hostAddresses, listenEverywhere, SANDBOX_ENV } from '../support/sandbox-helpers';
import { storedIds, storedPayloads } from '../support/insights-helpers';

const ATTACK = `import os, socket, subprocess, sys, time
import Algorithmia

def connect(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(3)
    try:
        s.connect((host, port))
        return "connected"
    except OSError as e:
        return type(e).__name__ + ": " + str(e)
    finally:
        s.close()

def apply(input):
    op = input["op"]
    if op == "connect":
        return {"%s:%d" % (h, p): connect(h, p) for h, p in input["targets"]}
    if op == "unix":
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(input["path"])
            return "connected"
        except OSError as e:
            return type(e).__name__
    if op == "read":
        out = {}
        for p in input["paths"]:
            try:
                if os.path.isdir(p):
                    out[p] = "listed %d entries" % len(os.listdir(p))
                else:
                    open(p, "rb").read(1)
                    out[p] = "read"
            except OSError as e:
                out[p] = type(e).__name__
        return out
    if op == "interfaces":
        return [n for _, n in socket.if_nameindex()]
    if op == "children_memory":
        code = "import time; b = b'x' * (%d * 1024 * 1024); time.sleep(60)" % input["mb"]
        procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(4)]
        time.sleep(input["wait"])
        return [p.poll() for p in procs]
    if op == "processes":
        started = [subprocess.Popen(["sleep", "60"]) for _ in range(input["n"])]
        return len(started)
    if op == "write":
        chunk = b"x" * (8 * 1024 * 1024)
        with open(input["path"], "wb") as f:
            for _ in range(input["mb"] // 8):
                f.write(chunk)
        return "wrote %d MiB" % input["mb"]
    if op == "leave":
        with open(input["path"], "w") as f:
            f.write("left behind")
        return "left"
    if op == "exists":
        return os.path.exists(input["path"])
    if op == "daemon":
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                for _ in range(600):
                    try:
                        Algorithmia.client().report_insights({"injected": 1})
                    except Exception:
                        pass
                    time.sleep(0.02)
                os._exit(0)
            os._exit(0)
        time.sleep(0.3)
        return os.environ["ALGORITHMIA_API"]
    if op == "second":
        Algorithmia.client().report_insights({"second": 1})
        time.sleep(1.5)
        return sorted(int(p) for p in os.listdir("/proc") if p.isdigit() and "\\tZ" not in open("/proc/%s/stat" % p).read().replace(") Z ", "\\tZ"))
    raise ValueError("unknown op " + op)
`;

let t: TestApp;
let key: string;
const KAFKA_PORT = Number(process.env.KAFKA_PLAINTEXT_PORT ?? 19092);

async function healthy(): Promise<void> {
  const r = await callAlgo(t, key, 'mallory/Healthy', 'after');
  assert.equal(r.result, 'healthy after', JSON.stringify(r));
}

before(async () => {
  t = await startTestApp(SANDBOX_ENV);
  key = await t.createUser('mallory');
  await deployWith(t, 'mallory', key, 'Attack', 'python3', ATTACK); // network_access defaults to full
  await deployWith(t, 'mallory', key, 'Isolated', 'python3', ATTACK, { network: 'isolated' });
  await deployWith(t, 'mallory', key, 'Spy', 'python3', ATTACK, { insights: true });
  await deployWith(t, 'mallory', key, 'WarmSpy', 'python3', ATTACK, { insights: true });
  await deployWith(t, 'mallory', key, 'Healthy', 'python3', HEALTHY_PY);
});

after(async () => t?.close());

describe('network', () => {
  test('"full": no TCP to the database, the broker or Beacon on 127.0.0.1, to the host gateway or to this host\'s other interfaces', async () => {
    const service = await listenEverywhere();
    try {
      const beaconPort = Number(new URL(t.url).port);
      const targets: [string, number][] = [
        ['127.0.0.1', 5432], ['127.0.0.1', KAFKA_PORT], ['127.0.0.1', beaconPort], ['127.0.0.1', service.port],
        ['10.0.2.2', beaconPort], ['10.0.2.2', service.port],
        ...hostAddresses().flatMap((a): [string, number][] => [[a, service.port], [a, beaconPort], [a, 5432]]),
      ];
      const r = await callAlgo(t, key, 'mallory/Attack', { op: 'connect', targets });
      const results = r.result as Record<string, string>;
      assert.equal(Object.keys(results).length, targets.length, JSON.stringify(r));
      for (const [target, outcome] of Object.entries(results)) assert.match(outcome, /^(ConnectionRefusedError|ConnectionResetError|OSError|TimeoutError)/, `${target}: ${outcome}`);
      assert.equal(service.connections(), 0);
    } finally {
      service.server.close();
    }
    await healthy();
  });

  test('"isolated": no network at all (only lo), nothing of the host reachable', async () => {
    const service = await listenEverywhere();
    try {
      const ifs = await callAlgo(t, key, 'mallory/Isolated', { op: 'interfaces' });
      assert.deepEqual(ifs.result, ['lo']);
      const targets = [['127.0.0.1', 5432], ['127.0.0.1', service.port], ...hostAddresses().map((a) => [a, service.port])];
      const r = await callAlgo(t, key, 'mallory/Isolated', { op: 'connect', targets });
      for (const [target, outcome] of Object.entries(r.result as Record<string, string>)) assert.match(outcome, /^(ConnectionRefusedError|OSError)/, `${target}: ${outcome}`);
      assert.equal(service.connections(), 0);
    } finally {
      service.server.close();
    }
    await healthy();
  });

  test('a forged outbox row: no database is reachable, over TCP or PostgreSQL\'s Unix socket', async () => {
    const before = (await storedIds(t.testDb.db)).length;
    const tcp = await callAlgo(t, key, 'mallory/Attack', { op: 'connect', targets: [['127.0.0.1', 5432], ...hostAddresses().map((a) => [a, 5432])] });
    for (const outcome of Object.values(tcp.result as Record<string, string>)) assert.notEqual(outcome, 'connected');
    for (const path of ['/var/run/postgresql/.s.PGSQL.5432', '/run/postgresql/.s.PGSQL.5432', '/tmp/.s.PGSQL.5432']) {
      const unix = await callAlgo(t, key, 'mallory/Attack', { op: 'unix', path });
      assert.equal(unix.result, 'FileNotFoundError', path);
    }
    assert.equal((await storedIds(t.testDb.db)).length, before);
    await healthy();
  });
});

describe('files', () => {
  test('the service folder, .cache/, the data and worker folders, the broker users file and /proc/<beacon>/environ do not exist inside', async () => {
    const cwd = process.cwd();
    const paths = [cwd, join(cwd, '.cache'), join(cwd, '.cache/kafka/run/users.env'), join(cwd, 'src/config.ts'), t.config.workers.workRoot,
      t.config.embeddedPg.dir, `/proc/${process.pid}/environ`, '/root', '/etc/shadow', '/var/run/postgresql', '/home'];
    const r = await callAlgo(t, key, 'mallory/Attack', { op: 'read', paths });
    for (const p of paths) assert.equal((r.result as Record<string, string>)[p], 'FileNotFoundError', `${p}: ${JSON.stringify(r)}`);
    await healthy();
  });

  test('another worker\'s folder and /tmp are its own: a file left there is not seen by the next call', async () => {
    const name = `left-${randomBytes(4).toString('hex')}`;
    assert.equal((await callAlgo(t, key, 'mallory/Attack', { op: 'leave', path: `/tmp/${name}` })).result, 'left');
    assert.equal((await callAlgo(t, key, 'mallory/Attack', { op: 'leave', path: `/work/${name}` })).result, 'left');
    // The next call, of another algorithm (another worker), sees neither file.
    assert.equal((await callAlgo(t, key, 'mallory/Isolated', { op: 'exists', path: `/tmp/${name}` })).result, false);
    assert.equal((await callAlgo(t, key, 'mallory/Isolated', { op: 'exists', path: `/work/${name}` })).result, false);
    // The next call of the same algorithm, on the same worker, finds /tmp emptied (its folder
    // /work is its own and persists, as on Algorithmia).
    assert.equal((await callAlgo(t, key, 'mallory/Attack', { op: 'exists', path: `/tmp/${name}` })).result, false);
    assert.equal((await callAlgo(t, key, 'mallory/Attack', { op: 'exists', path: `/work/${name}` })).result, true);
    await healthy();
  });

  test('1 GiB written to the worker folder or /tmp stops at the size cap with ENOSPC', async () => {
    for (const path of ['/work/big', '/tmp/big']) {
      const r = await callAlgo(t, key, 'mallory/Attack', { op: 'write', path, mb: 1024 });
      assertError(r, 'AlgorithmError', /No space left on device/);
    }
    await healthy();
  });
});

describe('processes and memory', () => {
  test('4 children past the memory limit: the worker is killed and the call gets OutOfMemoryError', async () => {
    // 4 x 150 MiB in separate processes: each under the per-process address limit, together past 400 MiB.
    const r = await callAlgo(t, key, 'mallory/Attack', { op: 'children_memory', mb: 150, wait: 15 });
    assertError(r, 'OutOfMemoryError', /ran out of memory/);
    await healthy();
  });

  test('500 processes: the process limit stops the fork with a clear error', async () => {
    const r = await callAlgo(t, key, 'mallory/Attack', { op: 'processes', n: 500 });
    assertError(r, 'AlgorithmError', /Resource temporarily unavailable/);
    await healthy();
  });

  test('a daemon started by a warm worker\'s later call is killed too (a fresh look at the group after every call)', async () => {
    // cgroup v1 keeps a pid list cached for a second per open file: a sweep that re-read one
    // descriptor saw the list of the call before and let this daemon live.
    for (let i = 0; i < 3; i++) assert.equal((await callAlgo(t, key, 'mallory/WarmSpy', { op: 'exists', path: '/nothing' })).result, false);
    const daemon = await callAlgo(t, key, 'mallory/WarmSpy', { op: 'daemon' });
    assert.match(String(daemon.result), /^http:\/\/127\.0\.0\.1:9000\/worker\//, JSON.stringify(daemon));
    const second = await callAlgo(t, key, 'mallory/WarmSpy', { op: 'second' });
    assert.deepEqual(second.result, [1, 2], JSON.stringify(second));
    const payload = (await storedPayloads(t.testDb.db)).get(second.request_id);
    assert.equal(payload?.injected, undefined, 'a metric from the daemon reached the next call');
    await healthy();
  });

  test('a daemon left by one call posts nothing into the next: it is killed between calls and its token is dead', async () => {
    const first = await callAlgo(t, key, 'mallory/Spy', { op: 'daemon' });
    const api = String(first.result);
    assert.match(api, /^http:\/\/127\.0\.0\.1:9000\/worker\/[A-Za-z0-9_-]{32}$/);
    const second = await callAlgo(t, key, 'mallory/Spy', { op: 'second' });
    // Same worker (one per version), and nothing alive but bwrap (pid 1) and the runner (pid 2) in its
    // sandbox (the runner may keep the zombie of the child it forked and never waited for).
    assert.deepEqual(second.result, [1, 2], JSON.stringify(second));
    const payload = (await storedPayloads(t.testDb.db)).get(second.request_id);
    assert.ok(payload, 'the second call\'s payload is stored');
    assert.equal(payload.second, 1);
    assert.equal(payload.injected, undefined, 'a metric from the first call\'s daemon reached the second call');
    // The first call's token is refused now, and counted.
    const token = api.split('/').pop();
    const stale = await t.request.post(`/worker/${token}/v1/insights`).send([{ insight_key: 'late', insight_value: 1 }]);
    assert.equal(stale.status, 404);
    assert.match(stale.body.error.message, /unknown or finished call/);
    const counter = await t.beacon.metrics.registry.getSingleMetric('beacon_worker_callbacks_refused_total')?.get();
    assert.ok((counter?.values[0]?.value ?? 0) >= 1);
    await healthy();
  });
});
