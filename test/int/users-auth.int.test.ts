import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import jwt from 'jsonwebtoken';
import { bootstrapAdmin } from '../../src/users/bootstrap-admin';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/app';
import { assertErrorShape, assertMatchesSpec } from '../support/openapi';

const JWT_SECRET = 'a-test-secret-of-at-least-16-chars';
let t: TestApp;
let key: string;
const admin = { Authorization: `Simple ${ADMIN_KEY}` };

before(async () => {
  t = await startTestApp({ JWT_SECRET, JWT_ISSUER: 'https://idp.example', JWT_AUDIENCE: 'beacon' });
  key = await t.createUser('carol');
});
after(async () => t.close());

const userCount = async () => Number((await t.testDb.db('users').count<{ count: string }[]>('* as count'))[0].count);
const keyCount = async () => Number((await t.testDb.db('api_keys').count<{ count: string }[]>('* as count'))[0].count);

describe('users', () => {
  test('an admin creates a user; the reply matches the spec', async () => {
    const res = await t.request.post('/v1/users').set(admin).send({ username: 'dave', email: 'dave@example.com', fullname: 'Dave' });
    assert.equal(res.status, 201);
    assertMatchesSpec('post', '/v1/users', res);
    assert.equal(res.body.username, 'dave');
  });

  test('bad input is a 400 with per-field details and creates nothing', async () => {
    const before = await userCount();
    for (const body of [{}, { username: '9lives' }, { username: 'a'.repeat(31) }, { username: 'ok', email: 'not-an-email' }, { username: 7 }, []]) {
      const res = await t.request.post('/v1/users').set(admin).send(body as object);
      assert.equal(res.status, 400, JSON.stringify(body));
      assertErrorShape(res.body);
      assert.equal(res.body.error.code, 6001);
      assert.ok(Array.isArray(res.body.error.details) && res.body.error.details.length > 0);
    }
    const malformed = await t.request.post('/v1/users').set(admin).set('Content-Type', 'application/json').send('{"username":');
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error.code, 2013);
    assert.equal(await userCount(), before);
  });

  test('a taken username (in any case) is a 409 with code 3002', async () => {
    const res = await t.request.post('/v1/users').set(admin).send({ username: 'CAROL' });
    assert.equal(res.status, 409);
    assert.equal(res.body.error.code, 3002);
  });

  test('only admin keys may create users: 401 without a key, 403 with a standard key', async () => {
    assert.equal((await t.request.post('/v1/users').send({ username: 'eve' })).status, 401);
    const res = await t.request.post('/v1/users').set('Authorization', `Simple ${key}`).send({ username: 'eve' });
    assert.equal(res.status, 403);
    assert.equal(res.body.error.code, 2001);
  });
});

describe('API keys', () => {
  test('a created key is shown once, masked afterwards, stored hashed', async () => {
    const res = await t.request.post('/v1/admin/users/carol/keys').set(admin).send({ key_label: 'ci', permissions: { allow_algo_management: false } });
    assert.equal(res.status, 201);
    assertMatchesSpec('post', '/v1/admin/users/{username}/keys', res);
    assert.match(res.body.api_key, /^sim[A-Za-z0-9]{28}$/);
    assert.ok(res.body.api_key_mask.endsWith(res.body.api_key.slice(-4)) && !res.body.api_key_mask.includes(res.body.api_key.slice(3, 20)));
    const rows = await t.testDb.db('api_keys').select('key_hash');
    assert.ok(rows.every((r) => r.key_hash !== res.body.api_key && /^[0-9a-f]{64}$/.test(r.key_hash)));
    // allow_algo_management false: management routes are forbidden, 403 not 401.
    const denied = await t.request.get('/v1/algorithms/carol/anything').set('Authorization', res.body.api_key);
    assert.equal(denied.status, 403);
  });

  test('an imported key works in all three header forms; a duplicate import is refused', async () => {
    const imported = 'simImportedKey00000000000000000001';
    const res = await t.request.post('/v1/admin/users/carol/keys').set(admin).send({ api_key: imported });
    assert.equal(res.status, 201);
    for (const header of [`Simple ${imported}`, imported, `simple ${imported}`]) {
      const r = await t.request.get('/v1/users/carol/algorithms').set('Authorization', header);
      assert.equal(r.status, 200, header);
    }
    const before = await keyCount();
    const again = await t.request.post('/v1/admin/users/carol/keys').set(admin).send({ api_key: imported });
    assert.equal(again.status, 400);
    assert.equal(await keyCount(), before);
  });

  test('unknown user 404, bad key type 400, non-admin 403', async () => {
    assert.equal((await t.request.post('/v1/admin/users/nobody_here/keys').set(admin).send({})).status, 404);
    assert.equal((await t.request.post('/v1/admin/users/carol/keys').set(admin).send({ key_type: 'ManagementKey' })).status, 400);
    assert.equal((await t.request.post('/v1/admin/users/carol/keys').set('Authorization', key).send({})).status, 403);
  });

  test('an admin key may not call standard routes, and an unknown key is 401', async () => {
    assert.equal((await t.request.get('/v1/users/carol/algorithms').set(admin)).status, 403);
    const res = await t.request.get('/v1/users/carol/algorithms').set('Authorization', 'Simple simUnknown0000000000000000000');
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 2002);
    assert.equal((await t.request.get('/v1/users/carol/algorithms').set('Authorization', 'Simple two words')).status, 401);
  });

  test('the bootstrap admin key is imported once, idempotently', async () => {
    assert.equal(await bootstrapAdmin(t.beacon.users, ADMIN_KEY), undefined);
    assert.equal(await bootstrapAdmin(t.beacon.users, undefined), undefined, 'no key is generated while an admin key exists');
  });
});

describe('bearer tokens (JWT)', () => {
  const sign = (claims: object, opts: jwt.SignOptions = {}, secret = JWT_SECRET) =>
    jwt.sign(claims, secret, { algorithm: 'HS256', issuer: 'https://idp.example', audience: 'beacon', expiresIn: 60, ...opts });
  const call = (token: string) => t.request.get('/v1/users/carol/algorithms').set('Authorization', `Bearer ${token}`);

  test('a valid token acts as its user', async () => {
    assert.equal((await call(sign({ sub: 'carol' }))).status, 200);
  });

  test('wrong secret, algorithm, issuer, audience, expiry or user are 401', async () => {
    const cases = [
      sign({ sub: 'carol' }, {}, 'another-secret-of-16-chars!!'),
      sign({ sub: 'carol' }, { algorithm: 'HS512' }),
      sign({ sub: 'carol' }, { issuer: 'https://evil.example' }),
      sign({ sub: 'carol' }, { audience: 'someone-else' }),
      jwt.sign({ sub: 'carol', exp: Math.floor(Date.now() / 1000) - 10 }, JWT_SECRET, { issuer: 'https://idp.example', audience: 'beacon' }),
      sign({ sub: 'nobody_here' }),
      sign({}),
      'not.a.jwt',
    ];
    for (const token of cases) {
      const res = await call(token);
      assert.equal(res.status, 401, token);
      assertErrorShape(res.body);
    }
  });

  test('another user\'s token may not read carol\'s algorithms (403)', async () => {
    assert.equal((await call(sign({ sub: 'dave' }))).status, 403);
  });
});
