import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/app';

// Keys and broker passwords never appear in responses (beyond the one creation reply) or logs, and
// algorithm code cannot read the service's secrets or another algorithm's files.

const BROKER_PASSWORD = 'broker-Pa55word-never-shown';
const logLines: string[] = [];
const bodies: string[] = [];
let t: TestApp;
let key: string;
let secretFile: string;

const PROBE = `
import os, json
def attempt(fn):
    try:
        return {"ok": True, "value": fn()}
    except Exception as e:
        return {"ok": False, "error": type(e).__name__}
def read(p):
    with open(p, "rb") as f:
        return f.read(200).decode("latin1")
def apply(input):
    return {
        "env": sorted(os.environ.keys()),
        "service_environ": attempt(lambda: read("/proc/%d/environ" % input["service_pid"])),
        "init_environ": attempt(lambda: read("/proc/1/environ")),
        "secret_file": attempt(lambda: read(input["secret_file"])),
        "other_dir": attempt(lambda: os.listdir(input["other_dir"])) if input.get("other_dir") else None,
        "cwd": os.getcwd(),
    }
`;

async function call(owner: string, name: string, body: unknown) {
  const res = await t.request.post(`/v1/algo/${owner}/${name}`).set('Authorization', `Simple ${key}`).send(body as object);
  bodies.push(res.text);
  return res;
}

before(async () => {
  t = await startTestApp({ LOG_LEVEL: 'debug' }, { logLines });
  key = await t.createUser('keeper');
  const auth = { Authorization: `Simple ${key}` };
  for (const name of ['probe', 'probe2']) {
    const created = await t.request.post('/v1/algorithms/keeper').set(auth).send({
      name,
      details: { label: name },
      settings: { language: 'python3', source_visibility: 'closed', license: 'apl', network_access: 'full', pipeline_enabled: false },
    });
    assert.equal(created.status, 201, created.text);
    const src = await t.request.put(`/v1/algorithms/keeper/${name}/source`).set(auth).send({ files: { [`src/${name}.py`]: PROBE } });
    assert.equal(src.status, 200, src.text);
    assert.equal((await t.request.post(`/v1/algorithms/keeper/${name}/compile`).set(auth).send({})).status, 200);
    const pub = await t.request.post(`/v1/algorithms/keeper/${name}/versions`).set(auth).send({ settings: { algorithm_callability: 'public' } });
    assert.equal(pub.status, 200, pub.text);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beacon-secret-'));
  secretFile = path.join(dir, 'secret.key');
  fs.writeFileSync(secretFile, 'the-service-secret', { mode: 0o600 });
});

after(async () => {
  await t.close();
  fs.rmSync(path.dirname(secretFile), { recursive: true, force: true });
});

test('algorithm code sees a clean environment and cannot read service secrets or other algorithms\' files', async () => {
  const first = await call('keeper', 'probe', { service_pid: process.pid, secret_file: secretFile });
  assert.equal(first.status, 200, first.text);
  const r1 = first.body.result;
  const allowed = new Set(['PATH', 'HOME', 'LANG', 'LC_ALL', 'ALGORITHMIA_API', 'PYTHONPATH', 'PYTHONUNBUFFERED', 'PYTHONDONTWRITEBYTECODE', 'PWD', 'SHLVL', '_']);
  assert.deepEqual(r1.env.filter((k: string) => !allowed.has(k)), [], 'unexpected variables in the worker environment');
  for (const k of r1.env) assert.ok(!/DATABASE|SECRET|KEY|JWT|PASSWORD/i.test(k), `worker sees ${k}`);
  if (process.getuid?.() === 0) {
    // Workers run under their own uid when the service runs as root.
    assert.equal(r1.service_environ.ok, false, 'worker read the service process environment');
    assert.equal(r1.secret_file.ok, false, 'worker read a 0600 file of the service');
    // Sandboxed, the first worker's folder is /work inside its own sandbox, and the host's worker
    // folders are not visible at all: the second worker tries the host path of all of them.
    const otherDir = r1.cwd === '/work' ? t.config.workers.workRoot : r1.cwd;
    const second = await call('keeper', 'probe2', { service_pid: process.pid, secret_file: secretFile, other_dir: otherDir });
    assert.equal(second.status, 200, second.text);
    assert.equal(second.body.result.other_dir.ok, false, 'one algorithm listed another algorithm\'s working folder');
  }
});

test('broker passwords and API keys never appear in responses or logs', async () => {
  const admin = { Authorization: `Simple ${ADMIN_KEY}` };
  const posted = await t.request.post('/v1/admin/insights-connection').set(admin).send({
    connection_type: 'kafka_sasl_plaintext',
    broker_url: '127.0.0.1:1',
    topic: 'insights',
    sasl_mechanism: 'SCRAM-SHA-512',
    broker_username: 'beacon',
    broker_password: BROKER_PASSWORD,
  });
  assert.ok(posted.status < 300, posted.text);
  bodies.push(posted.text);
  for (const p of ['/v1/admin/insights-connection', '/v1/admin/insights-connection/status']) {
    const res = await t.request.get(p).set(admin);
    assert.equal(res.status, 200, res.text);
    bodies.push(res.text);
  }
  bodies.push((await t.request.post('/v1/admin/insights-connection/test').set(admin).send({})).text);
  // Failed authentications with real-looking keys must not echo them either.
  bodies.push((await t.request.get('/v1/algorithms/keeper/probe').set('Authorization', 'Simple simWrongKey123456789012345678')).text);
  bodies.push((await t.request.get('/v1/algorithms/keeper/probe').set('Authorization', `Simple ${key}`)).text);
  await call('keeper', 'probe', { service_pid: process.pid, secret_file: secretFile });

  const everything = bodies.join('\n');
  assert.ok(!everything.includes(BROKER_PASSWORD), 'a response contained the broker password');
  assert.ok(!everything.includes(key), 'a response contained an API key');
  assert.ok(!everything.includes(ADMIN_KEY), 'a response contained the admin key');
  assert.ok(!everything.includes('simWrongKey123456789012345678'), 'a response echoed a presented key');
  assert.ok(logLines.length > 5, 'logs were captured');
  const logs = logLines.join('\n');
  for (const secret of [BROKER_PASSWORD, key, ADMIN_KEY, 'simWrongKey123456789012345678']) {
    assert.ok(!logs.includes(secret), `a log line contained a secret (${secret.slice(0, 6)}…)`);
  }
  // The password is stored encrypted, not in plain text.
  const stored = await t.testDb.db('insights_connection').first();
  assert.ok(stored && !JSON.stringify(stored).includes(BROKER_PASSWORD), 'the broker password is stored in plain text');
});
