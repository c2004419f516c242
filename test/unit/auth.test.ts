import assert from 'node:assert/strict';
import { test } from 'node:test';
import { aclAllows, Authenticator, hashApiKey, parseAuthorization, type Principal, requireLevel } from '../../src/platform/auth';

const principal = (p: Partial<Principal> = {}): Principal => ({
  userId: 'u1',
  username: 'alice',
  keyType: 'AlgorithmKey',
  allowAlgo: true,
  allowAlgoManagement: true,
  algoAcl: ['algo://*'],
  ...p,
});

test('the three header forms the official clients send', () => {
  assert.deepEqual(parseAuthorization('Simple simABC'), { kind: 'key', value: 'simABC' });
  assert.deepEqual(parseAuthorization('simABC'), { kind: 'key', value: 'simABC' });
  assert.deepEqual(parseAuthorization('Bearer a.b.c'), { kind: 'jwt', value: 'a.b.c' });
  assert.equal(parseAuthorization(undefined), undefined);
  assert.equal(parseAuthorization('Simple two words'), undefined);
});

test('algo_acl patterns', () => {
  assert.ok(aclAllows(principal(), 'bob', 'x'));
  assert.ok(aclAllows(principal({ algoAcl: ['algo://bob/*'] }), 'Bob', 'x'));
  assert.ok(!aclAllows(principal({ algoAcl: ['algo://bob/*'] }), 'carol', 'x'));
  assert.ok(aclAllows(principal({ algoAcl: ['algo://bob/x/*'] }), 'bob', 'x'));
  assert.ok(!aclAllows(principal({ algoAcl: ['algo://bob/x/*'] }), 'bob', 'y'));
  assert.ok(!aclAllows(principal({ algoAcl: [] }), 'alice', 'mine'), 'an empty acl calls nothing');
});

test('levels: 401 without a principal, 403 for the wrong kind of key or a missing permission', () => {
  assert.throws(() => requireLevel('algo', undefined), (e: any) => e.status === 401);
  assert.throws(() => requireLevel('admin', principal()), (e: any) => e.status === 403);
  assert.throws(() => requireLevel('algo', principal({ keyType: 'PlatformAdminKey' })), (e: any) => e.status === 403);
  assert.throws(() => requireLevel('algo', principal({ allowAlgo: false })), (e: any) => e.status === 403);
  assert.throws(() => requireLevel('manage', principal({ allowAlgoManagement: false })), (e: any) => e.status === 403);
  requireLevel('public', undefined);
  requireLevel('admin', principal({ keyType: 'PlatformAdminKey' }));
});

test('key lookups are cached briefly, unknown keys too', async () => {
  let lookups = 0;
  const auth = new Authenticator(
    {
      findByKeyHash: async (h) => {
        lookups++;
        return h.length === 64 && lookups < 100 ? principal() : undefined;
      },
      findByUsername: async () => undefined,
    },
    undefined,
  );
  await auth.authenticate('Simple simKEY');
  await auth.authenticate('simKEY');
  assert.equal(lookups, 1);
  await assert.rejects(auth.authenticate('Bearer x.y.z'), (e: any) => e.status === 401);
});

test('forget() drops a cached key at once; a cached key never outlives its expires_at', async () => {
  let valid = true;
  let lookups = 0;
  const expiresAt = new Date(Date.now() + 60);
  const auth = new Authenticator(
    {
      findByKeyHash: async () => {
        lookups++;
        return valid ? principal({ expiresAt }) : undefined;
      },
      findByUsername: async () => undefined,
    },
    undefined,
    60_000,
  );
  await auth.authenticate('simKEY');
  valid = false;
  await auth.authenticate('simKEY'); // still cached
  auth.forget([hashApiKey('simKEY')]);
  await assert.rejects(auth.authenticate('simKEY'), (e: any) => e.status === 401);
  valid = true;
  await auth.authenticate('simOTHER');
  await new Promise((r) => setTimeout(r, 80));
  const before = lookups;
  await auth.authenticate('simOTHER'); // the cached entry expired with the key, so this looks up again
  assert.equal(lookups, before + 1);
});

test('account level: any authenticated caller, admin keys included', () => {
  assert.throws(() => requireLevel('account', undefined), (e: any) => e.status === 401);
  requireLevel('account', principal({ keyType: 'PlatformAdminKey' }));
  requireLevel('account', principal({ allowAlgo: false, allowAlgoManagement: false }));
});
