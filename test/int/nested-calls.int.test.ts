// Algorithms calling algorithms, with real workers of all three languages and a real broker: a
// Python algorithm (Beacon's Algorithmia module, the official client's surface) calls a JavaScript
// one (require('beacon').algo) that calls an R one (algo()$pipe); every hop runs for the original
// caller (its key's algo_acl is checked at each hop), each hop's Insights payload links to its
// parent, a loop stops at the depth limit naming the chain, and a finished or foreign worker token
// calls nothing.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/app';
import { assertMatchesSpec } from '../support/openapi';
import { consumeAll, createTopic, ensureKafka, type KafkaInfo } from '../support/kafka';
import { AlgorithmAuthor } from '../support/execution-helpers';
import { validatePayload } from '../support/insights-helpers';

const FRONT = `
import Algorithmia
from Algorithmia.errors import AlgorithmException

def apply(input):
    client = Algorithmia.client()
    if input == "loop":
        return client.algo("alice/Front").pipe("loop").result
    if input == "leak":
        import os
        return os.environ.get("ALGORITHMIA_API")
    try:
        res = client.algo("alice/Middle").set_options(timeout=120).pipe({"text": input, "path": ["py"]})
    except AlgorithmException as e:
        return {"refused": e.message, "error_type": e.error_type}
    return {"combined": res.result, "middle_content_type": res.metadata.content_type, "middle_duration": res.metadata.duration}
`;
const MIDDLE = `
const beacon = require('beacon');
exports.apply = async function (input) {
  const res = await beacon.algo('alice/Back').pipe({ text: input.text, path: input.path.concat(['js']) });
  return { text: res.result.text, path: res.result.path };
};
`;
const BACK = `
apply <- function(input) {
  list(text = toupper(input$text), path = c(unlist(input$path), "r"))
}
`;
// The real npm client, bundled in the algorithm's own source tree, used unmodified.
const NPM_CALLER = `
const algorithmia = require('algorithmia');
exports.apply = function (input, cb) {
  algorithmia.client().algo('alice/Back/0.1.0').pipe({ text: input, path: ['npm'] }).then(function (res) {
    if (res.error) return cb(new Error(res.error.message));
    cb(null, res.get());
  });
};
`;
const npmFiles = (): Record<string, string> => {
  const root = path.dirname(require.resolve('algorithmia/package.json'));
  const files: Record<string, string> = { 'src/NpmCaller.js': NPM_CALLER };
  for (const f of ['package.json', 'lib/algorithmia.js', 'lib/algorithm.js', 'lib/data.js']) files[`node_modules/algorithmia/${f}`] = readFileSync(path.join(root, f), 'utf8');
  return files;
};

// What the Java client sends from inside an algorithm: its key, every value as a string.
const JAVA_STYLE = `
import json, os, urllib.request

def apply(input):
    body = json.dumps([{"insight_key": "cats", "insight_value": "3"}, {"insight_key": "approved", "insight_value": "true"}]).encode()
    req = urllib.request.Request(os.environ["ALGORITHMIA_API"] + "/v1/insights", data=body, method="POST",
                                 headers={"Content-Type": "application/json", "Authorization": "Simple simSomeKeyTheJavaClientHas000"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())
`;

const FAN = `
import Algorithmia
from Algorithmia.errors import ApiError

def apply(input):
    got = []
    try:
        for i in range(10):
            got.append(Algorithmia.client().algo("alice/Back").pipe({"text": str(i), "path": []}).result["text"])
    except ApiError as e:
        return {"got": got, "refused": str(e)}
    return {"got": got}
`;

// A client made at import time, as Algorithmia's examples do: it must follow each call's token.
const GLOBAL_CLIENT = `
import Algorithmia
client = Algorithmia.client()

def apply(input):
    return client.algo("alice/Back").pipe({"text": input, "path": []}).result["text"]
`;

let kafka: KafkaInfo;
let topic: string;
let t: TestApp;
let alice: AlgorithmAuthor;
let carolKey: string;
let daveKey: string;

const call = (key: string, path: string, body: string) =>
  t.request.post(path).set('Authorization', `Simple ${key}`).type('text/plain').send(body);

