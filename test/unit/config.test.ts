import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config';

test('defaults give a runnable development configuration', () => {
  const c = loadConfig({});
  assert.equal(c.port, 8080);
  assert.equal(c.env, 'development');
  assert.equal(c.databaseUrl, undefined);
  assert.equal(c.insights.overflowPolicy, 'reject');
  assert.ok(Object.isFrozen(c));
});

test('a malformed value stops the start with a message naming the variable', () => {
  for (const [name, value] of [
    ['PORT', 'eighty'],
    ['DATABASE_URL', 'mysql://x'],
    ['INSIGHTS_OVERFLOW_POLICY', 'shrug'],
    ['BEACON_SECRET_KEY', 'short'],
    ['BOOTSTRAP_ADMIN_KEY', 'abc'],
    ['JWT_ALGORITHMS', 'none'],
    ['WORKER_MAX_PER_VERSION', '0'],
  ]) {
    assert.throws(() => loadConfig({ [name]: value }), new RegExp(name), `${name}=${value}`);
  }
});

test('production refuses to start without BEACON_SECRET_KEY', () => {
  assert.throws(() => loadConfig({ NODE_ENV: 'production' }), /BEACON_SECRET_KEY is required/);
  const c = loadConfig({ NODE_ENV: 'production', BEACON_SECRET_KEY: 'ab'.repeat(32) });
  assert.equal(c.secretKey?.length, 32);
});

test('JWT settings: a secret selects HS256, a public key RS256, both at once is refused', () => {
  assert.deepEqual(loadConfig({ JWT_SECRET: 'x'.repeat(16) }).jwt?.algorithms, ['HS256']);
  assert.deepEqual(loadConfig({ JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----' }).jwt?.algorithms, ['RS256']);
  assert.throws(() => loadConfig({ JWT_SECRET: 'x'.repeat(16), JWT_PUBLIC_KEY: 'k' }), /not both/);
});

test('removed Insights settings stop the start instead of being ignored', () => {
  assert.throws(() => loadConfig({ INSIGHTS_OUTBOX_SYNC_COMMIT: 'false' }), /INSIGHTS_OUTBOX_SYNC_COMMIT was removed: the Insights outbox always commits synchronously/);
  assert.throws(() => loadConfig({ INSIGHTS_RELAY_THREAD: 'true' }), /INSIGHTS_RELAY_THREAD was removed/);
  assert.equal(loadConfig({}).insights.compression, 'none');
  assert.equal(loadConfig({ INSIGHTS_COMPRESSION: 'gzip' }).insights.compression, 'gzip');
  assert.throws(() => loadConfig({ INSIGHTS_COMPRESSION: 'lz4' }), /INSIGHTS_COMPRESSION/);
});
