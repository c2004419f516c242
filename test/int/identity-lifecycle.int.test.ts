// Users and API keys over their whole life: read, list, delete users; list, revoke, rotate and
// expire keys; JWT lifetimes. Two Beacon replicas share one database, as in production.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import jwt from 'jsonwebtoken';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/app';
import type { BeaconClient } from '../../src/client/beacon-client';
import { testClient } from '../support/client';
import { assertErrorShape } from '../support/openapi';
import { auth, createAlgorithm } from '../support/algorithms-fixtures';

const JWT_SECRET = 'a-test-secret-of-at-least-16-chars';
const CACHE_TTL_MS = 1000;
const admin = auth(ADMIN_KEY);
let a: TestApp; // replica A
let b: TestApp; // replica B, same database
let carolKey: string;
let daveKey: string;

before(async () => {
  const env = { JWT_SECRET, JWT_MAX_LIFETIME_S: '600', AUTH_CACHE_TTL_MS: String(CACHE_TTL_MS) };
  a = await startTestApp(env);
  b = await startTestApp(env, { sharedDb: a.testDb });
  carolKey = await a.createUser('carol');
  daveKey = await a.createUser('dave');
});
after(async () => {
  await b.close();
  await a.close();
});

// The typed client (src/client) checks every request and reply against openapi.yaml.
const as = (t: TestApp, key?: string): BeaconClient => testClient(t, key);
const user = (username: string) => ({ params: { path: { username } } });
const key = (username: string, key_id: string) => ({ params: { path: { username, key_id } } });
const listAlgorithms = async (t: TestApp, apiKey: string) => {
  const { response, error } = await as(t, apiKey).GET('/v1/users/{username}/algorithms', user('carol'));
  return { status: response.status, error };
};
const keysOf = async (username: string, apiKey = ADMIN_KEY) => {
  const { data, response } = await as(a, apiKey).GET('/v1/users/{username}/keys', user(username));
  assert.equal(response.status, 200);
  return data!.results;
};
const newKey = async (username: string, body: { key_label?: string; key_type?: 'AlgorithmKey' | 'PlatformAdminKey'; api_key?: string; expires_at?: string; permissions?: { allow_algo_management?: boolean; algo_acl?: string[] } } = {}) => {
  const { data, response } = await as(a, ADMIN_KEY).POST('/v1/admin/users/{username}/keys', { ...user(username), body });
  assert.equal(response.status, 201);
  return data!;
};
/** Polls until the request is refused; the bound is generous, the assertion is that it happens. */
async function eventually401(send: () => Promise<{ status: number }>): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await send();
    if (res.status === 401) return;
    assert.ok(Date.now() < deadline, `still ${res.status} long after the auth cache lifetime`);
    await sleep(100);
  }
}

describe('users', () => {
  test('a user reads themselves; an admin reads anyone; another user gets 403 whether or not the name exists', async () => {
    const self = await as(a, carolKey).GET('/v1/users/{username}', user('carol'));
    assert.equal(self.response.status, 200);
    assert.equal(self.data!.username, 'carol');
    assert.equal(self.data!.self_link, `${a.url}/v1/users/carol`);
    assert.equal((await as(a, ADMIN_KEY).GET('/v1/users/{username}', user('CAROL'))).response.status, 200);
    for (const name of ['carol', 'nobody_here']) {
      assert.equal((await as(a, daveKey).GET('/v1/users/{username}', user(name))).response.status, 403, name);
    }
    const missing = await as(a, ADMIN_KEY).GET('/v1/users/{username}', user('nobody_here'));
    assert.equal(missing.response.status, 404);
    assert.equal(missing.error!.error.code, 3000);
    assert.equal((await as(a).GET('/v1/users/{username}', user('carol'))).response.status, 401);
    assert.equal((await a.request.get('/v1/users/9bad').set(admin)).status, 400);
  });

  test('an admin lists users page by page; a standard key may not', async () => {
    for (const u of ['u_a', 'u_b', 'u_c']) await a.request.post('/v1/users').set(admin).send({ username: u }).expect(201);
    const seen: string[] = [];
    let marker: string | null = null;
    do {
      const { data, response }: { data?: { results: { username: string }[]; marker: string | null }; response: Response } = await as(a, ADMIN_KEY).GET('/v1/users', { params: { query: marker ? { limit: 2, marker } : { limit: 2 } } });
      assert.equal(response.status, 200);
      assert.ok(data!.results.length <= 2);
      seen.push(...data!.results.map((u) => u.username));
      marker = data!.marker;
    } while (marker);
    assert.deepEqual(seen, ['admin', 'carol', 'dave', 'u_a', 'u_b', 'u_c']);
    assert.equal((await as(a, carolKey).GET('/v1/users')).response.status, 403);
    for (const query of [{ limit: 0 }, { limit: 'x' }, { limit: 1001 }, { marker: '../x' }]) {
      const res = await a.request.get('/v1/users').query(query).set(admin);
      assert.equal(res.status, 400, JSON.stringify(query));
      assertErrorShape(res.body);
    }
  });

  test('deleting a user deletes their keys and algorithms; calls to them are 404; their key is refused on both replicas', async () => {
    const erinKey = await a.createUser('erin');
    await createAlgorithm(a, erinKey, 'erin', 'Doomed');
    assert.equal((await b.request.get('/v1/users/erin/algorithms').set(auth(erinKey))).status, 200); // B caches the key
    assert.equal((await as(a, ADMIN_KEY).DELETE('/v1/users/{username}', user('erin'))).response.status, 204);
    assert.equal((await a.request.get('/v1/users/erin/algorithms').set(auth(erinKey))).status, 401);
    await eventually401(() => b.request.get('/v1/users/erin/algorithms').set(auth(erinKey)));
    assert.equal((await a.request.get('/v1/users/erin').set(admin)).status, 404);
    const algos = await a.testDb.db('algorithms').whereRaw('lower(name) = ?', ['doomed']).count<{ count: string }[]>('* as count');
    assert.equal(Number(algos[0].count), 0);
    const call = await a.request.post('/v1/algo/erin/Doomed').set(auth(carolKey)).set('Content-Type', 'application/json').send('"x"');
    assert.equal(call.status, 404);
    assert.equal((await a.request.delete('/v1/users/erin').set(admin)).status, 404);
  });

  test('only an admin deletes users, and not its own', async () => {
    assert.equal((await a.request.delete('/v1/users/dave').set(auth(carolKey))).status, 403);
    assert.equal((await a.request.delete('/v1/users/carol').set(auth(carolKey))).status, 403);
    assert.equal((await as(a, ADMIN_KEY).DELETE('/v1/users/{username}', user('admin'))).response.status, 409);
    assert.equal((await a.request.get('/v1/users/dave').set(admin)).status, 200);
  });
});