before(async () => {
  kafka = await ensureKafka();
  topic = `beacon-nested-${randomUUID()}`;
  await createTopic(kafka, topic, 1);
  t = await startTestApp({ WORKER_MAX_PER_VERSION: '4', NESTED_CALL_MAX_DEPTH: '3', NESTED_CALL_MAX_FANOUT: '3' });
  alice = new AlgorithmAuthor(t, 'alice', await t.createUser('alice'));
  await alice.deploy('Front', 'python3', FRONT, { insights: true });
  await alice.deploy('Middle', 'javascript', MIDDLE, { insights: true });
  await alice.deploy('Back', 'r', BACK, { insights: true });
  await alice.deploy('Fan', 'python3', FAN);
  await alice.deploy('GlobalClient', 'python3', GLOBAL_CLIENT);
  await alice.deploy('JavaStyle', 'python3', JAVA_STYLE, { insights: true });
  const closed = await t.request.post('/v1/algorithms/alice').set('Authorization', `Simple ${alice.key}`).send({ name: 'Closed', settings: { language: 'python3', pipeline_enabled: false } });
  assert.equal(closed.status, 201, JSON.stringify(closed.body));
  await alice.deploy('Closed', 'python3', FRONT.replace('def apply(input):', 'def apply(input):\n    input = input'), { create: false });
  await alice.create('NpmCaller', 'javascript');
  const put = await t.request.put('/v1/algorithms/alice/NpmCaller/source').set('Authorization', `Simple ${alice.key}`).send({ files: npmFiles() });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  await alice.compile('NpmCaller');
  await alice.publish('NpmCaller');
  carolKey = await t.createUser('carol');
  // dave may call Front and Middle, but not Back.
  daveKey = await t.createUser('dave', { algo_acl: ['algo://alice/Front/*', 'algo://alice/Middle/*'] });
  const conn = await t.request.post('/v1/admin/insights-connection').set('Authorization', `Simple ${ADMIN_KEY}`)
    .send({ connection_type: 'kafka_unauthenticated_plaintext', broker_url: kafka.plaintext, topic });
  assert.equal(conn.status, 200, JSON.stringify(conn.body));
  t.beacon.insights.start();
});

after(async () => t?.close());

describe('Python -> JavaScript -> R', () => {
  test('returns the combined result; each hop has an Insights payload linked to its parent', async () => {
    const res = await call(carolKey, '/v1/algo/alice/Front', 'hello');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assertMatchesSpec('post', '/v1/algo/{owner}/{name}', res);
    assert.deepEqual(res.body.result.combined, { text: 'HELLO', path: ['py', 'js', 'r'] });
    assert.equal(res.body.result.middle_content_type, 'json');
    assert.equal(typeof res.body.result.middle_duration, 'number');
    const top = res.body.request_id as string;

    const messages = await consumeAll(kafka, topic, { expected: 3, timeoutMs: 60_000 });
    const payloads = messages.map((m) => JSON.parse(m.value) as Record<string, unknown>);
    for (const p of payloads) assert.ok(validatePayload(p), JSON.stringify(validatePayload.errors));
    const by = (name: string) => payloads.find((p) => p.algorithm_name === name)!;
    assert.equal(by('Front').request_id, top);
    assert.equal(by('Front').parent_request_id, undefined, 'the outermost call has no parent');
    assert.equal(by('Middle').parent_request_id, top);
    assert.equal(by('Back').parent_request_id, by('Middle').request_id);
    assert.notEqual(by('Back').request_id, by('Middle').request_id);
  });

  test("the owner sees the nested calls' durations in metadata", async () => {
    const res = await call(alice.key, '/v1/algo/alice/Front', 'owner');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const nested = res.body.metadata.nested_calls as Array<{ request_id: string; algorithm: string; duration: number }>;
    assert.equal(nested.length, 1);
    assert.match(nested[0].algorithm, /^alice\/Middle\/0\.1\.0$/);
    assert.match(nested[0].request_id, /^req-/);
    assert.equal(typeof nested[0].duration, 'number');
  });

  test("the caller's permissions hold at every hop: a key that may not call Back fails at the JavaScript hop", async () => {
    const res = await call(daveKey, '/v1/algo/alice/Front', 'hi');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    // Middle (JS) was refused alice/Back; its error reached Front (Python) as an AlgorithmException.
    assert.match(res.body.result.refused, /may not call algo:\/\/alice\/Back \(algo_acl\)/);
    const direct = await call(daveKey, '/v1/algo/alice/Back', 'x');
    assert.equal(direct.status, 403, 'and dave cannot call it directly either');
  });
});

