import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/app';
import { assertMatchesSpec, spec, specOperations } from '../support/openapi';

let t: TestApp;
before(async () => {
  t = await startTestApp();
});
after(async () => t.close());

test('every served route is in openapi.yaml and every documented route is served', () => {
  const served = [...new Set(t.beacon.routes.map((r) => `${r.method} ${r.path}`))].sort();
  const documented = specOperations();
  assert.deepEqual(served.filter((r) => !documented.includes(r)), [], 'served but not documented');
  assert.deepEqual(documented.filter((r) => !served.includes(r)), [], 'documented but not served');
});

test('every operation has an operationId, and no two share one', () => {
  const ids: string[] = [];
  for (const [p, item] of Object.entries<Record<string, { operationId?: string }>>(spec.paths)) {
    for (const m of ['get', 'put', 'post', 'delete', 'patch']) {
      if (!item[m]) continue;
      assert.ok(item[m].operationId, `${m} ${p} has no operationId`);
      ids.push(item[m].operationId!);
    }
  }
  assert.deepEqual(ids.filter((id, i) => ids.indexOf(id) !== i), [], 'duplicate operationIds');
});

test('health routes match the spec', async () => {
  assertMatchesSpec('get', '/healthz', await t.request.get('/healthz'));
  const bare = await t.request.get('/readyz');
  assertMatchesSpec('get', '/readyz', bare);
  const detailed = await t.request.get('/readyz').set('Authorization', `Simple ${ADMIN_KEY}`);
  assertMatchesSpec('get', '/readyz', detailed);
  assert.equal(detailed.body.checks.database, 'ok');
  const m = await t.request.get('/metrics').set('Authorization', `Simple ${ADMIN_KEY}`);
  assert.equal(m.status, 200);
  assert.match(m.text, /beacon_http_request_duration_seconds/);
});

// Attack: an anonymous caller (or a user's key) reading private algorithm names from /metrics,
// or the relay's last error from /readyz.
test('/metrics needs a PlatformAdminKey; /readyz shows its detail only to one', async () => {
  assert.equal((await t.request.get('/metrics')).status, 401);
  const userKey = await t.createUser('metricsprobe');
  assert.equal((await t.request.get('/metrics').set('Authorization', `Simple ${userKey}`)).status, 403);
  for (const auth of [undefined, `Simple ${userKey}`, 'Simple simNotARealKey000000000000000']) {
    const r = auth ? await t.request.get('/readyz').set('Authorization', auth) : await t.request.get('/readyz');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { status: 'ready' });
  }
  // The separate metrics listener serves both without a key (main.ts binds it to METRICS_HOST).
  const { default: supertest } = await import('supertest');
  const side = supertest(t.beacon.metricsApp);
  assert.match((await side.get('/metrics')).text, /beacon_worker_pool_busy/);
  assert.equal((await side.get('/readyz')).body.checks.database, 'ok');
  assert.equal((await side.get('/v1/users')).status, 404);
});
