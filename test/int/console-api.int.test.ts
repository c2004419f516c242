// The service side of the web console, without a browser: the console's HTML, bundle and API
// renderer; the spec at /openapi.yaml and /openapi.json; GET /v1/whoami; and the admin live tail
// fed by the real outbox sink and relay against the real broker.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import YAML from 'yaml';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/app';
import { createTopic, ensureKafka, type KafkaInfo } from '../support/kafka';
import { assertErrorShape, assertMatchesSpec } from '../support/openapi';
import { AlgorithmAuthor } from '../support/execution-helpers';

const JS = `
const { reportInsights } = require('beacon');
exports.apply = async function (input) {
  await reportInsights({ cats: 3 });
  return 'got ' + input;
};
`;

let t: TestApp;
let kafka: KafkaInfo;
let author: AlgorithmAuthor;
let otherKey: string;
const admin = { Authorization: `Simple ${ADMIN_KEY}` };

before(async () => {
  kafka = await ensureKafka();
  t = await startTestApp();
  t.beacon.insights.start();
  author = new AlgorithmAuthor(t, 'ana', await t.createUser('ana'));
  otherKey = await t.createUser('bob');
});
after(async () => t?.close());

test('the spec is served as written at /openapi.yaml and as JSON at /openapi.json, without a key', async () => {
  const file = fs.readFileSync(path.join(__dirname, '..', '..', 'openapi.yaml'), 'utf8');
  const y = await t.request.get('/openapi.yaml').expect(200);
  assert.match(y.headers['content-type'], /^application\/yaml/);
  assert.equal(y.text, file);
  const j = await t.request.get('/openapi.json').expect(200);
  assert.deepEqual(j.body, YAML.parse(file));
  assertMatchesSpec('get', '/openapi.json', j);
});

test('a browser at / is sent to /console/; an API client at / keeps the JSON 404', async () => {
  const html = await t.request.get('/').set('Accept', 'text/html,application/xhtml+xml,*/*;q=0.8').expect(302);
  assert.equal(html.headers.location, '/console/');
  const api = await t.request.get('/').set('Accept', 'application/json').expect(404);
  assertErrorShape(api.body);
  await t.request.get('/').expect(404);
});

