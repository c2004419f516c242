// The official clients' remaining differences (issue 12), each as the client sends it
// (reference/client-compat.md): output=void, the new-algorithm templates, exists() on another
// user's algorithm, the errors endpoints, the algorithm-id routes, semantic_version on publish,
// stack_trace, stdout without stderr, the Java client's Insights body, and Beacon's Python
// Algorithmia module driving algo().pipe() from the host as a client harness.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startTestApp, type TestApp } from '../support/app';
import { assertMatchesSpec } from '../support/openapi';
import { AlgorithmAuthor } from '../support/execution-helpers';

const run = promisify(execFile);
const algorithmia = require('algorithmia') as (key: string, address: string) => { algo(p: string): { pipe(x: unknown): { then(cb: (r: { get(): unknown }) => void): void } } };
let t: TestApp;
let aliceKey: string;
let bobKey: string;
let alice: AlgorithmAuthor;
let bob: AlgorithmAuthor;
let noisyId: string;

const NOISY = `
import sys
def apply(input):
    print("to stdout")
    print("to stderr", file=sys.stderr)
    if input == "fail":
        raise ValueError("asked to fail")
    return "ok"
`;

// Python sends the raw key; Java "Simple <key>".
const py = (key: string) => ({ Authorization: key });
const java = (key: string) => ({ Authorization: `Simple ${key}` });

before(async () => {
  t = await startTestApp();
  aliceKey = await t.createUser('alice');
  bobKey = await t.createUser('bob');
  alice = new AlgorithmAuthor(t, 'alice', aliceKey);
  bob = new AlgorithmAuthor(t, 'bob', bobKey);
  ({ id: noisyId } = await alice.deploy('Noisy', 'python3', NOISY) as { id: string });
  await bob.create('Secret', 'python3');
  await bob.deploy('Shared', 'python3', 'def apply(input):\n    return input\n', { callability: 'public' });
});

after(async () => t?.close());

describe('execution replies', () => {
  test('output=void answers {"async": "void"} (Java algorithmVoidOutput)', async () => {
    const res = await t.request.post('/v1/algo/alice/Noisy?output=void').set(java(aliceKey)).set('Content-Type', 'text/plain; charset=UTF-8').send('x');
    assert.equal(res.status, 200);
    assert.equal(res.body.async, 'void');
    assertMatchesSpec('post', '/v1/algo/{owner}/{name}', res);
  });

  test('errors carry stack_trace (Python) and stacktrace (Java) for the owner', async () => {
    const res = await t.request.post('/v1/algo/alice/Noisy').set(py(aliceKey)).type('text/plain').send('fail');
    assert.match(res.body.error.message, /asked to fail/);
    assert.match(res.body.error.stack_trace, /ValueError/);
    assert.equal(res.body.error.stack_trace, res.body.error.stacktrace);
    const other = await t.request.post('/v1/algo/alice/Noisy').set(py(bobKey)).type('text/plain').send('fail');
    assert.equal(other.body.error.stack_trace, undefined, 'not for other callers');
  });

  test('metadata.stdout holds stdout only', async () => {
    const res = await t.request.post('/v1/algo/alice/Noisy?stdout=True').set(py(aliceKey)).type('text/plain').send('x');
    assert.match(res.body.metadata.stdout, /to stdout/);
    assert.doesNotMatch(res.body.metadata.stdout, /to stderr/);
  });
});

