// Insights end to end against the real broker: algorithm code reports metrics, Beacon runs it,
// the payload goes through the outbox and the relay over SASL/SCRAM to Kafka, and a consumer reads
// exactly one message per execution of an Insights-enabled version, and none for other versions.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/app';
import { consumeAll, createTopic, ensureKafka, type ConsumedMessage, type KafkaInfo } from '../support/kafka';
import { AlgorithmAuthor } from '../support/execution-helpers';

const N = 20;

const PYTHON = `
import Algorithmia

def apply(input):
    Algorithmia.client().report_insights({"cats": 3, "dogs": 4})
    if input == "raise":
        raise RuntimeError("reported, then failed")
    if input == "loop":
        while True:
            pass
    return input
`;
const R = `
apply <- function(input) {
  reportInsights(list(cats = 3))
  paste0("R got ", input)
}
`;
const JS = `
const { reportInsights } = require('beacon');
exports.apply = async function (input) {
  await reportInsights({ cats: 3 });
  return 'JS got ' + input;
};
`;

let kafka: KafkaInfo;
let t: TestApp;
let author: AlgorithmAuthor;
let topic: string;
const consumed: ConsumedMessage[] = [];

const OPERATIONAL = ['request_id', 'session_id', 'time', 'duration_milliseconds', 'algorithm_owner', 'algorithm_name', 'algorithm_version'];

function call(path: string, body: string) {
  return t.request.post(path).set('Authorization', `Simple ${author.key}`).type('text/plain').send(body);
}

/** Reads the topic from the beginning until `total` messages arrived (or 60 s passed). */
async function readTopic(total: number): Promise<Map<string, { payload: Record<string, unknown>; message: ConsumedMessage }>> {
  const messages = await consumeAll(kafka, topic, { expected: total, timeoutMs: 60_000 });
  consumed.splice(0, consumed.length, ...messages);
  const byId = new Map<string, { payload: Record<string, unknown>; message: ConsumedMessage }>();
  for (const m of messages) {
    const payload = JSON.parse(m.value) as Record<string, unknown>;
    byId.set(String(payload.request_id), { payload, message: m });
  }
  return byId;
}

async function acceptedPayloads(): Promise<number> {
  const m = await t.beacon.metrics.insightsPayloads.get();
  return m.values.find((v) => v.labels.stage === 'accepted')?.value ?? 0;
}

function assertPayload(p: Record<string, unknown>, m: ConsumedMessage, expected: { name: string; version: string; metrics: Record<string, unknown> }) {
  for (const f of OPERATIONAL) assert.ok(f in p, `payload lacks ${f}: ${JSON.stringify(p)}`);
  assert.match(String(p.request_id), /^req-[0-9a-f-]{36}$/);
  assert.match(String(p.session_id), /^rses-[0-9a-f-]{36}$/);
  assert.ok(!Number.isNaN(Date.parse(String(p.time))), `time ${p.time}`);
  assert.equal(typeof p.duration_milliseconds, 'number');
  assert.equal(p.algorithm_owner, 'ana');
  assert.equal(p.algorithm_name, expected.name);
  assert.equal(p.algorithm_version, expected.version);
  for (const [k, v] of Object.entries(expected.metrics)) assert.equal(p[k], v, `${k} in ${JSON.stringify(p)}`);
  assert.equal(m.headers.ce_id, p.request_id);
}

before(async () => {
  kafka = await ensureKafka();
  topic = `beacon-exec-e2e-${randomUUID()}`;
  await createTopic(kafka, topic, 3);
  t = await startTestApp();
  author = new AlgorithmAuthor(t, 'ana', await t.createUser('ana'));
  const conn = await t.request
    .post('/v1/admin/insights-connection')
    .set('Authorization', `Simple ${ADMIN_KEY}`)
    .send({
      connection_type: 'kafka_sasl_plaintext',
      broker_url: kafka.sasl_plaintext,
      topic,
      broker_username: 'beacon',
      broker_password: kafka.users.beacon,
      sasl_mechanism: 'SCRAM-SHA-512',
    });
  assert.equal(conn.status, 200, JSON.stringify(conn.body));
  t.beacon.insights.start();
});