test('every /console/ URL answers the same shell with a strict CSP; the bundle and the offline renderer are served', async () => {
  for (const p of ['/console/', '/console/algorithms', '/console/algorithms/ana/Hello/versions', '/console/admin/insights/live', '/console/api']) {
    const res = await t.request.get(p).expect(200);
    assert.match(res.headers['content-type'], /^text\/html/);
    assert.match(res.text, /<script src="\/console\/assets\/app\.js"><\/script>/);
    assert.match(res.headers['content-security-policy'], /script-src 'self'/);
    assert.match(res.headers['content-security-policy'], /frame-ancestors 'none'/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
  }
  assert.equal((await t.request.get('/console').expect(301)).headers.location, '/console/');
  const js = await t.request.get('/console/assets/app.js').expect(200);
  assert.match(js.headers['content-type'], /^application\/javascript/);
  assert.ok(js.text.length > 10_000, 'the bundle holds the console');
  assert.doesNotMatch(js.text, /https?:\/\/(cdn|unpkg|cdnjs|fonts)\./, 'nothing is loaded from a CDN');
  const css = await t.request.get('/console/assets/app.css').expect(200);
  assert.match(css.headers['content-type'], /^text\/css/);
  await t.request.get('/console/assets/swagger-ui/swagger-ui-bundle.js').expect(200);
  await t.request.get('/console/assets/swagger-ui/swagger-ui.css').expect(200);
  // Only the two renderer files, not the package folder.
  await t.request.get('/console/assets/swagger-ui/package.json').expect(404);
  await t.request.get('/console/assets/swagger-ui/../../../package.json').expect(404);
});

test('GET /v1/whoami names the caller for a valid key, admin or not, and refuses others with 401', async () => {
  const me = await t.request.get('/v1/whoami').set('Authorization', `Simple ${author.key}`).expect(200);
  assertMatchesSpec('get', '/v1/whoami', me);
  assert.deepEqual(me.body, { username: 'ana', key_type: 'AlgorithmKey', admin: false, allow_algo: true, allow_algo_management: true });
  const a = await t.request.get('/v1/whoami').set(admin).expect(200);
  assert.equal(a.body.admin, true);
  assert.equal(JSON.stringify(a.body).includes(ADMIN_KEY), false, 'never the key');
  for (const header of [undefined, 'Simple simNoSuchKey000000000000000000']) {
    const req = t.request.get('/v1/whoami');
    const res = await (header ? req.set('Authorization', header) : req).expect(401);
    assertMatchesSpec('get', '/v1/whoami', res);
  }
});

test('the live tail is for admin keys only: another user cannot read anyone\'s payloads', async () => {
  const res = await t.request.get('/v1/admin/insights/live-tail').set('Authorization', `Simple ${otherKey}`).expect(403);
  assertMatchesSpec('get', '/v1/admin/insights/live-tail', res);
  await t.request.get('/v1/admin/insights/live-tail').expect(401);
  const bad = await t.request.get('/v1/admin/insights/live-tail?algorithm=<img>').set(admin).expect(400);
  assertMatchesSpec('get', '/v1/admin/insights/live-tail', bad);
  assert.equal(bad.body.error.details[0].field, 'query.algorithm');
  await t.request.get('/v1/admin/insights/live-tail?after=-1').set(admin).expect(400);
  await t.request.get('/v1/admin/insights/live-tail?nonsense=1').set(admin).expect(400);
});

test('a call of an Insights version shows as waiting in the live tail, then as delivered once a connection is set', async () => {
  await author.deploy('Tail', 'javascript', JS, { insights: true });
  const run = await t.request.post('/v1/algo/ana/Tail/0.1.0').set('Authorization', `Simple ${author.key}`).type('text/plain').send('x').expect(200);
  const id = run.body.request_id as string;

  const waiting = await t.request.get('/v1/admin/insights/live-tail').set(admin).expect(200);
  assertMatchesSpec('get', '/v1/admin/insights/live-tail', waiting);
  const w = waiting.body.entries.find((e: { request_id: string }) => e.request_id === id);
  assert.ok(w, JSON.stringify(waiting.body));
  assert.equal(w.state, 'waiting');
  assert.equal(w.algorithm, 'ana/Tail');
  assert.equal(w.version, '0.1.0');
  assert.equal(w.payload.cats, 3);
  assert.equal(waiting.body.capacity, 200);

  const topic = `beacon-tail-${randomUUID()}`;
  await createTopic(kafka, topic, 1);
  await t.request
    .post('/v1/admin/insights-connection')
    .set(admin)
    .send({ connection_type: 'kafka_unauthenticated_plaintext', broker_url: kafka.plaintext, topic })
    .expect(200);
  let delivered: { state: string; seq: number } | undefined;
  for (let i = 0; i < 300 && delivered?.state !== 'delivered'; i++) {
    const r = await t.request.get(`/v1/admin/insights/live-tail?algorithm=ANA/tail&after=${w.seq}`).set(admin).expect(200);
    delivered = r.body.entries.find((e: { request_id: string }) => e.request_id === id);
    if (delivered?.state !== 'delivered') await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(delivered?.state, 'delivered');
  assert.ok(delivered.seq > w.seq);

  // One entry per payload (updated in place), and the filter and `after` narrow the answer.
  const all = await t.request.get('/v1/admin/insights/live-tail').set(admin).expect(200);
  assert.equal(all.body.entries.filter((e: { request_id: string }) => e.request_id === id).length, 1);
  const none = await t.request.get('/v1/admin/insights/live-tail?algorithm=ana/Other').set(admin).expect(200);
  assert.deepEqual(none.body.entries, []);
  const later = await t.request.get(`/v1/admin/insights/live-tail?after=${all.body.last_seq}`).set(admin).expect(200);
  assert.deepEqual(later.body.entries, []);
});
