// The admin connection routes against the real broker: validation leaves the stored connection
// unchanged, the password is write-only, and the test route names the precise cause for each
// listener type (plaintext, SASL/SCRAM-SHA-256 and -512, SASL_SSL with our CA).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../support/app';
import { createTopic, deleteTopic, ensureKafka, type KafkaInfo } from '../support/kafka';
import { assertMatchesSpec } from '../support/openapi';
import { admin, connectionFor } from '../support/insights-helpers';

const PATH = '/v1/admin/insights-connection';
const SECRET = `pw-${randomUUID()}`; // a password that must never show up anywhere

let info: KafkaInfo;
let t: TestApp;
let topic: string;
let ca: string;
let otherCa: string;
let userKey: string;
const logLines: string[] = [];

function selfSignedCa(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'beacon-other-ca-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=Not the broker CA', '-keyout', path.join(dir, 'k.pem'), '-out', path.join(dir, 'c.pem')], { stdio: 'ignore' });
  return readFileSync(path.join(dir, 'c.pem'), 'utf8');
}

before(async () => {
  info = await ensureKafka();
  topic = `insights-conn-${randomUUID().slice(0, 8)}`;
  await createTopic(info, topic, 1);
  ca = readFileSync(info.ca_certificate, 'utf8');
  otherCa = selfSignedCa();
  t = await startTestApp({ LOG_LEVEL: 'trace' }, { logLines });
  userKey = await t.createUser('connuser');
});

after(async () => {
  await t?.close();
  if (info) await deleteTopic(info, topic);
});

const get = () => t.request.get(PATH).set(admin);
const post = (body: unknown) => t.request.post(PATH).set(admin).send(body as object);
const probe = (body: unknown = {}) => t.request.post(`${PATH}/test`).set(admin).send(body as object);