describe('new-algorithm templates (Python test_algorithm_programmatic_create_process)', () => {
  for (const [language, name] of [['python3', 'PyHello'], ['javascript', 'JsHello'], ['r', 'RHello']] as const) {
    test(`${language}: "hello John", and JSON input works too`, async () => {
      const created = await t.request.post('/v1/algorithms/alice').set(py(aliceKey))
        .send({ name, details: { label: name }, settings: { language, source_visibility: 'closed', license: 'apl', network_access: 'full', pipeline_enabled: true } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const compiled = await t.request.post(`/v1/algorithms/alice/${name}/compile`).set(py(aliceKey)).send({});
      const hash = compiled.body.version_info.git_hash as string;
      const res = await t.request.post(`/v1/algo/alice/${name}/${hash}`).set(py(aliceKey)).type('text/plain').send('John');
      assert.equal(res.body.result, 'hello John', JSON.stringify(res.body));
      // The same call through the real npm client.
      const viaNpm = await new Promise<unknown>((resolve) => algorithmia(aliceKey, t.url).algo(`alice/${name}/${hash}`).pipe('John').then((r) => resolve(r.get())));
      assert.equal(viaNpm, 'hello John');
      const json = await t.request.post(`/v1/algo/alice/${name}/${hash}`).set(py(aliceKey)).type('application/json').send({ a: 1 });
      assert.equal(json.body.error, undefined, JSON.stringify(json.body));
      assert.match(json.body.result, /^hello .*a.*1/);
    });
  }
});

describe("exists() on another user's algorithm", () => {
  test('missing or private: 404 "No such algorithm" (exists() is False); public: 200', async () => {
    for (const name of ['Missing', 'Secret']) {
      const res = await t.request.get(`/v1/algorithms/bob/${name}`).set(py(aliceKey));
      assert.equal(res.status, 404, name);
      assert.deepEqual(res.body, { error: 'No such algorithm' });
    }
    const shared = await t.request.get('/v1/algorithms/bob/Shared').set(py(aliceKey));
    assert.equal(shared.status, 200);
    assert.equal(shared.body.name, 'Shared');
    assert.equal(shared.body.compilation, undefined, "no build details of another user's algorithm");
    assertMatchesSpec('get', '/v1/algorithms/{owner}/{name}', shared);
  });
});

describe('errors endpoints', () => {
  test('by owner/name, by id, and per user; owner only', async () => {
    const failed = await t.request.post('/v1/algo/alice/Noisy').set(py(bobKey)).type('text/plain').send('fail');
    const requestId = failed.body.request_id as string;
    const byName = await t.request.get('/v1/algorithms/alice/Noisy/errors').set(py(aliceKey));
    assert.equal(byName.status, 200);
    assertMatchesSpec('get', '/v1/algorithms/{owner}/{name}/errors', byName);
    const hit = byName.body.find((e: { request_id: string }) => e.request_id === requestId);
    assert.ok(hit, JSON.stringify(byName.body));
    assert.equal(hit.billable_to, 'bob');
    assert.equal(hit.algoname, 'Noisy');
    assert.match(hit.error, /^error:\nasked to fail/);
    assert.equal(hit.error_type, 'AlgorithmError');
    const byId = await t.request.get(`/v1/algorithms/${noisyId}/errors`).set(java(aliceKey));
    assert.deepEqual(byId.body, byName.body);
    const user = await t.request.get('/v1/users/alice/errors').set(py(aliceKey));
    assert.ok(user.body.some((e: { request_id: string }) => e.request_id === requestId));
    assertMatchesSpec('get', '/v1/users/{username}/errors', user);
    assert.equal((await t.request.get('/v1/algorithms/alice/Noisy/errors').set(py(bobKey))).status, 403);
    assert.equal((await t.request.get('/v1/users/alice/errors').set(py(bobKey))).status, 403);
  });
});

describe('algorithm-id routes', () => {
  test('GET, PUT, compile, builds and versions by id answer as the owner/name routes', async () => {
    const get = await t.request.get(`/v1/algorithms/${noisyId}`).set(java(aliceKey));
    assert.equal(get.status, 200, JSON.stringify(get.body));
    assert.equal(get.body.name, 'Noisy');
    assertMatchesSpec('get', '/v1/algorithms/{algorithmId}', get);
    const put = await t.request.put(`/v1/algorithms/${noisyId}`).set(java(aliceKey)).send({ details: { summary: 'by id' } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body.details.summary, 'by id');
    // Java compiles with an empty body and no Content-Type.
    const compiled = await t.request.post(`/v1/algorithms/${noisyId}/compile`).set(java(aliceKey));
    assert.equal(compiled.status, 200, JSON.stringify(compiled.body));
    assert.match(compiled.body.version_info.git_hash, /^[0-9a-f]{40}$/);
    const builds = await t.request.get(`/v1/algorithms/${noisyId}/builds`).set(java(aliceKey));
    assert.equal(builds.status, 200);
    assert.ok(builds.body.results.some((b: { commit_sha: string }) => b.commit_sha === compiled.body.version_info.git_hash));
    const versions = await t.request.get(`/v1/algorithms/${noisyId}/versions`).set(java(aliceKey));
    assert.equal(versions.status, 200);
    assert.ok(versions.body.results.length >= 1);
    assertMatchesSpec('get', '/v1/algorithms/{algorithmId}/versions', versions);
    assert.equal((await t.request.put(`/v1/algorithms/${noisyId}`).set(java(bobKey)).send({ details: { summary: 'x' } })).status, 403, "another user's key");
    assert.equal((await t.request.get(`/v1/algorithms/${noisyId}/builds`).set(java(bobKey))).status, 403);
    assert.equal((await t.request.get('/v1/algorithms/00000000-0000-4000-8000-000000000000').set(java(aliceKey))).status, 404);
  });

  test('an algorithm named "builds" is still reached by owner/name', async () => {
    await alice.create('builds', 'python3');
    const res = await t.request.get('/v1/algorithms/alice/builds').set(java(aliceKey));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.name, 'builds');
  });
});

describe('publish', () => {
  test('version_info.semantic_version is honoured; one not above the highest is refused', async () => {
    await alice.deploy('Semver', 'python3', 'def apply(input):\n    return 1\n');
    await alice.compile('Semver');
    const res = await t.request.post('/v1/algorithms/alice/Semver/versions').set(py(aliceKey)).send({ version_info: { semantic_version: '2.5.0' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.version_info.semantic_version, '2.5.0');
    await alice.compile('Semver');
    const low = await t.request.post('/v1/algorithms/alice/Semver/versions').set(py(aliceKey)).send({ version_info: { semantic_version: '2.4.9' } });
    assert.equal(low.status, 400);
    assert.match(low.body.error.message, /must be higher than 2\.5\.0/);
  });
});

describe('insights with the Java client body', () => {
  test('POST /v1/insights with string values and Authorization answers {"response": ...}', async () => {
    const body = [{ insight_key: 'cats', insight_value: '3' }, { insight_key: 'approved', insight_value: 'true' }];
    const res = await t.request.post('/v1/insights').set(java(aliceKey)).send(body);
    assert.equal(res.status, 200);
    assert.equal(typeof res.body.response, 'string');
    assertMatchesSpec('post', '/v1/insights', res);
    const bad = await t.request.post('/v1/insights').set(java(aliceKey)).send([{ insight_key: 'cats', insight_value: 'many' }]);
    assert.equal(bad.status, 400);
  });
});

describe("Beacon's Python Algorithmia module as a client (harness for the official client's algo calls)", () => {
  test('client.algo().pipe() gives .result and .metadata; set_options; AlgorithmException on error', async () => {
    const script = `
import Algorithmia, json, sys
from Algorithmia.errors import AlgorithmException
c = Algorithmia.client(sys.argv[1], sys.argv[2])
r = c.algo("alice/Noisy").set_options(timeout=60, stdout=True).pipe("x")
out = {"result": r.result, "content_type": r.metadata.content_type, "stdout": r.metadata.stdout, "duration": r.metadata.duration}
try:
    c.algo("algo://alice/Noisy/").pipe("fail")
except AlgorithmException as e:
    out["error"] = [e.message, e.error_type, bool(e.stack_trace)]
raw = c.algo("alice/Noisy").set_options(output="raw").pipe("x")
out["raw"] = raw
v = c.algo("alice/Noisy").set_options(output="void").pipe("x")
out["void"] = v.async_protocol
print(json.dumps(out))
`;
    const { stdout } = await run('python3', ['-c', script, aliceKey, t.url], { env: { PYTHONPATH: path.join(__dirname, '..', '..', 'runtimes', 'python'), PATH: process.env.PATH } });
    const out = JSON.parse(stdout);
    assert.equal(out.result, 'ok');
    assert.equal(out.content_type, 'text');
    assert.match(out.stdout, /to stdout/);
    assert.equal(typeof out.duration, 'number');
    assert.deepEqual(out.error, ['asked to fail', 'AlgorithmError', true]);
    assert.equal(out.raw, 'ok');
    assert.equal(out.void, 'void');
  });
});
