// The request validator driven by openapi.yaml (src/platform/spec-validate.ts), through the real
// route layer and the real contract: handlers here only echo what reached them.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import express from 'express';
import supertest from 'supertest';
import type { Authenticator } from '../../src/platform/auth';
import { errorHandler } from '../../src/platform/error-handler';
import { createLogger } from '../../src/platform/logger';
import { mountRoutes, route, type RouteDef } from '../../src/platform/routes';
import { SpecValidator } from '../../src/platform/spec-validate';

const reached: string[] = [];
const echo = (name: string): RouteDef['handler'] => (req, res) => {
  reached.push(name);
  res.json({ params: req.params, query: req.query, body: req.body });
};

// Every route is public here: the validator, not authentication, is under test.
const routes: RouteDef[] = [
  route('post', '/v1/users', 'public', echo('createUser')),
  route('get', '/v1/users', 'public', echo('listUsers')),
  route('post', '/v1/admin/users/{username}/keys', 'public', echo('createApiKey')),
  route('post', '/v1/algorithms/{owner}', 'public', echo('createAlgorithm')),
  route('get', '/v1/algorithms/{owner}/{name}/versions', 'public', echo('listVersions')),
  route('post', '/v1/algorithms/{owner}/{name}/versions', 'public', echo('publishVersion')),
  route('get', '/v1/algorithms/{owner}/{name}/builds', 'public', echo('listBuilds')),
  route('post', '/v1/algo/{owner}/{name}', 'public', echo('callAlgorithm'), { body: 'none' }),
  route('get', '/v1/admin/insights/live-tail', 'public', echo('liveTail')),
  route('put', '/v1/algorithms/{owner}/{name}/source', 'public', echo('putSource')),
];

const app = express();
app.set('query parser', 'simple');
app.use(mountRoutes(routes, { authenticator: {} as Authenticator, jsonLimit: '1mb', spec: new SpecValidator() }));
app.use(errorHandler(createLogger('silent')));
const http = supertest(app);

function assertInvalid(res: supertest.Response, fields: string[], code = 6001): void {
  assert.equal(res.status, 400, JSON.stringify(res.body));
  assert.equal(res.body.error.code, code);
  assert.deepEqual(res.body.error.details.map((d: { field: string }) => d.field).sort(), [...fields].sort());
  for (const d of res.body.error.details) {
    const label = d.field.split('.').slice(1).join('.') || d.field;
    assert.ok(d.message.startsWith(`'${label}' `), `the message names the field: ${d.message}`);
    assert.ok(res.body.error.message.includes(d.message));
  }
}

