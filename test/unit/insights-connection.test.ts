// Input rules of the admin connection route and the password's encryption at rest.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { brokerAddressProblem, caCertificateProblem, connectionBody, testBody, topicProblem } from '../../src/insights/connection-schema';
import { SecretBox } from '../../src/insights/secret-box';

function selfSignedPem(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'beacon-ca-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test', '-keyout', path.join(dir, 'k.pem'), '-out', path.join(dir, 'c.pem')], { stdio: 'ignore' });
  return readFileSync(path.join(dir, 'c.pem'), 'utf8');
}

test('broker addresses: host names, IPv4 and bracketed IPv6, ports 1-65535', () => {
  for (const ok of ['kafka:9092', 'kafka-1.example.com:9093', '127.0.0.1:19092', '[::1]:9092', '[2001:db8::1]:1', 'a:65535']) {
    assert.equal(brokerAddressProblem(ok), undefined, ok);
  }
  for (const bad of ['kafka', 'kafka:', ':9092', 'kafka:0', 'kafka:65536', 'kafka:99999', '256.1.1.1:9092', '1.2.3:9092', '::1:9092', '[::g]:9092', 'ka fka:9092', '-kafka:9092', 'http://kafka:9092', 'kafka:9092/x', 'kafka:+1']) {
    assert.ok(brokerAddressProblem(bad), `${bad} should be refused`);
  }
});

test("topic names follow Kafka's rule", () => {
  for (const ok of ['insights', 'a.b_c-D9', 'x'.repeat(249), '...']) assert.equal(topicProblem(ok), undefined, ok);
  for (const bad of ['', '.', '..', 'x'.repeat(250), 'with space', 'ümlaut', 'a/b', 'a:b']) assert.ok(topicProblem(bad), `${JSON.stringify(bad)} should be refused`);
});

test('CA certificates must parse; keys and garbage are refused', () => {
  const pem = selfSignedPem();
  assert.equal(caCertificateProblem(pem), undefined);
  assert.equal(caCertificateProblem(`${pem}\n${pem}`), undefined, 'a bundle of several certificates');
  assert.match(caCertificateProblem('hello') ?? '', /not a PEM certificate/);
  assert.match(caCertificateProblem('-----BEGIN CERTIFICATE-----\nnotbase64!!\n-----END CERTIFICATE-----') ?? '', /does not parse/);
  assert.match(caCertificateProblem(`${pem}\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----`) ?? '', /private key/);
  assert.match(caCertificateProblem('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----') ?? '', /not certificates/);
});

const sasl = { connection_type: 'kafka_sasl_plaintext', broker_url: 'k1:9094, k2:9094', topic: 'insights', broker_username: 'u', broker_password: 'p', sasl_mechanism: 'scram-sha-512' };

test('the body schema normalises what it accepts', () => {
  const { value, error } = connectionBody.validate(sasl);
  assert.equal(error, undefined);
  assert.equal(value.broker_url, 'k1:9094,k2:9094');
  assert.equal(value.sasl_mechanism, 'SCRAM-SHA-512');
  assert.equal(connectionBody.validate({ connection_type: 'kafka_unauthenticated_plaintext', broker_url: 'k:9092', topic: 't' }).error, undefined);
});

test('the body schema refuses what a broker would refuse later', () => {
  const bad: Array<[string, Record<string, unknown>]> = [
    ['unknown type', { ...sasl, connection_type: 'kafka_magic' }],
    ['unknown mechanism', { ...sasl, sasl_mechanism: 'GSSAPI' }],
    ['missing password', { ...sasl, broker_password: undefined }],
    ['missing username', { ...sasl, broker_username: undefined }],
    ['missing mechanism', { ...sasl, sasl_mechanism: undefined }],
    ['empty broker entry', { ...sasl, broker_url: 'k1:9094,,k2:9094' }],
    ['bad topic', { ...sasl, topic: 'a b' }],
    ['CA on a plaintext type', { ...sasl, ca_certificate: 'x' }],
    ['password on plaintext', { connection_type: 'kafka_unauthenticated_plaintext', broker_url: 'k:1', topic: 't', broker_password: 'p' }],
    ['unknown field', { ...sasl, colour: 'blue' }],
    ['non-string', { ...sasl, broker_url: 9092 }],
  ];
  for (const [what, body] of bad) assert.ok(connectionBody.validate(body).error, what);
});

test('the test route takes an empty body or a whole connection', () => {
  assert.equal(testBody.validate({}).error, undefined);
  assert.equal(testBody.validate(sasl).error, undefined);
  assert.ok(testBody.validate({ topic: 'x' }).error);
});

test('SecretBox: AES-256-GCM round trip, random IV, tamper and wrong-key detection', () => {
  const box = new SecretBox(Buffer.alloc(32, 7), 'purpose');
  const a = box.encrypt('s3cret-pässword');
  const b = box.encrypt('s3cret-pässword');
  assert.match(a, /^v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
  assert.notEqual(a, b, 'a fresh IV every time');
  assert.ok(!a.includes('s3cret'));
  assert.equal(box.decrypt(a), 's3cret-pässword');
  const [v, iv, tag, ct] = a.split(':');
  const flipped = Buffer.from(ct, 'base64');
  flipped[0] ^= 1;
  assert.throws(() => box.decrypt([v, iv, tag, flipped.toString('base64')].join(':')));
  assert.throws(() => new SecretBox(Buffer.alloc(32, 8), 'purpose').decrypt(a), 'another key');
  assert.throws(() => new SecretBox(Buffer.alloc(32, 7), 'other purpose').decrypt(a), 'another purpose');
  assert.throws(() => box.decrypt('plaintext'));
  assert.throws(() => new SecretBox(Buffer.alloc(16), 'p'));
});
