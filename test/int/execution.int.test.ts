// POST /v1/algo against real PostgreSQL and real worker processes: options, content types, bad
// inputs, timeouts and crashes. Algorithms are created and published through the management API.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/app';
import { assertMatchesSpec } from '../support/openapi';
import { AlgorithmAuthor } from '../support/execution-helpers';

const MULTI = `
import os, sys, time

class NotSerialisable:
    pass

def apply(input):
    if isinstance(input, (bytes, bytearray)):
        return bytes(reversed(input)) if len(input) < 1000 else {"bytes": len(input), "distinct": sorted(set(input))}
    if isinstance(input, str):
        return "Hello " + input
    action = input.get("do") if isinstance(input, dict) else None
    if action == "raise":
        raise ValueError("bad things: " + str(input.get("why")))
    if action == "loop":
        while True:
            pass
    if action == "exit":
        sys.exit(3)
    if action == "crash":
        os._exit(7)
    if action == "print":
        sys.stdout.write("x" * (4 * 1024 * 1024))
        return "printed"
    if action == "weird":
        return NotSerialisable()
    if action == "huge":
        return "y" * (3 * 1024 * 1024)
    if action == "none":
        return None
    if action == "say":
        print(input["text"])
        return input["text"]
    return {"echo": input}
`;

const JS_ECHO = 'exports.apply = function (input) { return { js: input }; };\n';

const versioned = (label: string) => `def apply(input):\n    return "${label}"\n`;

const P2 = '/v1/algo/{owner}/{name}';
const P3 = '/v1/algo/{owner}/{name}/{version}';

let t: TestApp;
let alice: AlgorithmAuthor; // owns every algorithm
let bobKey: string; // another user with a full key
let noAlgoKey: string; // allow_algo false
let aclKey: string; // algo_acl only allows bob's algorithms
let multiId: string;
let multiHash: string;
const hashes: Record<string, string> = {};

function call(path: string, key: string | undefined, body: string | Buffer, type?: string) {
  const req = t.request.post(path);
  if (key !== undefined) req.set('Authorization', `Simple ${key}`);
  if (type !== undefined) req.set('Content-Type', type);
  return req.send(body);
}
const json = (path: string, value: unknown, key = alice.key) => call(path, key, JSON.stringify(value), 'application/json');
const text = (path: string, value: string, key = alice.key) => call(path, key, value, 'text/plain');

before(async () => {
  t = await startTestApp({ WORKER_MAX_PER_VERSION: '2', WORKER_MAX_OUTPUT_BYTES: String(1024 * 1024), WORKER_MAX_RESULT_BYTES: String(1024 * 1024) });
  alice = new AlgorithmAuthor(t, 'alice', await t.createUser('alice'));
  bobKey = await t.createUser('bob');
  noAlgoKey = await t.createUser('dave', { allow_algo: false });
  aclKey = await t.createUser('carol', { algo_acl: ['algo://bob/*'] });

  const multi = await alice.deploy('multi', 'python3', MULTI);
  multiId = multi.id!;
  multiHash = multi.hash;
  await alice.deploy('jsecho', 'javascript', JS_ECHO);

  // versioned: 0.1.0 public (v1), 0.2.0 public (v2), 0.3.0 private (v3), then an unpublished build (v4).
  await alice.create('versioned', 'python3');
  for (const [label, callability] of [['v1', 'public'], ['v2', 'public'], ['v3', 'private']] as const) {
    await alice.setCode('versioned', 'python3', versioned(label));
    hashes[label] = await alice.compile('versioned');
    await alice.publish('versioned', { callability });
  }
  await alice.setCode('versioned', 'python3', versioned('v4'));
  hashes.v4 = await alice.compile('versioned');
});

after(async () => t?.close());