describe("the Java client's Insights body from inside a call", () => {
  test('answers {"response": ...} and the string values arrive as a number and a boolean', async () => {
    const res = await call(carolKey, '/v1/algo/alice/JavaStyle', 'x');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(typeof res.body.result.response, 'string');
    let payload: Record<string, unknown> | undefined;
    for (let i = 0; i < 12 && !payload; i++) {
      const messages = await consumeAll(kafka, topic, { expected: 10_000, timeoutMs: 5_000 });
      payload = messages.map((m) => JSON.parse(m.value) as Record<string, unknown>).find((p) => p.request_id === res.body.request_id);
    }
    assert.ok(payload, 'no payload for the call');
    assert.equal(payload.cats, 3);
    assert.equal(payload.approved, true);
  });
});

describe('an algorithm that bundles the official npm client', () => {
  test('calls another algorithm through it unmodified, for the original caller', async () => {
    const res = await call(carolKey, '/v1/algo/alice/NpmCaller', 'npm');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.result, { text: 'NPM', path: ['npm', 'r'] });
    const dave = await call(daveKey, '/v1/algo/alice/NpmCaller', 'npm');
    assert.equal(dave.status, 403, 'dave may not call NpmCaller at all');
  });
});

describe('limits and tokens', () => {
  test('a loop A -> A ends at the depth limit with an error naming the chain', async () => {
    const res = await call(carolKey, '/v1/algo/alice/Front', 'loop');
    assert.equal(res.status, 200);
    assert.ok(res.body.error, JSON.stringify(res.body));
    assert.match(res.body.error.message, /nested call depth limit \(3\) reached: alice\/Front -> alice\/Front -> alice\/Front -> alice\/Front -> alice\/Front/);
  });

  test('a call that makes more nested calls than NESTED_CALL_MAX_FANOUT is stopped there', async () => {
    const res = await call(carolKey, '/v1/algo/alice/Fan', 'x');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.result.got, ['0', '1', '2']);
    assert.match(res.body.result.refused, /nested call limit \(3 calls per call\) reached by alice\/Fan/);
  });

  test('an algorithm with settings.pipeline_enabled false cannot call others', async () => {
    const res = await call(carolKey, '/v1/algo/alice/Closed', 'hi');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.match(JSON.stringify(res.body), /alice\/Closed may not call other algorithms \(its settings\.pipeline_enabled is false\)/);
  });

  test('the worker holds no API key: its address carries a token only', async () => {
    const res = await call(carolKey, '/v1/algo/alice/Front', 'leak');
    assert.match(res.body.result, /\/worker\/[A-Za-z0-9_-]{20,}$/);
    assert.ok(!String(res.body.result).includes(carolKey));
  });

  test('a client made at import time calls with the token of each call, not of the first', async () => {
    for (const word of ['one', 'two']) {
      const res = await call(carolKey, '/v1/algo/alice/GlobalClient', word);
      assert.equal(res.body.result, word.toUpperCase(), JSON.stringify(res.body));
    }
  });

  test('a token whose call has ended, and a foreign token, are refused', async () => {
    const api = (await call(carolKey, '/v1/algo/alice/Front', 'leak')).body.result as string;
    const after = await t.request.post(`${api.replace(/^https?:\/\/[^/]+/, '')}/v1/algo/alice/Back`).type('application/json').send({ text: 'x', path: [] });
    assert.equal(after.status, 403, 'a token whose call has ended calls nothing');
    assert.match(after.body.error.message, /Unknown or expired call token/);
    assertMatchesSpec('post', '/worker/{token}/v1/algo/{owner}/{name}', after);
    const foreign = await t.request.post('/worker/not-a-real-token-at-all/v1/algo/alice/Back').type('application/json').send({ text: 'x', path: [] });
    assert.equal(foreign.status, 403);
  });
});
