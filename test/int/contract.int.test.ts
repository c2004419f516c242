import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestApp, type TestApp } from '../support/app';
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
  assertMatchesSpec('get', '/readyz', await t.request.get('/readyz'));
  const m = await t.request.get('/metrics');
  assert.equal(m.status, 200);
  assert.match(m.text, /beacon_http_request_duration_seconds/);
});