after(async () => t?.close());

test(`Python: ${N} parallel calls of an Insights version give exactly ${N} payloads; a version without Insights gives none`, async () => {
  await author.deploy('Counter', 'python3', PYTHON, { insights: true }); // 0.1.0
  await author.setCode('Counter', 'python3', `${PYTHON}\n# same code, published without Insights\n`);
  await author.compile('Counter');
  assert.equal(await author.publish('Counter', { insights: false }), '0.2.0');

  const off = await Promise.all(Array.from({ length: N }, (_, i) => call('/v1/algo/ana/Counter/0.2.0', `off ${i}`)));
  const on = await Promise.all(Array.from({ length: N }, (_, i) => call('/v1/algo/ana/Counter/0.1.0', `on ${i}`)));
  for (const r of [...off, ...on]) assert.equal(r.status, 200, JSON.stringify(r.body));
  const onIds = new Set(on.map((r) => r.body.request_id as string));
  const offIds = new Set(off.map((r) => r.body.request_id as string));
  assert.equal(onIds.size, N);

  // Each answer came after its payload was durable: the outbox holds exactly the enabled calls.
  assert.equal(await acceptedPayloads(), N);

  const byId = await readTopic(N);
  assert.deepEqual([...byId.keys()].sort(), [...onIds].sort());
  for (const id of offIds) assert.ok(!byId.has(id), `a call of the version without Insights produced ${id}`);
  for (const { payload, message } of byId.values()) {
    assertPayload(payload, message, { name: 'Counter', version: '0.1.0', metrics: { cats: 3, dogs: 4 } });
  }
});

test('Python: a raising call, a timed-out call and an output=void call each give one payload', async () => {
  const raised = await call('/v1/algo/ana/Counter/0.1.0', 'raise');
  assert.match(raised.body.error.message, /reported, then failed/);
  const timedOut = await call('/v1/algo/ana/Counter/0.1.0?timeout=1', 'loop');
  assert.equal(timedOut.body.error.error_type, 'TimeoutError');
  const voided = await call('/v1/algo/ana/Counter/0.1.0?output=void', 'void');
  assert.equal(voided.body.async, 'void');

  const byId = await readTopic(N + 3);
  const expected = { name: 'Counter', version: '0.1.0', metrics: { cats: 3, dogs: 4 } };
  for (const res of [raised, timedOut, voided]) {
    const hit = byId.get(res.body.request_id);
    assert.ok(hit, `no payload for ${res.body.request_id}`);
    assertPayload(hit.payload, hit.message, expected);
  }
});

test('R and JavaScript report through their runtime libraries', async () => {
  await author.deploy('RCounter', 'r', R, { insights: true });
  await author.deploy('JsCounter', 'javascript', JS, { insights: true });
  const r = await call('/v1/algo/ana/RCounter', 'x');
  assert.equal(r.body.result, 'R got x', JSON.stringify(r.body));
  const js = await call('/v1/algo/ana/JsCounter', 'y');
  assert.equal(js.body.result, 'JS got y', JSON.stringify(js.body));

  const byId = await readTopic(N + 5);
  const rHit = byId.get(r.body.request_id);
  const jsHit = byId.get(js.body.request_id);
  assert.ok(rHit && jsHit, `missing payloads: ${consumed.length} consumed`);
  assertPayload(rHit.payload, rHit.message, { name: 'RCounter', version: '0.1.0', metrics: { cats: 3 } });
  assertPayload(jsHit.payload, jsHit.message, { name: 'JsCounter', version: '0.1.0', metrics: { cats: 3 } });
  assert.equal(byId.size, N + 5);
});