describe('replies', () => {
  test('text in, text out: the documented shape, application/json, request id everywhere', async () => {
    const res = await text('/v1/algo/alice/multi', 'Neo');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^application\/json/);
    assert.equal(res.body.result, 'Hello Neo');
    assert.equal(res.body.metadata.content_type, 'text');
    assert.equal(typeof res.body.metadata.duration, 'number');
    assert.equal(res.body.metadata.stdout, undefined);
    assert.match(res.body.request_id, /^req-/);
    assert.equal(res.body.metadata.request_id, res.body.request_id);
    assert.equal(res.headers['x-request-id'], res.body.request_id);
    assertMatchesSpec('post', P2, res);
  });

  test('JSON in, JSON out', async () => {
    const res = await json('/v1/algo/alice/multi/0.1.0', { a: [1, 2.5, null], b: 'x' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.result, { echo: { a: [1, 2.5, null], b: 'x' } });
    assert.equal(res.body.metadata.content_type, 'json');
    assertMatchesSpec('post', P3, res);
  });

  test('a JSON string is JSON input, not text', async () => {
    const res = await json('/v1/algo/alice/multi', 'HAL 9000');
    assert.equal(res.body.result, 'Hello HAL 9000'); // str input in Python either way
    const js = await json('/v1/algo/alice/jsecho', 'HAL 9000');
    assert.deepEqual(js.body.result, { js: 'HAL 9000' });
  });

  test('binary in, binary (base64) out', async () => {
    const res = await call('/v1/algo/alice/multi', alice.key, Buffer.from([1, 2, 3, 0, 255]), 'application/octet-stream');
    assert.equal(res.status, 200);
    assert.equal(res.body.metadata.content_type, 'binary');
    assert.deepEqual(Buffer.from(res.body.result, 'base64'), Buffer.from([255, 0, 3, 2, 1]));
    assertMatchesSpec('post', P2, res);
  });

  test('Content-Encoding: base64 bodies are decoded before the algorithm sees them', async () => {
    const res = await t.request
      .post('/v1/algo/alice/multi')
      .set('Authorization', `Simple ${alice.key}`)
      .set('Content-Type', 'application/octet-stream')
      .set('Content-Encoding', 'base64')
      .send(Buffer.from([9, 8, 7]).toString('base64'));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(Buffer.from(res.body.result, 'base64'), Buffer.from([7, 8, 9]));
  });

  test('text with a charset, and application/text', async () => {
    const latin1 = await call('/v1/algo/alice/multi', alice.key, Buffer.from([0x63, 0x61, 0x66, 0xe9]), 'text/plain; charset=ISO-8859-1');
    assert.equal(latin1.body.result, 'Hello café');
    const java = await call('/v1/algo/alice/multi', alice.key, Buffer.from('Zoë ☃'), 'text/plain; charset=UTF-8');
    assert.equal(java.body.result, 'Hello Zoë ☃');
    const appText = await call('/v1/algo/alice/multi', alice.key, 'Trinity', 'application/text');
    assert.equal(appText.body.result, 'Hello Trinity');
  });

  test('a None result is JSON null', async () => {
    const res = await json('/v1/algo/alice/multi', { do: 'none' });
    assert.equal(res.status, 200);
    assert.equal(res.body.result, null);
    assert.equal(res.body.metadata.content_type, 'json');
    assertMatchesSpec('post', P2, res);
  });

  test('a trailing slash is accepted, with and without a version', async () => {
    assert.equal((await text('/v1/algo/alice/multi/', 'a')).body.result, 'Hello a');
    assert.equal((await text('/v1/algo/alice/multi/0.1.0/', 'b')).body.result, 'Hello b');
  });

  test('owner and name are case-insensitive', async () => {
    assert.equal((await text('/v1/algo/ALICE/Multi', 'c')).body.result, 'Hello c');
  });

  test('the algorithm-id form, with and without a version', async () => {
    assert.equal((await text(`/v1/algo/${multiId}`, 'id')).body.result, 'Hello id');
    assert.equal((await text(`/v1/algo/${multiId}/0.1.0/`, 'id2')).body.result, 'Hello id2');
    assert.equal((await text(`/v1/algo/${multiId}/latest`, 'id3')).body.result, 'Hello id3');
    const missing = await text('/v1/algo/00000000-0000-4000-8000-000000000000', 'x');
    assert.equal(missing.status, 404);
    assertMatchesSpec('post', '/v1/algo/{algorithmId}', missing);
    const notAnId = await text('/v1/algo/alice', 'x');
    assert.equal(notAnId.status, 404);
  });
});

