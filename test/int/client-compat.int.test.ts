// The official clients against Beacon's /v1/algo: the real npm package algorithmia@0.3.10 (chunked
// bodies, no Content-Length), and requests shaped exactly as the Python 2.0.5 and Node TS clients
// send them (reference/client-compat.md sections 1-3).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../support/app';
import { assertMatchesSpec } from '../support/openapi';
import { AlgorithmAuthor } from '../support/execution-helpers';

const algorithmia = require('algorithmia') as (key: string, address: string) => NpmClient;

interface AlgoResponse {
  status: number;
  result: unknown;
  error?: { message: string };
  metadata?: { content_type: string; duration: number };
  get(): unknown;
}
interface NpmClient {
  algo(path: string): { pipe(input: unknown): { then(cb: (r: AlgoResponse) => void): void } };
}

const CODE = `
def apply(input):
    if isinstance(input, (bytes, bytearray)):
        return bytes(input) + b"!"
    if isinstance(input, str):
        if input == "fail":
            raise Exception("asked to fail")
        return "Hello " + input
    return {"got": input}
`;

let t: TestApp;
let key: string;
let client: NpmClient;
let version: string;

/** The npm client's pipe() returns a home-made thenable; wrap it in a real Promise. */
const pipe = (path: string, input: unknown) =>
  new Promise<AlgoResponse>((resolve) => client.algo(path).pipe(input).then(resolve));

before(async () => {
  t = await startTestApp();
  key = await t.createUser('neo');
  ({ version } = await new AlgorithmAuthor(t, 'neo', key).deploy('Greeter', 'python3', CODE));
  client = algorithmia(key, t.url);
});

after(async () => t?.close());

describe('npm algorithmia@0.3.10', () => {
  test('text input', async () => {
    const res = await pipe(`neo/Greeter/${version}`, 'Morpheus');
    assert.equal(res.error, undefined);
    assert.equal(res.metadata?.content_type, 'text');
    assert.equal(res.get(), 'Hello Morpheus');
  });

  test('JSON input', async () => {
    const res = await pipe(`neo/Greeter/${version}`, { pill: ['red', 'blue'], n: 2 });
    assert.deepEqual(res.get(), { got: { pill: ['red', 'blue'], n: 2 } });
  });

  test('binary input', async () => {
    const res = await pipe('neo/Greeter', Buffer.from([0, 1, 2, 254]));
    assert.equal(res.metadata?.content_type, 'binary');
    assert.deepEqual(res.get(), Buffer.from([0, 1, 2, 254, 33]));
  });

  test('an algorithm error reaches res.error, and get() throws its message', async () => {
    const res = await pipe(`neo/Greeter/${version}`, 'fail');
    assert.equal(res.status, 200);
    assert.match(res.error?.message ?? '', /asked to fail/);
    assert.throws(() => res.get(), /asked to fail/);
  });

  test('a platform error keeps its message on the non-2xx path', async () => {
    const res = await pipe('neo/NoSuchAlgo', 'x');
    assert.equal(res.status, 404);
    assert.match(res.error?.message ?? '', /algorithm algo:\/\/neo\/NoSuchAlgo not found/);
  });
});

describe('requests as the Python client 2.0.5 sends them', () => {
  test('bare key, set_options defaults (timeout=300&stdout=False), text body', async () => {
    const res = await t.request
      .post(`/v1/algo/neo/Greeter/${version}?timeout=300&stdout=False`)
      .set('Authorization', key)
      .set('Content-Type', 'text/plain')
      .set('User-Agent', 'python-requests/2.31.0')
      .send(Buffer.from('Trinity', 'utf8'));
    assert.equal(res.status, 200);
    assert.equal(res.body.result, 'Hello Trinity');
    // The client raises KeyError without these two.
    assert.equal(res.body.metadata.content_type, 'text');
    assert.equal(typeof res.body.metadata.duration, 'number');
    assert.equal(res.body.metadata.stdout, undefined);
    assertMatchesSpec('post', '/v1/algo/{owner}/{name}/{version}', res);
  });

  test('None input goes as JSON null', async () => {
    const res = await t.request.post('/v1/algo/neo/Greeter').set('Authorization', key).set('Content-Type', 'application/json').send('null');
    assert.deepEqual(res.body.result, { got: null });
  });

  test('stdout=True for the owner; output=void gives async and request_id', async () => {
    const out = await t.request.post('/v1/algo/neo/Greeter?timeout=300&stdout=True').set('Authorization', key).type('text/plain').send('x');
    assert.equal(typeof out.body.metadata.stdout, 'string');
    const v = await t.request.post('/v1/algo/neo/Greeter?timeout=300&stdout=False&output=void').set('Authorization', key).type('text/plain').send('x');
    assert.equal(v.status, 200);
    assert.ok(v.body.async);
    assert.match(v.body.request_id, /^req-/);
  });

  test('an algorithm exception is a 2xx with error.message (the client drops non-2xx bodies)', async () => {
    const res = await t.request.post(`/v1/algo/neo/Greeter/${version}?timeout=300&stdout=False`).set('Authorization', key).type('text/plain').send('fail');
    assert.equal(res.status, 200);
    assert.match(res.body.error.message, /asked to fail/);
  });

  test('output=raw returns the bare text', async () => {
    const res = await t.request.post('/v1/algo/neo/Greeter?timeout=300&stdout=False&output=raw').set('Authorization', key).type('text/plain').send('raw');
    assert.equal(res.text, 'Hello raw');
  });
});

describe('requests as the Node TS client sends them', () => {
  test('trailing slash, timeout=300&stdout=false&output=raw, pretty-printed JSON', async () => {
    const res = await t.request
      .post(`/v1/algo/neo/Greeter/${version}/?timeout=300&stdout=false&output=raw`)
      .set('Authorization', `Simple ${key}`)
      .set('Content-Type', 'application/json')
      .set('Accept', 'application/octet-stream')
      .send(JSON.stringify({ a: 1 }, null, 2));
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.text), { got: { a: 1 } });
  });

  test('no version: /v1/algo/owner/name/?... with text', async () => {
    const res = await t.request
      .post('/v1/algo/neo/Greeter/?timeout=300&stdout=false&output=raw')
      .set('Authorization', `Simple ${key}`)
      .set('Content-Type', 'text/plain')
      .send('TS');
    assert.equal(res.text, 'Hello TS');
  });
});

describe('requests as the Java client sends them', () => {
  test('text/plain; charset=UTF-8 and application/json; charset=UTF-8, ?output=raw&timeout=60', async () => {
    const txt = await t.request.post('/v1/algo/neo/Greeter?timeout=60').set('Authorization', `Simple ${key}`).set('Content-Type', 'text/plain; charset=UTF-8').send('Java');
    assert.equal(txt.body.result, 'Hello Java');
    const js = await t.request
      .post('/v1/algo/neo/Greeter?output=raw&timeout=60')
      .set('Authorization', `Simple ${key}`)
      .set('Content-Type', 'application/json; charset=UTF-8')
      .send('[1,2]');
    assert.deepEqual(JSON.parse(js.text), { got: [1, 2] });
  });
});