describe('connection resource', () => {
  test('GET, test and DELETE with nothing configured', async () => {
    const res = await get();
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, 5004);
    assertMatchesSpec('get', PATH, res);
    const tested = await probe();
    assert.equal(tested.status, 404, 'testing the stored connection needs one');
    assertMatchesSpec('post', `${PATH}/test`, tested);
    assert.equal((await t.request.delete(PATH).set(admin)).status, 204);
    const s = await t.request.get(`${PATH}/status`).set(admin);
    assert.equal(s.status, 200);
    assertMatchesSpec('get', `${PATH}/status`, s);
    assert.equal(s.body.configured, false);
    assert.equal(s.body.connected, false);
  });

  test('only admin keys may call the routes: 401 without a key, 403 with a standard key', async () => {
    for (const [method, p] of [['get', PATH], ['post', PATH], ['delete', PATH], ['post', `${PATH}/test`], ['get', `${PATH}/status`]] as const) {
      const anon = await t.request[method](p).send(method === 'post' ? connectionFor(info, 'plaintext', topic, ca) : undefined);
      assert.equal(anon.status, 401, `${method} ${p} without a key`);
      const user = await t.request[method](p).set('Authorization', `Simple ${userKey}`).send(method === 'post' ? connectionFor(info, 'plaintext', topic, ca) : undefined);
      assert.equal(user.status, 403, `${method} ${p} with a standard key`);
      assert.equal(user.body.error.code, 2001);
    }
    assert.equal((await get()).status, 404, 'nothing was stored by the refused calls');
  });

  test('POST stores the connection; the password is encrypted at rest, masked in every reply', async () => {
    const body = connectionFor(info, 'tls', topic, ca, { broker_password: SECRET, broker_url: ` ${info.sasl_ssl} , localhost:${info.sasl_ssl.split(':')[1]}` });
    const res = await post(body);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assertMatchesSpec('post', PATH, res);
    assert.equal(res.body.broker_password, '********');
    assert.equal(res.body.broker_url, `${info.sasl_ssl},localhost:${info.sasl_ssl.split(':')[1]}`, 'the broker list is normalised');
    assert.equal(res.body.sasl_mechanism, 'SCRAM-SHA-512');
    assert.equal(res.body.ca_certificate, ca);
    assert.equal(res.body.connection_type, 'kafka_sasl_ssl');

    const again = await get();
    assert.equal(again.status, 200);
    assertMatchesSpec('get', PATH, again);
    assert.deepEqual(again.body, res.body);

    const row = await t.testDb.db('insights_connection').first();
    assert.match(row.broker_password_enc, /^v1:[^:]+:[^:]+:[^:]+$/);
    assert.ok(!JSON.stringify(row).includes(SECRET), 'the database holds no plaintext password');

    const second = await post({ ...body, broker_url: info.sasl_ssl });
    assert.equal(second.body.generation, res.body.generation + 1, 'a replacement bumps the generation');
    for (const r of [res, again, second, await t.request.get(`${PATH}/status`).set(admin)]) {
      assert.ok(!JSON.stringify(r.body).includes(SECRET), 'no reply contains the password');
    }
  });

  test('bad input is refused with a 4xx and leaves the stored connection unchanged', async () => {
    const before = (await get()).body;
    assert.equal(before.connection_type, 'kafka_sasl_ssl');
    const good = connectionFor(info, 'scram-512', 'other-topic', ca, { broker_password: SECRET });
    const cases: Array<[string, unknown]> = [
      ['broker list with an empty entry', { ...good, broker_url: `${info.sasl_plaintext},,` }],
      ['broker without a port', { ...good, broker_url: 'kafka' }],
      ['broker port 0', { ...good, broker_url: 'kafka:0' }],
      ['broker port out of range', { ...good, broker_url: 'kafka:70000' }],
      ['broker as a URL', { ...good, broker_url: 'kafka://kafka:9092' }],
      ['bad IPv4', { ...good, broker_url: '300.1.1.1:9092' }],
      ['unbracketed IPv6', { ...good, broker_url: '::1:9092' }],
      ['unknown connection type', { ...good, connection_type: 'kafka_sasl_gssapi' }],
      ['unknown mechanism', { ...good, sasl_mechanism: 'SCRAM-SHA-1' }],
      ['PEM that does not parse', { ...connectionFor(info, 'tls', topic, ca), ca_certificate: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' }],
      ['not a PEM at all', { ...connectionFor(info, 'tls', topic, ca), ca_certificate: 'hello' }],
      ['a private key as CA', { ...connectionFor(info, 'tls', topic, ca), ca_certificate: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----' }],
      ['topic ..', { ...good, topic: '..' }],
      ['topic with a space', { ...good, topic: 'my topic' }],
      ['topic of 250 characters', { ...good, topic: 'x'.repeat(250) }],
      ['empty topic', { ...good, topic: '' }],
      ['missing password for SASL', { ...good, broker_password: undefined }],
      ['missing username for SASL', { ...good, broker_username: undefined }],
      ['missing mechanism for SASL', { ...good, sasl_mechanism: undefined }],
      ['credentials on plaintext', { ...connectionFor(info, 'plaintext', topic, ca), broker_password: SECRET }],
      ['CA on SASL_PLAINTEXT', { ...good, ca_certificate: ca }],
      ['unknown field', { ...good, brokers: 'x' }],
      ['empty body', {}],
      ['an array', [good]],
      ['a number as topic', { ...good, topic: 42 }],
    ];
    for (const [what, body] of cases) {
      const res = await post(body);
      assert.equal(res.status, 400, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
      assertMatchesSpec('post', PATH, res);
      assert.ok(res.body.error.message.length > 0);
      assert.ok(!JSON.stringify(res.body).includes(SECRET), `${what}: the password is not echoed`);
    }
    const malformed = await t.request.post(PATH).set(admin).set('Content-Type', 'application/json').send('{"connection_type": ');
    assert.equal(malformed.status, 400);
    const anon = await t.request.post(PATH).send(good);
    assert.equal(anon.status, 401);
    const user = await t.request.post(PATH).set('Authorization', `Simple ${userKey}`).send(good);
    assert.equal(user.status, 403);
    assert.deepEqual((await get()).body, before, 'the stored connection is unchanged');
  });

  test('DELETE removes it (204), GET then answers 404', async () => {
    const res = await t.request.delete(PATH).set(admin);
    assert.equal(res.status, 204);
    assert.equal(res.text, '');
    assert.equal((await get()).status, 404);
  });
});

describe('test route, per listener: the answer for right and wrong settings', () => {
  const expectProbe = async (body: unknown, reason: string) => {
    const res = await probe(body);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assertMatchesSpec('post', `${PATH}/test`, res);
    assert.equal(res.body.reason, reason, JSON.stringify(res.body));
    assert.equal(res.body.ok, reason === 'ok');
    assert.ok(res.body.message.length > 0);
    assert.ok(!JSON.stringify(res.body).includes(SECRET));
  };

  test('PLAINTEXT: ok, missing topic, unreachable port', async () => {
    await expectProbe(connectionFor(info, 'plaintext', topic, ca), 'ok');
    await expectProbe(connectionFor(info, 'plaintext', `missing-${randomUUID()}`, ca), 'topic_missing');
    await expectProbe({ ...connectionFor(info, 'plaintext', topic, ca), broker_url: '127.0.0.1:1' }, 'unreachable');
  });

  for (const listener of ['scram-256', 'scram-512'] as const) {
    test(`SASL_PLAINTEXT ${listener}: ok, wrong password, unknown user, no ACLs, missing topic`, async () => {
      await expectProbe(connectionFor(info, listener, topic, ca), 'ok');
      await expectProbe(connectionFor(info, listener, topic, ca, { broker_password: SECRET }), 'authentication_failed');
      await expectProbe(connectionFor(info, listener, topic, ca, { broker_username: `ghost${randomUUID().slice(0, 6)}` }), 'authentication_failed');
      await expectProbe(connectionFor(info, listener, topic, ca, { broker_username: 'nobody', broker_password: info.users.nobody }), 'not_authorised');
      await expectProbe(connectionFor(info, listener, `missing-${randomUUID()}`, ca), 'topic_missing');
    });
  }

  test('SASL_PLAINTEXT with a mechanism the broker does not enable (PLAIN) fails authentication', async () => {
    await expectProbe(connectionFor(info, 'scram-512', topic, ca, { sasl_mechanism: 'PLAIN' }), 'authentication_failed');
  });

  test('SASL_SSL: ok with our CA and either mechanism, wrong CA, wrong password, no CA (system CAs)', async () => {
    await expectProbe(connectionFor(info, 'tls', topic, ca), 'ok');
    await expectProbe(connectionFor(info, 'tls', topic, ca, { sasl_mechanism: 'SCRAM-SHA-256' }), 'ok');
    await expectProbe(connectionFor(info, 'tls', topic, otherCa), 'tls_verification_failed');
    await expectProbe(connectionFor(info, 'tls', topic, ca, { ca_certificate: undefined }), 'tls_verification_failed');
    await expectProbe(connectionFor(info, 'tls', topic, ca, { broker_password: SECRET }), 'authentication_failed');
    await expectProbe(connectionFor(info, 'tls', `missing-${randomUUID()}`, ca), 'topic_missing');
  });

  test('a candidate is tested without being saved; an empty body tests the stored connection', async () => {
    assert.equal((await post(connectionFor(info, 'scram-256', topic, ca, { broker_password: SECRET }))).status, 200);
    await expectProbe({}, 'authentication_failed');
    await expectProbe(connectionFor(info, 'scram-256', topic, ca), 'ok');
    const stored = (await get()).body;
    assert.equal(stored.sasl_mechanism, 'SCRAM-SHA-256');
    await expectProbe({}, 'authentication_failed');
    assert.equal((await post(connectionFor(info, 'scram-256', topic, ca))).status, 200);
    await expectProbe({}, 'ok');
  });

  test('bad input to the test route is a 400', async () => {
    const res = await probe({ connection_type: 'kafka_unauthenticated_plaintext', broker_url: 'nope', topic });
    assert.equal(res.status, 400);
    assertMatchesSpec('post', `${PATH}/test`, res);
  });
});

test('no log line carries a password', () => {
  assert.ok(logLines.length > 20, 'logs were captured');
  const all = logLines.join('');
  assert.ok(!all.includes(SECRET), 'the wrong password never reached a log line');
  assert.ok(!all.includes(info.users.beacon), 'the right password never reached a log line');
});