describe('options', () => {
  test('stdout=true gives the owner the output; Python-style True works too', async () => {
    for (const flag of ['true', 'True', 'TRUE']) {
      const res = await json(`/v1/algo/alice/multi?stdout=${flag}`, { do: 'say', text: 'spoken' });
      assert.equal(res.body.result, 'spoken');
      assert.equal(res.body.metadata.stdout, 'spoken\n');
    }
    const off = await json('/v1/algo/alice/multi?timeout=300&stdout=False', { do: 'say', text: 'quiet' });
    assert.equal(off.body.metadata.stdout, undefined);
  });

  test('stdout is ignored for other users', async () => {
    const res = await json('/v1/algo/alice/multi?stdout=true', { do: 'say', text: 'secret' }, bobKey);
    assert.equal(res.status, 200);
    assert.equal(res.body.result, 'secret');
    assert.equal(res.body.metadata.stdout, undefined);
  });

  test('output=raw returns the bare result with its own content type', async () => {
    const t1 = await text('/v1/algo/alice/multi?output=raw', 'raw');
    assert.equal(t1.status, 200);
    assert.match(t1.headers['content-type'], /^text\/plain/);
    assert.equal(t1.text, 'Hello raw');

    const j = await json('/v1/algo/alice/multi?output=RAW', { n: 1 });
    assert.match(j.headers['content-type'], /^application\/json/);
    assert.deepEqual(JSON.parse(j.text), { echo: { n: 1 } });

    const b = await t.request
      .post('/v1/algo/alice/multi?output=raw')
      .set('Authorization', `Simple ${alice.key}`)
      .set('Content-Type', 'application/octet-stream')
      .send(Buffer.from([1, 2]))
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      });
    assert.match(b.headers['content-type'], /^application\/octet-stream/);
    assert.deepEqual(b.body, Buffer.from([2, 1]));
  });

  test('output=raw turns an algorithm error into a 400 with the error JSON', async () => {
    const res = await json('/v1/algo/alice/multi?output=raw', { do: 'raise', why: 'raw' });
    assert.equal(res.status, 400);
    assert.match(res.body.error.message, /bad things: raw/);
    assertMatchesSpec('post', P2, res);
  });

  test('output=void answers at once and runs the call in the background', async () => {
    const before = await executions('alice/multi', 'success');
    const res = await text('/v1/algo/alice/multi?output=void', 'async');
    assert.equal(res.status, 200);
    assert.equal(res.body.async, 'void'); // the Java client's algorithmVoidOutput test
    assert.match(res.body.request_id, /^req-/);
    assert.equal(res.headers['x-request-id'], res.body.request_id);
    assertMatchesSpec('post', P2, res);
    await waitFor(async () => (await executions('alice/multi', 'success')) > before);
  });

  test('output=void still refuses what it cannot run', async () => {
    const res = await text('/v1/algo/alice/nope?output=void', 'x');
    assert.equal(res.status, 404);
  });

  test('unknown query parameters are ignored', async () => {
    const res = await text('/v1/algo/alice/multi?timeout=30&foo=bar&output=default', 'extra');
    assert.equal(res.status, 200);
    assert.equal(res.body.result, 'Hello extra');
  });

  test('bad option values are 400s', async () => {
    for (const q of ['timeout=0', 'timeout=-5', 'timeout=1000000', 'timeout=3001', 'timeout=abc', 'timeout=', 'stdout=maybe', 'output=xml']) {
      const res = await text(`/v1/algo/alice/multi?${q}`, 'x');
      assert.equal(res.status, 400, q);
      assertMatchesSpec('post', P2, res);
    }
  });
});