describe('API keys', () => {
  test('a listing shows label, type, permissions, dates and a short prefix, never the key', async () => {
    const made = await newKey('carol', { key_label: 'ci', permissions: { allow_algo_management: false } });
    assert.equal((await a.request.get('/v1/users/carol/algorithms').set(auth(made.api_key))).status, 403); // used once
    const listed = (await keysOf('carol', carolKey)).find((k) => k.id === made.id)!;
    assert.ok(!('api_key' in listed));
    assert.equal(listed.key_label, 'ci');
    assert.equal(listed.key_type, 'AlgorithmKey');
    assert.equal(listed.permissions.allow_algo_management, false);
    assert.equal(listed.key_prefix, made.api_key.slice(0, 8));
    assert.ok(listed.last_used_at, 'last_used_at is set once the key authenticated a request');
    assert.equal(listed.expires_at, null);
    const text = JSON.stringify(await keysOf('carol'));
    assert.ok(!text.includes(made.api_key) && !text.includes(carolKey) && !text.includes('api_key"'), 'no key in a listing');
    assert.equal((await a.request.get('/v1/users/carol/keys').set(auth(daveKey))).status, 403);
    assert.equal((await a.request.get('/v1/users/nobody_here/keys').set(admin)).status, 404);
  });

  test('a revoked key is refused at once on this replica and within the cache lifetime on the other', async () => {
    const made = await newKey('carol');
    // Both replicas have authenticated (and cached) the key.
    assert.equal((await listAlgorithms(a, made.api_key)).status, 200);
    assert.equal((await listAlgorithms(b, made.api_key)).status, 200);
    assert.equal((await as(a, carolKey).DELETE('/v1/users/{username}/keys/{key_id}', key('carol', made.id))).response.status, 204);
    const next = await listAlgorithms(a, made.api_key);
    assert.equal(next.status, 401);
    assert.equal(next.error!.error.code, 2002);
    await eventually401(() => listAlgorithms(b, made.api_key));
    assert.ok(!(await keysOf('carol')).some((k) => k.id === made.id));
    assert.equal((await listAlgorithms(a, carolKey)).status, 200, 'the user\'s other keys still work');
    const again = await as(a, ADMIN_KEY).DELETE('/v1/users/{username}/keys/{key_id}', key('carol', made.id));
    assert.equal(again.response.status, 404);
    assert.equal(again.error!.error.code, 3100);
    assert.equal((await a.request.delete('/v1/users/carol/keys/not-a-uuid').set(admin)).status, 400);
  });

  test('a user cannot revoke or rotate another user\'s key, even by its id', async () => {
    const daves = await keysOf('dave', daveKey);
    for (const path of [`/v1/users/carol/keys/${daves[0].id}`, `/v1/users/dave/keys/${daves[0].id}`]) {
      assert.ok([403, 404].includes((await a.request.delete(path).set(auth(carolKey))).status), path);
      assert.ok([403, 404].includes((await a.request.post(`${path}/rotate`).set(auth(carolKey))).status), path);
    }
    assert.equal((await a.request.get('/v1/users/dave/algorithms').set(auth(daveKey))).status, 200);
  });

  test('a call-only or ACL-restricted key cannot list, revoke or rotate its user\'s broader keys; it may rotate itself', async () => {
    const full = await newKey('carol', { key_label: 'full' });
    for (const permissions of [{ allow_algo_management: false }, { algo_acl: ['algo://carol/One/*'] }]) {
      const limited = await newKey('carol', { key_label: 'limited', permissions });
      const c = as(a, limited.api_key);
      assert.equal((await c.GET('/v1/users/{username}/keys', user('carol'))).response.status, 403);
      assert.equal((await c.POST('/v1/users/{username}/keys/{key_id}/rotate', key('carol', full.id))).response.status, 403, 'no escalation by rotation');
      assert.equal((await c.DELETE('/v1/users/{username}/keys/{key_id}', key('carol', full.id))).response.status, 403);
      const self = await c.POST('/v1/users/{username}/keys/{key_id}/rotate', key('carol', limited.id));
      assert.equal(self.response.status, 201, 'a key may rotate itself');
      assert.equal(self.data!.permissions.allow_algo_management, permissions.allow_algo_management ?? true);
      const rotated = as(a, self.data!.api_key);
      assert.equal((await rotated.DELETE('/v1/users/{username}/keys/{key_id}', key('carol', limited.id))).response.status, 204, 'and revoke itself');
    }
    assert.equal((await listAlgorithms(a, full.api_key)).status, 200, 'the full key was never touched');
  });

  test('the bootstrap admin key can be rotated away: the old one is refused, the new one works', async () => {
    const adminKeys = await keysOf('admin');
    const bootstrap = adminKeys.find((k) => k.key_label === 'bootstrap admin key')!;
    assert.equal(bootstrap.key_prefix, ADMIN_KEY.slice(0, 8));
    // Rotated with a second admin key so the test app keeps working afterwards.
    const spare = await newKey('admin', { key_type: 'PlatformAdminKey', key_label: 'spare' });
    assert.equal((await b.request.get('/v1/users').set(admin)).status, 200); // cached on B
    const { data: rotated, response } = await as(a, spare.api_key).POST('/v1/users/{username}/keys/{key_id}/rotate', key('admin', bootstrap.id));
    assert.equal(response.status, 201);
    assert.equal(rotated!.id, bootstrap.id);
    assert.equal(rotated!.key_label, 'bootstrap admin key');
    assert.notEqual(rotated!.api_key, ADMIN_KEY);
    assert.equal((await a.request.get('/v1/users').set(admin)).status, 401);
    await eventually401(() => b.request.get('/v1/users').set(admin));
    assert.equal((await as(b, rotated!.api_key).GET('/v1/users')).response.status, 200);
    // Put the test key back (import) so later tests and close() keep their admin.
    await a.request.delete(`/v1/users/admin/keys/${bootstrap.id}`).set(auth(spare.api_key)).expect(204);
    await a.request.post('/v1/admin/users/admin/keys').set(auth(spare.api_key)).send({ api_key: ADMIN_KEY, key_type: 'PlatformAdminKey' }).expect(201);
  });

  test('an expiring key works until expires_at and is refused afterwards, cached or not', async () => {
    const expiresAt = new Date(Date.now() + 2500).toISOString();
    const made = await newKey('carol', { expires_at: expiresAt });
    assert.equal(made.expires_at, expiresAt);
    assert.equal((await listAlgorithms(a, made.api_key)).status, 200);
    assert.equal((await listAlgorithms(b, made.api_key)).status, 200);
    await sleep(Math.max(0, Date.parse(expiresAt) - Date.now()) + 100);
    assert.equal((await listAlgorithms(a, made.api_key)).status, 401);
    assert.equal((await listAlgorithms(b, made.api_key)).status, 401);
    for (const bad of ['2000-01-01T00:00:00Z', 'tomorrow', 12]) {
      const res = await a.request.post('/v1/admin/users/carol/keys').set(admin).send({ expires_at: bad });
      assert.equal(res.status, 400, String(bad));
      assertErrorShape(res.body);
    }
  });
});

describe('bearer tokens (JWT) need exp within the configured lifetime', () => {
  const call = (token: string) => a.request.get('/v1/users/carol/algorithms').set('Authorization', `Bearer ${token}`);
  const now = () => Math.floor(Date.now() / 1000);

  test('a token without exp, or living longer than JWT_MAX_LIFETIME_S, is 401; one within it works', async () => {
    assert.equal((await call(jwt.sign({ sub: 'carol' }, JWT_SECRET))).status, 401, 'no exp');
    assert.equal((await call(jwt.sign({ sub: 'carol', iat: now(), exp: now() + 601 }, JWT_SECRET))).status, 401, 'iat..exp too long');
    assert.equal((await call(jwt.sign({ sub: 'carol', exp: now() + 3600 }, JWT_SECRET, { noTimestamp: true }))).status, 401, 'no iat, exp too far');
    const ok = await call(jwt.sign({ sub: 'carol' }, JWT_SECRET, { expiresIn: 600 }));
    assert.equal(ok.status, 200);
    const refused = await call(jwt.sign({ sub: 'carol' }, JWT_SECRET));
    assertErrorShape(refused.body);
    assert.match(refused.body.error.message, /exp/);
  });
});