describe('the spec validator', () => {
  test('bad path params, query and body are one 400 with a detail per field', async () => {
    const res = await http.post('/v1/algorithms/9bad').send({ name: 'has space', settings: { environment: 'gpu', royalty_microcredits: 'many' } });
    assertInvalid(res, ['params.owner', 'body.name', 'body.settings.environment', 'body.settings.royalty_microcredits']);
    const byField = Object.fromEntries(res.body.error.details.map((d: { field: string; message: string }) => [d.field, d.message]));
    assert.equal(byField['body.name'], "'name' must start with a letter and contain only letters, digits and underscores");
    assert.equal(byField['body.settings.environment'], "'settings.environment' must be 'cpu' (Beacon has no GPU machines)");
    assert.equal(byField['body.settings.royalty_microcredits'], "'settings.royalty_microcredits' must be an integer");
    assertInvalid(await http.post('/v1/users').send({}), ['body.username']);
    assert.match((await http.post('/v1/users').send({})).body.error.message, /'username' is required/);
    assertInvalid(await http.post('/v1/users').send({ username: 'ok', email: 'not-an-email' }), ['body.email']);
    assertInvalid(await http.get('/v1/admin/insights/live-tail?algorithm=nope&after=-1'), ['query.algorithm', 'query.after']);
    assertInvalid(await http.post('/v1/admin/users/alice/keys').send({ expires_at: 'tomorrow', api_key: 'short' }), ['body.expires_at', 'body.api_key']);
  });

  test('a body that violates the spec never reaches its handler', async () => {
    reached.length = 0;
    for (const body of [[], 'text', { name: 42 }, { name: 'A'.repeat(65) }, { name: 'Ok', details: { label: ['x'] } }]) {
      const res = await http.post('/v1/algorithms/alice').send(body as object);
      assert.equal(res.status, 400, JSON.stringify(body));
    }
    assert.deepEqual(reached, []);
  });

  test('unknown keys are allowed where the spec allows them (the official clients send extras)', async () => {
    const body = { name: 'Hello', source: {}, scmsCredentials: {}, settings: { language: 'python3', package_set: 'x', username: 'alice' } };
    const res = await http.post('/v1/algorithms/alice').send(body);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.body.source, {});
    assert.equal(res.body.body.settings.package_set, 'x');
    assert.equal((await http.get('/v1/algorithms/alice/Hello/builds?extra=1')).status, 200, 'unknown query parameters pass');
    assertInvalid(await http.get('/v1/users?extra=1'), ['query.extra']); // x-strict-query
    // additionalProperties: false is kept to: a source tree is only its files.
    assertInvalid(await http.put('/v1/algorithms/alice/Hello/source').send({ files: { 'src/a.py': 'x' }, extra: 1 }), ['body.extra']);
    assertInvalid(await http.put('/v1/algorithms/alice/Hello/source').send({ files: { 'src/a.py': 7 } }), ['body.files.src/a.py']);
  });

  test('query and path values are converted to the documented types; booleans in any case and 1/0', async () => {
    const q = (await http.get('/v1/algorithms/alice/Hello/versions?published=True&callable=0&limit=7')).body.query;
    assert.deepEqual(q, { published: true, callable: false, limit: 7 });
    assert.equal((await http.get('/v1/algorithms/alice/Hello/versions?published=FALSE')).body.query.published, false);
    assertInvalid(await http.get('/v1/algorithms/alice/Hello/versions?published=maybe'), ['query.published']);
    const tail = (await http.get('/v1/admin/insights/live-tail?after=12')).body.query;
    assert.equal(tail.after, 12);
  });

  test('bodies are not converted: a string is not a boolean or a number', async () => {
    assertInvalid(await http.post('/v1/algorithms/alice').send({ name: 'X', settings: { pipeline_enabled: 'true' } }), ['body.settings.pipeline_enabled']);
  });

  test('documented defaults are filled in', async () => {
    assert.deepEqual((await http.get('/v1/users')).body.query, { limit: 100 });
    assertInvalid(await http.get('/v1/users?limit=1001'), ['query.limit']);
    assertInvalid(await http.get('/v1/users?limit=0'), ['query.limit']);
    const key = (await http.post('/v1/admin/users/alice/keys').send({})).body.body;
    assert.deepEqual(key, { key_label: '', key_type: 'AlgorithmKey', permissions: { allow_algo: true, allow_algo_management: true, algo_acl: ['algo://*'] } });
    const partial = (await http.post('/v1/admin/users/alice/keys').send({ permissions: { allow_algo: false } })).body.body;
    assert.deepEqual(partial.permissions, { allow_algo: false, allow_algo_management: true, algo_acl: ['algo://*'] });
    assert.deepEqual((await http.post('/v1/algorithms/alice').send({ name: 'X' })).body.body, { name: 'X', details: {}, settings: {} });
    const call = (await http.post('/v1/algo/alice/Hello?stdout=True').type('json').send('1')).body.query;
    assert.deepEqual(call, { stdout: true, timeout: 300, output: 'default' });
  });

  test('case-insensitive enums stand for their listed spelling', async () => {
    const res = await http.post('/v1/algorithms/alice/Hello/versions').send({ version_info: { version_type: 'MAJOR', git_hash: 'A'.repeat(40) } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.body.version_info.version_type, 'major');
    assert.equal((await http.post('/v1/algorithms/alice').send({ name: 'X', settings: { environment: 'CPU' } })).body.body.settings.environment, 'cpu');
    assert.equal((await http.post('/v1/algo/alice/Hello?output=RAW').type('json').send('1')).body.query.output, 'raw');
    assertInvalid(await http.post('/v1/algorithms/alice/Hello/versions').send({ version_info: { type: 'huge' } }), ['body.version_info.type']);
  });

  test('x-error-message and x-error-code: a paging limit is 5003, a timeout names its unit', async () => {
    assertInvalid(await http.get('/v1/algorithms/alice/Hello/builds?limit=0'), ['query.limit'], 5003);
    assertInvalid(await http.get('/v1/algorithms/alice/Hello/builds?limit=abc'), ['query.limit'], 5003);
    const slow = await http.post('/v1/algo/alice/Hello?timeout=0').type('json').send('1');
    assertInvalid(slow, ['query.timeout']);
    assert.equal(slow.body.error.details[0].message, "'timeout' must be more than 0 seconds");
    const word = await http.post('/v1/algo/alice/Hello?timeout=soon').type('json').send('1');
    assert.equal(word.body.error.details[0].message, "'timeout' must be a number of seconds");
    // Two codes at once fall back to the general one.
    assertInvalid(await http.get('/v1/algorithms/9x/Hello/builds?limit=0'), ['params.owner', 'query.limit'], 6001);
  });

  test('a route that openapi.yaml does not document cannot be mounted', () => {
    assert.throws(
      () => mountRoutes([route('get', '/v1/undocumented', 'public', echo('x'))], { authenticator: {} as Authenticator, jsonLimit: '1mb' }),
      /GET \/v1\/undocumented is not in .*openapi\.yaml/,
    );
  });
});