describe('version resolution', () => {
  const cases: Array<[string, string, string]> = [
    // [path suffix, what alice gets, what bob gets]
    ['', 'v2', 'v2'],
    ['/latest', 'v2', 'v2'],
    ['/latestPrivate', 'v3', '403'],
    ['/0', 'v2', 'v2'],
    ['/0.*', 'v2', 'v2'],
    ['/0.1', 'v1', 'v1'],
    ['/0.1.*', 'v1', 'v1'],
    ['/0.3', '404', '404'],
    ['/0.1.0', 'v1', 'v1'],
    ['/0.3.0', 'v3', '403'],
    ['/1.0.0', '404', '404'],
    ['/1.*', '404', '404'],
  ];
  for (const [suffix, forAlice, forBob] of cases) {
    test(`versioned${suffix || ' (no version)'}: alice ${forAlice}, bob ${forBob}`, async () => {
      for (const [key, expected] of [[alice.key, forAlice], [bobKey, forBob]] as const) {
        const res = await text(`/v1/algo/alice/versioned${suffix}`, 'x', key);
        if (/^\d+$/.test(expected)) {
          assert.equal(res.status, Number(expected), JSON.stringify(res.body));
          assert.equal(typeof res.body.error.message, 'string');
          assertMatchesSpec('post', suffix ? P3 : P2, res);
        } else {
          assert.equal(res.status, 200, JSON.stringify(res.body));
          assert.equal(res.body.result, expected);
        }
      }
    });
  }

  test('build hashes: the owner runs any successful build, published or not; others get 403', async () => {
    assert.equal((await text(`/v1/algo/alice/versioned/${hashes.v4}`, 'x')).body.result, 'v4');
    assert.equal((await text(`/v1/algo/alice/versioned/${hashes.v1}`, 'x')).body.result, 'v1');
    assert.equal((await text(`/v1/algo/alice/versioned/${hashes.v1.toUpperCase()}`, 'x')).body.result, 'v1');
    assert.equal((await text(`/v1/algo/alice/versioned/${hashes.v4}`, 'x', bobKey)).status, 403);
    assert.equal((await text(`/v1/algo/alice/versioned/${'0'.repeat(40)}`, 'x')).status, 404);
  });

  test('not-found messages name the algorithm as algo://owner/name/version', async () => {
    const res = await text('/v1/algo/alice/versioned/9.9.9', 'x');
    assert.equal(res.status, 404);
    assert.match(res.body.error.message, /^algorithm algo:\/\/alice\/versioned\/9\.9\.9 not found/);
    const unknown = await text('/v1/algo/alice/nothing', 'x');
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error.message, /^algorithm algo:\/\/alice\/nothing not found/);
    const noUser = await text('/v1/algo/nobody/nothing/1.0.0', 'x');
    assert.equal(noUser.status, 404);
  });

  test('a malformed version is a 400 that lists the accepted forms', async () => {
    const res = await text('/v1/algo/alice/versioned/1.2.3.4', 'x');
    assert.equal(res.status, 400);
    assert.match(res.body.error.message, /latestPrivate/);
    assertMatchesSpec('post', P3, res);
  });

  test('a new publish is callable at once by exact version, and becomes latest within seconds', async () => {
    await alice.deploy('fresh', 'python3', versioned('f1'));
    assert.equal((await text('/v1/algo/alice/fresh', 'x')).body.result, 'f1');
    await alice.setCode('fresh', 'python3', versioned('f2'));
    await alice.compile('fresh');
    const v = await alice.publish('fresh');
    assert.equal((await text(`/v1/algo/alice/fresh/${v}`, 'x')).body.result, 'f2');
    await waitFor(async () => (await text('/v1/algo/alice/fresh', 'x')).body.result === 'f2');
  });
});

describe('who may call', () => {
  test('no key is a 401', async () => {
    const res = await call('/v1/algo/alice/multi', undefined, 'x', 'text/plain');
    assert.equal(res.status, 401);
    assertMatchesSpec('post', P2, res);
  });

  test('an unknown key is a 401', async () => {
    assert.equal((await text('/v1/algo/alice/multi', 'x', 'simNoSuchKey00000000000000000')).status, 401);
  });

  test('a key without allow_algo is a 403', async () => {
    const res = await text('/v1/algo/alice/multi', 'x', noAlgoKey);
    assert.equal(res.status, 403);
    assertMatchesSpec('post', P2, res);
  });

  test('a key whose algo_acl does not cover the algorithm is a 403, by name and by id', async () => {
    const res = await text('/v1/algo/alice/multi', 'x', aclKey);
    assert.equal(res.status, 403);
    assert.match(res.body.error.message, /algo_acl/);
    assert.equal((await text(`/v1/algo/${multiId}`, 'x', aclKey)).status, 403);
  });

  test('an admin key may not call algorithms', async () => {
    assert.equal((await text('/v1/algo/alice/multi', 'x', ADMIN_KEY)).status, 403);
  });

  test('the Python client\'s bare key works', async () => {
    const res = await t.request.post('/v1/algo/alice/multi').set('Authorization', alice.key).type('text/plain').send('bare');
    assert.equal(res.body.result, 'Hello bare');
  });
});

