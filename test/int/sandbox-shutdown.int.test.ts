// The callback channel outlives Beacon's TCP port on a graceful stop: a call in flight when SIGTERM
// arrives still reports its Insights (over the Unix socket) and answers, and its payload is stored.
// With the old TCP callback (WORKER_SANDBOX=off) the report fails once the port stops accepting.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import supertest from 'supertest';
import { ADMIN_KEY, type TestApp } from '../support/app';
import { startBeaconProcess, type BeaconProcess } from '../support/beacon-process';
import { createTestDb, type TestDb } from '../support/db';
import { AlgorithmAuthor } from '../support/execution-helpers';
import { SANDBOX_ENV } from '../support/sandbox-helpers';
import { storedPayloads } from '../support/insights-helpers';

const SLOW = `import time
import Algorithmia

def apply(input):
    time.sleep(input)
    Algorithmia.client().report_insights({"late_metric": 7})
    return "reported"
`;

let db: TestDb;
let beacon: BeaconProcess;

before(async () => {
  db = await createTestDb();
  beacon = await startBeaconProcess({
    ...SANDBOX_ENV, DATABASE_URL: db.url, BEACON_SECRET_KEY: '0'.repeat(64), BOOTSTRAP_ADMIN_KEY: ADMIN_KEY, SHUTDOWN_TIMEOUT_MS: '20000',
    INSIGHTS_SPOOL_DIR: `/tmp/beacon-spool-shutdown-${process.pid}`,
  });
});

after(async () => {
  await beacon?.stop('SIGKILL');
  await db?.drop();
});

test('a call in flight at SIGTERM still reports Insights through the callback socket and answers', async () => {
  const request = supertest(beacon.url);
  const admin = { Authorization: `Simple ${ADMIN_KEY}` };
  await request.post('/v1/users').set(admin).send({ username: 'ana' }).expect(201);
  const key = (await request.post('/v1/admin/users/ana/keys').set(admin).send({ permissions: {} }).expect(201)).body.api_key as string;
  await new AlgorithmAuthor({ request } as unknown as TestApp, 'ana', key).deploy('Slow', 'python3', SLOW, { insights: true });
  const call = (seconds: number) => request.post('/v1/algo/ana/Slow').set('Authorization', `Simple ${key}`).type('json').send(String(seconds));
  assert.equal((await call(0)).body.result, 'reported'); // the worker is warm

  const inFlight = call(2).then((r) => r); // .then sends it now (supertest is lazy)
  await new Promise((r) => setTimeout(r, 700));
  beacon.child.kill('SIGTERM');
  const res = await inFlight;
  assert.equal(res.status, 200);
  assert.equal(res.body.result, 'reported', JSON.stringify(res.body));
  assert.equal(await beacon.exited, 0);
  const payload = (await storedPayloads(db.db)).get(res.body.request_id);
  assert.ok(payload, 'the payload of the call that was in flight is stored');
  assert.equal(payload.late_metric, 7);
});