describe('bad input', () => {
  test('a wrong Content-Type is a 415, a missing one a 400', async () => {
    const form = await call('/v1/algo/alice/multi', alice.key, 'a=b', 'application/x-www-form-urlencoded');
    assert.equal(form.status, 415);
    assertMatchesSpec('post', P2, form);
    const png = await call('/v1/algo/alice/multi', alice.key, Buffer.from([1]), 'image/png');
    assert.equal(png.status, 415);
    const missing = await rawPost('/v1/algo/alice/multi', { Authorization: alice.key }, (req) => req.end('no type'));
    assert.equal(missing.status, 400);
    assert.match(JSON.parse(missing.body).error.message, /Missing Content-Type/);
  });

  test('an unsupported charset is a 415, invalid JSON a 400', async () => {
    assert.equal((await call('/v1/algo/alice/multi', alice.key, 'x', 'text/plain; charset=klingon')).status, 415);
    const bad = await call('/v1/algo/alice/multi', alice.key, '{"a":', 'application/json');
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /Invalid JSON/);
    assertMatchesSpec('post', P2, bad);
  });

  test('a body over 10 MiB is a 413, with Content-Length or chunked', async () => {
    const big = Buffer.alloc(10 * 1024 * 1024 + 1, 1);
    const res = await call('/v1/algo/alice/multi', alice.key, big, 'application/octet-stream');
    assert.equal(res.status, 413);
    assertMatchesSpec('post', P2, res);
    // No Content-Length: Node sends the body chunked, as npm algorithmia@0.3.10 does.
    const chunked = await rawPost('/v1/algo/alice/multi', { Authorization: alice.key, 'Content-Type': 'application/octet-stream' }, (req) => {
      const chunk = Buffer.alloc(1024 * 1024);
      let n = 0;
      const write = () => {
        while (n < 11) {
          n++;
          if (!req.write(chunk)) return void req.once('drain', write);
        }
        req.end();
      };
      write();
    });
    assert.equal(chunked.status, 413);
    assert.equal(JSON.parse(chunked.body).error.code, 6002);
  });

  test('exactly 10 MiB is accepted', async () => {
    const res = await call('/v1/algo/alice/multi', alice.key, Buffer.alloc(10 * 1024 * 1024, 7), 'application/octet-stream');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.result, { bytes: 10 * 1024 * 1024, distinct: [7] });
  });
});

describe('algorithm failures', () => {
  test('an exception is a 200 with error, metadata and request id; the stack trace is the owner\'s only', async () => {
    const res = await json('/v1/algo/alice/multi', { do: 'raise', why: 'testing' });
    assert.equal(res.status, 200);
    assert.match(res.body.error.message, /bad things: testing/);
    assert.equal(res.body.error.error_type, 'AlgorithmError');
    assert.match(res.body.error.stacktrace, /ValueError/);
    assert.equal(typeof res.body.metadata.duration, 'number');
    assert.equal(res.body.result, undefined);
    assertMatchesSpec('post', P2, res);

    const other = await json('/v1/algo/alice/multi', { do: 'raise', why: 'bob' }, bobKey);
    assert.equal(other.status, 200);
    assert.match(other.body.error.message, /bad things: bob/);
    assert.equal(other.body.error.stacktrace, undefined);
  });

  test('timeout=1 stops an infinite loop with a clear error; the next call works', async () => {
    const res = await json('/v1/algo/alice/multi?timeout=1', { do: 'loop' });
    assert.equal(res.status, 200);
    assert.equal(res.body.error.error_type, 'TimeoutError', JSON.stringify(res.body));
    assert.match(res.body.error.message, /timed out after 1 s/);
    assertMatchesSpec('post', P2, res);
    assert.equal((await text('/v1/algo/alice/multi', 'again')).body.result, 'Hello again');
    assert.ok((await executions('alice/multi', 'timeout')) >= 1);
  });

  test('sys.exit and a hard crash are errors; the pool replaces the worker', async () => {
    const exit = await json('/v1/algo/alice/multi', { do: 'exit' });
    assert.equal(exit.status, 200);
    assert.equal(exit.body.error.error_type, 'SystemExit');
    assert.equal((await text('/v1/algo/alice/multi', 'after exit')).body.result, 'Hello after exit');

    const crash = await json('/v1/algo/alice/multi', { do: 'crash' });
    assert.equal(crash.status, 200);
    assert.equal(typeof crash.body.error.message, 'string');
    assert.equal(typeof crash.body.error.error_type, 'string');
    assert.equal((await text('/v1/algo/alice/multi', 'after crash')).body.result, 'Hello after crash');
  });

  test('megabytes of output: the call succeeds, stdout is truncated', async () => {
    const res = await json('/v1/algo/alice/multi?stdout=true', { do: 'print' });
    assert.equal(res.status, 200);
    assert.equal(res.body.result, 'printed');
    assert.ok(res.body.metadata.stdout.length < 2 * 1024 * 1024, `stdout of ${res.body.metadata.stdout.length} chars`);
    assert.match(res.body.metadata.stdout, /truncated/);
  });

  test('a result that cannot be serialised, and one over the output limit, are clear errors', async () => {
    const weird = await json('/v1/algo/alice/multi', { do: 'weird' });
    assert.equal(weird.status, 200);
    assert.match(weird.body.error.message, /serializ|serialis/i);
    const huge = await json('/v1/algo/alice/multi', { do: 'huge' });
    assert.equal(huge.status, 200);
    assert.equal(huge.body.error.error_type, 'TooLargeError');
    assert.equal((await text('/v1/algo/alice/multi', 'fine')).body.result, 'Hello fine');
  });

  test('other calls are served while an algorithm loops', async () => {
    let looping = true;
    const loop = json('/v1/algo/alice/multi?timeout=8', { do: 'loop' }).then((r) => {
      looping = false;
      return r;
    });
    for (let i = 0; i < 5; i++) {
      const js = await json('/v1/algo/alice/jsecho', i);
      assert.deepEqual(js.body.result, { js: i });
      assert.equal((await t.request.get('/healthz')).status, 200);
    }
    assert.equal((await text('/v1/algo/alice/multi', 'parallel')).body.result, 'Hello parallel');
    assert.equal(looping, true, 'the looping call should still be running');
    const looped = await loop;
    assert.equal(looped.body.error.error_type, 'TimeoutError', JSON.stringify(looped.body));
  });

  test('a build hash call runs the same code as its version', async () => {
    assert.equal((await text(`/v1/algo/alice/multi/${multiHash}`, 'h')).body.result, 'Hello h');
  });
});

describe('metrics', () => {
  test('executions are counted by algorithm and outcome; worker pool gauges are exported', async () => {
    const res = await t.request.get('/metrics').set('Authorization', `Simple ${ADMIN_KEY}`);
    assert.match(res.text, /beacon_executions_total\{algorithm="alice\/multi",outcome="success"\} \d+/);
    assert.match(res.text, /beacon_executions_total\{algorithm="alice\/multi",outcome="error"\} \d+/);
    assert.match(res.text, /beacon_worker_pool_workers \d+/);
    assert.match(res.text, /beacon_worker_pool_idle \d+/);
  });
});

describe('worker insights callback', () => {
  test('an unknown token is refused with a JSON message', async () => {
    const res = await t.request.post('/worker/not-a-token/v1/insights').send([{ insight_key: 'a', insight_value: 1 }]);
    assert.equal(res.status, 404);
    assertMatchesSpec('post', '/worker/{token}/v1/insights', res);
  });
});

/** A request supertest cannot shape (no Content-Type at all, or a chunked body). */
function rawPost(path: string, headers: Record<string, string>, write: (req: http.ClientRequest) => void): Promise<{ status?: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${t.url}${path}`, { method: 'POST', headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    write(req);
  });
}

async function executions(algorithm: string, outcome: string): Promise<number> {
  const m = await t.beacon.metrics.executions.get();
  return m.values.find((v) => v.labels.algorithm === algorithm && v.labels.outcome === outcome)?.value ?? 0;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) assert.fail('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
