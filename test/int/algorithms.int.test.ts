import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/app';
import { assertMatchesSpec } from '../support/openapi';
import { assertErrorObject, auth, createAlgorithm, PY_SETTINGS, snapshotCounts } from '../support/algorithms-fixtures';

let t: TestApp;
let alice: string; // owner, full rights
let bob: string; // another user
let readOnly: string; // alice's key without allow_algo_management

before(async () => {
  t = await startTestApp();
  alice = await t.createUser('alice');
  bob = await t.createUser('bob');
  const res = await t.request
    .post('/v1/admin/users/alice/keys')
    .set(auth(ADMIN_KEY))
    .send({ permissions: { allow_algo: true, allow_algo_management: false } })
    .expect(201);
  readOnly = res.body.api_key;
});
after(async () => t.close());

describe('environments', () => {
  test('languages and one stable environment per language', async () => {
    const langs = await t.request.get('/v1/algorithm-environments/edge/languages').set(auth(alice));
    assertMatchesSpec('get', '/v1/algorithm-environments/edge/languages', langs);
    assert.deepEqual(langs.body.map((l: { name: string }) => l.name).sort(), ['javascript', 'python3', 'r']);
    assert.deepEqual(Object.keys(JSON.parse(langs.body[0].configuration)).sort(), ['display_name', 'entry_point']);

    const path = '/v1/algorithm-environments/edge/languages/{language}/environments';
    const py = await t.request.get('/v1/algorithm-environments/edge/languages/python3/environments').set(auth(alice));
    assertMatchesSpec('get', path, py);
    const alias = await t.request.get('/v1/algorithm-environments/edge/languages/python3-1/environments').set(auth(alice));
    assert.deepEqual(alias.body, py.body);
    const js = await t.request.get('/v1/algorithm-environments/edge/languages/nodejs/environments').set(auth(alice));
    assert.equal(js.body.environments[0].language.name, 'javascript');
    assert.notEqual(js.body.environments[0].id, py.body.environments[0].id);
  });

  test('an unknown language is 400 code 4001; no key is 401', async () => {
    assertErrorObject(await t.request.get('/v1/algorithm-environments/edge/languages/cobol/environments').set(auth(alice)), 400, 4001);
    assertErrorObject(await t.request.get('/v1/algorithm-environments/edge/languages'), 401, 2002);
  });
});

describe('create', () => {
  test('creates a private algorithm with the Hello World source of its language', async () => {
    const res = await t.request.post('/v1/algorithms/alice').set(auth(alice)).send({ name: 'Hello', details: { label: 'Greeter' }, settings: PY_SETTINGS });
    assertMatchesSpec('post', '/v1/algorithms/{owner}', res);
    assert.equal(res.status, 201);
    assert.equal(res.body.name, 'Hello');
    assert.equal(res.body.details.label, 'Greeter');
    assert.equal(res.body.settings.algorithm_callability, 'private');
    assert.equal(res.body.settings.insights_enabled, false);
    assert.equal(res.body.settings.language, 'python3');
    assert.deepEqual(res.body.source, { scm: { id: 'internal', provider: 'internal', default: true, enabled: true } });
    assert.equal(res.body.self_link, `${t.url}/v1/algorithms/alice/Hello`);
    assert.equal(res.body.build, undefined);

    const src = await t.request.get('/v1/algorithms/alice/Hello/source').set(auth(alice));
    assertMatchesSpec('get', '/v1/algorithms/{owner}/{name}/source', src);
    assert.equal(src.body.entry_point, 'src/Hello.py');
    assert.match(src.body.files['src/Hello.py'], /def apply\(input\):\n {4}return "hello \{\}"\.format\(input\)/);
  });

  test('the language may come from algorithm_environment (Python client), and licence is an alias', async () => {
    const envs = await t.request.get('/v1/algorithm-environments/edge/languages/javascript/environments').set(auth(alice));
    const envId = envs.body.environments[0].id;
    const res = await t.request
      .post('/v1/algorithms/alice')
      .set(auth(alice))
      .send({ name: 'JsOne', details: { label: 'js' }, settings: { algorithm_environment: envId, licence: 'mit', source_visibility: 'open', network_access: 'isolated', pipeline_enabled: false, username: 'alice', package_set: 'x' }, source: {}, scmsCredentials: {} });
    assertMatchesSpec('post', '/v1/algorithms/{owner}', res);
    assert.equal(res.body.settings.language, 'javascript');
    assert.equal(res.body.settings.algorithm_environment, envId);
    assert.equal(res.body.settings.license, 'mit');
    assert.equal(res.body.settings.network_access, 'isolated');
    assert.equal(res.body.settings.pipeline_enabled, false);
    // Create never makes an algorithm public or Insights-enabled.
    const forced = await t.request.post('/v1/algorithms/alice').set(auth(alice)).send({ name: 'Forced', settings: { language: 'r', algorithm_callability: 'public', insights_enabled: true } });
    assert.equal(forced.status, 201);
    assert.equal(forced.body.settings.algorithm_callability, 'private');
    assert.equal(forced.body.settings.insights_enabled, false);
    assert.equal(forced.body.details.label, 'Forced');
  });

  test('bad input is a 400 and creates nothing', async () => {
    const before = await snapshotCounts(t);
    const cases: Array<[unknown, number]> = [
      [{ name: 'X1', settings: { language: 'cobol' } }, 4001],
      [{ name: 'X2', settings: { algorithm_environment: '11111111-1111-4111-8111-111111111111' } }, 4001],
      [{ name: 'X3', settings: { language: 'python3', algorithm_environment: '0b1e7c5a-3f5e-4d2a-9c61-5e2f3b7a9d02' } }, 4001],
      [{ name: 'X4', settings: {} }, 4001],
      [{ name: 'X5' }, 4001],
      [{ name: '1abc', settings: PY_SETTINGS }, 6001],
      [{ name: 'with-dash', settings: PY_SETTINGS }, 6001],
      [{ name: '', settings: PY_SETTINGS }, 6001],
      [{ name: `a${'b'.repeat(64)}`, settings: PY_SETTINGS }, 6001],
      [{ settings: PY_SETTINGS }, 6001],
      [{ name: 42, settings: PY_SETTINGS }, 6001],
      [{ name: 'X6', settings: { ...PY_SETTINGS, license: 'bsd' } }, 6001],
      [{ name: 'X7', settings: { ...PY_SETTINGS, network_access: 'some' } }, 6001],
      [{ name: 'X8', settings: { ...PY_SETTINGS, pipeline_enabled: 'maybe' } }, 6001],
      [{ name: 'X9', settings: { ...PY_SETTINGS, environment: 'gpu' } }, 6001],
      [{ name: 'X10', settings: { ...PY_SETTINGS, royalty_microcredits: -1 } }, 6001],
      [{ name: 'X11', settings: 'python3' }, 6001],
      [{ name: 'X12', details: { label: 7 }, settings: PY_SETTINGS }, 6001],
      [[{ name: 'X13' }], 6001],
    ];
    for (const [body, code] of cases) {
      const res = await t.request.post('/v1/algorithms/alice').set(auth(alice)).send(body as object);
      assertErrorObject(res, 400, code);
      assertMatchesSpec('post', '/v1/algorithms/{owner}', res);
    }
    const malformed = await t.request.post('/v1/algorithms/alice').set(auth(alice)).set('Content-Type', 'application/json').send('{"name": "X14",');
    assertErrorObject(malformed, 400, 2013);
    const huge = await t.request.post('/v1/algorithms/alice').set(auth(alice)).send({ name: 'X15', settings: PY_SETTINGS, details: { summary: 'x'.repeat(3 * 1024 * 1024) } });
    assertErrorObject(huge, 413, 6002);
    assert.deepEqual(await snapshotCounts(t), before);
  });

  test('a taken name is 409 code 1002, case-insensitively, and a race has one winner', async () => {
    await createAlgorithm(t, alice, 'alice', 'Taken');
    const again = await t.request.post('/v1/algorithms/alice').set(auth(alice)).send({ name: 'tAKEN', settings: PY_SETTINGS });
    assertErrorObject(again, 409, 1002);
    assertMatchesSpec('post', '/v1/algorithms/{owner}', again);
    // bob may use the same name: names are per owner.
    await createAlgorithm(t, bob, 'bob', 'Taken');

    const racing = await Promise.all(
      Array.from({ length: 6 }, () => t.request.post('/v1/algorithms/alice').set(auth(alice)).send({ name: 'Raced', settings: PY_SETTINGS })),
    );
    assert.deepEqual(racing.map((r) => r.status).sort(), [201, 409, 409, 409, 409, 409]);
    for (const r of racing.filter((x) => x.status === 409)) assert.equal(r.body.error.code, 1002);
  });
});

describe('who may manage', () => {
  const paths = ['/v1/algorithms/alice/Guarded', '/v1/algorithms/alice/Guarded/source', '/v1/algorithms/alice/Guarded/versions', '/v1/algorithms/alice/Guarded/builds', '/v1/algorithms/alice/Guarded/scm/status'];
  before(async () => {
    await createAlgorithm(t, alice, 'alice', 'Guarded');
  });

  test('401 without a key or with a bad one, 403 for the wrong key or the wrong user', async () => {
    for (const p of paths) {
      assertErrorObject(await t.request.get(p), 401, 2002);
      assertErrorObject(await t.request.get(p).set('Authorization', 'Simple simNoSuchKey000000000000000000'), 401, 2002);
      assertErrorObject(await t.request.get(p).set(auth(readOnly)), 403, 2001);
      assertErrorObject(await t.request.get(p).set(auth(ADMIN_KEY)), 403, 2001);
      if (p !== '/v1/algorithms/alice/Guarded') assertErrorObject(await t.request.get(p).set(auth(bob)), 403, 2001);
    }
    // Not even the existence of someone else's algorithm leaks: a private one and a missing one both
    // answer 404 "No such algorithm", so the Python client's exists() is False for either.
    for (const name of ['Guarded', 'NoSuchThing']) {
      const res = await t.request.get(`/v1/algorithms/alice/${name}`).set(auth(bob));
      assert.equal(res.status, 404);
      assert.deepEqual(res.body, { error: 'No such algorithm' });
    }
    assertErrorObject(await t.request.post('/v1/algorithms/alice').set(auth(bob)).send({ name: 'Intruder', settings: PY_SETTINGS }), 403, 2001);
    assertErrorObject(await t.request.post('/v1/algorithms/alice').send({ name: 'Intruder', settings: PY_SETTINGS }), 401, 2002);
    assertErrorObject(await t.request.get('/v1/users/alice/algorithms').set(auth(bob)), 403, 2001);
  });

  test('writes by others are refused and change nothing', async () => {
    const before = await snapshotCounts(t);
    const original = (await t.request.get('/v1/algorithms/alice/Guarded').set(auth(alice))).body;
    assertErrorObject(await t.request.put('/v1/algorithms/alice/Guarded').set(auth(bob)).send({ details: { label: 'pwned' } }), 403, 2001);
    assertErrorObject(await t.request.delete('/v1/algorithms/alice/Guarded').set(auth(bob)), 403, 2001);
    assertErrorObject(await t.request.put('/v1/algorithms/alice/Guarded/source').set(auth(bob)).send({ files: { 'src/Guarded.py': 'x' } }), 403, 2001);
    assertErrorObject(await t.request.post('/v1/algorithms/alice/Guarded/compile').set(auth(bob)).send({}), 403, 2001);
    assertErrorObject(await t.request.post('/v1/algorithms/alice/Guarded/versions').set(auth(bob)).send({}), 403, 2001);
    assertErrorObject(await t.request.post('/v1/algorithms/alice/Guarded/compile').set(auth(readOnly)).send({}), 403, 2001);
    assertErrorObject(await t.request.delete('/v1/algorithms/alice/Guarded').set(auth(ADMIN_KEY)), 403, 2001);
    assert.deepEqual(await snapshotCounts(t), before);
    assert.deepEqual((await t.request.get('/v1/algorithms/alice/Guarded').set(auth(alice))).body, original);
  });
});

describe('get, update, delete', () => {
  test('get by any case of the name; Node TS GET headers work', async () => {
    await createAlgorithm(t, alice, 'alice', 'Reader');
    const res = await t.request.get('/v1/algorithms/alice/rEADER').set(auth(alice)).set('Content-Type', 'application/json').set('Accept', 'application/octet-stream');
    assertMatchesSpec('get', '/v1/algorithms/{owner}/{name}', res);
    assert.equal(res.status, 200);
    assert.equal(res.body.name, 'Reader');
    const scm = await t.request.get('/v1/algorithms/alice/Reader/scm/status').set(auth(alice));
    assertMatchesSpec('get', '/v1/algorithms/{owner}/{name}/scm/status', scm);
    assert.deepEqual(scm.body, { scm_connection_status: 'active' });
  });

  test('a missing algorithm: exactly {"error":"No such algorithm"} on GET, the object form elsewhere', async () => {
    const res = await t.request.get('/v1/algorithms/alice/Missing').set(auth(alice));
    assert.equal(res.status, 404);
    assert.deepEqual(res.body, { error: 'No such algorithm' });
    assertMatchesSpec('get', '/v1/algorithms/{owner}/{name}', res);
    assertErrorObject(await t.request.put('/v1/algorithms/alice/Missing').set(auth(alice)).send({}), 404, 1000);
    assertErrorObject(await t.request.delete('/v1/algorithms/alice/Missing').set(auth(alice)), 404, 1000);
    assertErrorObject(await t.request.get('/v1/algorithms/alice/Missing/versions').set(auth(alice)), 404, 1000);
    assertErrorObject(await t.request.get('/v1/algorithms/alice/Missing/builds').set(auth(alice)), 404, 1000);
    assertErrorObject(await t.request.get('/v1/algorithms/alice/Missing/source').set(auth(alice)), 404, 1000);
    assertErrorObject(await t.request.get('/v1/algorithms/alice/Missing/scm/status').set(auth(alice)), 404, 1000);
    assertErrorObject(await t.request.post('/v1/algorithms/alice/Missing/compile').set(auth(alice)), 404, 1000);
    assertErrorObject(await t.request.post('/v1/algorithms/alice/Missing/version').set(auth(alice)).send({}), 404, 1000);
  });

  test('update merges details and settings', async () => {
    await createAlgorithm(t, alice, 'alice', 'Updated');
    const res = await t.request
      .put('/v1/algorithms/alice/Updated')
      .set(auth(alice))
      .send({ details: { tagline: 'new tagline' }, settings: { licence: 'gpl3', source_visibility: 'open', language: 'python', algorithm_callability: 'public' }, version_info: { sample_input: 'x' }, source: {} });
    assertMatchesSpec('put', '/v1/algorithms/{owner}/{name}', res);
    assert.equal(res.status, 200);
    assert.equal(res.body.details.label, 'Updated');
    assert.equal(res.body.details.tagline, 'new tagline');
    assert.equal(res.body.settings.license, 'gpl3');
    assert.equal(res.body.settings.source_visibility, 'open');
    assert.equal(res.body.settings.network_access, 'full');
    assert.equal(res.body.settings.algorithm_callability, 'public');
    const again = await t.request.get('/v1/algorithms/alice/Updated').set(auth(alice));
    assert.deepEqual(again.body, res.body);
  });

  test('bad updates (Python form-encoded body, wrong types, a new language) are 400 and change nothing', async () => {
    await createAlgorithm(t, alice, 'alice', 'Stable');
    const original = (await t.request.get('/v1/algorithms/alice/Stable').set(auth(alice))).body;
    const form = await t.request.put('/v1/algorithms/alice/Stable').set(auth(alice)).type('form').send('details=label&settings=insights_enabled');
    assertErrorObject(form, 400, 2013);
    assertMatchesSpec('put', '/v1/algorithms/{owner}/{name}', form);
    assertErrorObject(await t.request.put('/v1/algorithms/alice/Stable').set(auth(alice)).send({ settings: { license: 'proprietary' } }), 400, 6001);
    assertErrorObject(await t.request.put('/v1/algorithms/alice/Stable').set(auth(alice)).send({ details: 'label' }), 400, 6001);
    assertErrorObject(await t.request.put('/v1/algorithms/alice/Stable').set(auth(alice)).send({ settings: { pipeline_enabled: 3 } }), 400, 6001);
    assertErrorObject(await t.request.put('/v1/algorithms/alice/Stable').set(auth(alice)).send({ settings: { language: 'r' } }), 400, 6001);
    assertErrorObject(await t.request.put('/v1/algorithms/alice/Stable').set(auth(alice)).send({ settings: { language: 'cobol' } }), 400, 4001);
    assert.deepEqual((await t.request.get('/v1/algorithms/alice/Stable').set(auth(alice))).body, original);
  });

  test('delete answers 204 with an empty body and removes builds and versions', async () => {
    await createAlgorithm(t, alice, 'alice', 'Doomed');
    await t.request.post('/v1/algorithms/alice/Doomed/compile').set(auth(alice)).expect(200);
    await t.request.post('/v1/algorithms/alice/Doomed/versions').set(auth(alice)).send({}).expect(200);
    const before = await snapshotCounts(t);
    const res = await t.request.delete('/v1/algorithms/alice/Doomed').set(auth(alice)).set('Content-Type', 'application/json');
    assert.equal(res.status, 204);
    assert.equal(res.text, '');
    const after = await snapshotCounts(t);
    assert.deepEqual(after, { algorithms: before.algorithms - 1, algorithm_sources: before.algorithm_sources - 1, builds: before.builds - 1, versions: before.versions - 1 });
    assert.deepEqual((await t.request.get('/v1/algorithms/alice/Doomed').set(auth(alice))).body, { error: 'No such algorithm' });
    // The name is free again.
    await createAlgorithm(t, alice, 'alice', 'Doomed');
  });
});

describe('list a user algorithms', () => {
  test('pages by name with absolute next links; limit and marker are checked', async () => {
    const carol = await t.createUser('carol');
    for (const n of ['e_five', 'A_one', 'd_four', 'B_two', 'c_three']) await createAlgorithm(t, carol, 'carol', n);
    const seen: string[] = [];
    let url: string | null = '/v1/users/carol/algorithms?limit=2';
    let pages = 0;
    while (url) {
      const res: { status: number; body: any } = await t.request.get(url.replace(t.url, '')).set(auth(carol));
      assertMatchesSpec('get', '/v1/users/{username}/algorithms', res);
      seen.push(...res.body.results.map((a: { name: string }) => a.name));
      if (res.body.next_link) assert.ok(res.body.next_link.startsWith(`${t.url}/v1/users/carol/algorithms?`), res.body.next_link);
      url = res.body.next_link;
      pages++;
    }
    assert.equal(pages, 3);
    assert.deepEqual(seen, ['A_one', 'B_two', 'c_three', 'd_four', 'e_five']);

    const first = await t.request.get('/v1/users/carol/algorithms?limit=2').set(auth(carol));
    assertErrorObject(await t.request.get('/v1/users/carol/algorithms?limit=0').set(auth(carol)), 400, 5003);
    assertErrorObject(await t.request.get('/v1/users/carol/algorithms?limit=1000000000').set(auth(carol)), 400, 5003);
    assertErrorObject(await t.request.get('/v1/users/carol/algorithms?marker=eyJwIjoiYiJ9').set(auth(carol)), 400, 5002);
    // Alice's marker is not valid for carol's list.
    const aliceList = await t.request.get('/v1/users/alice/algorithms?limit=1').set(auth(alice));
    assertErrorObject(await t.request.get(`/v1/users/carol/algorithms?marker=${aliceList.body.marker}`).set(auth(carol)), 400, 5002);
    const tampered = first.body.marker.replace(/^./, (c: string) => (c === 'e' ? 'f' : 'e'));
    assertErrorObject(await t.request.get(`/v1/users/carol/algorithms?marker=${tampered}`).set(auth(carol)), 400, 5002);
  });
});

describe('source', () => {
  before(async () => {
    await createAlgorithm(t, alice, 'alice', 'Sourced');
  });

  test('PUT replaces the whole tree and GET returns it', async () => {
    const files = { 'src/Sourced.py': 'from .helper import greet\n\ndef apply(input):\n    return greet(input)\n', 'src/helper.py': 'def greet(x):\n    return "Hi " + x\n', 'src/__init__.py': '', 'README.md': '# Sourced\n' };
    const res = await t.request.put('/v1/algorithms/alice/Sourced/source').set(auth(alice)).send({ files });
    assertMatchesSpec('put', '/v1/algorithms/{owner}/{name}/source', res);
    assert.deepEqual(res.body.files, files);
    const got = await t.request.get('/v1/algorithms/alice/Sourced/source').set(auth(alice));
    assert.deepEqual(got.body.files, files);
    assert.equal(got.body.language, 'python3');
  });

  test('unsafe paths, too many or too large files are 400 and change nothing', async () => {
    const before = (await t.request.get('/v1/algorithms/alice/Sourced/source').set(auth(alice))).body;
    const MiB = 1024 * 1024;
    const bad: unknown[] = [
      { files: { '../evil.py': 'x' } },
      { files: { 'src/../../evil.py': 'x' } },
      { files: { '/etc/passwd': 'x' } },
      { files: { 'src\\evil.py': 'x' } },
      { files: { 'src/a\u0000.py': 'x' } },
      { files: { 'src//a.py': 'x' } },
      { files: { './src/a.py': 'x' } },
      { files: { 'C:/a.py': 'x' } },
      { files: { 'src/a.py': 42 } },
      { files: { 'src/a.py': null } },
      { files: {} },
      { files: ['src/a.py'] },
      { files: 'src/a.py' },
      {},
      { files: Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`src/f${i}.py`, ''])) },
      { files: { 'src/big.py': 'x'.repeat(MiB + 1) } },
      { files: Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`src/f${i}.py`, 'x'.repeat(MiB - 10)])) },
    ];
    for (const body of bad) {
      const res = await t.request.put('/v1/algorithms/alice/Sourced/source').set(auth(alice)).send(body as object);
      assertErrorObject(res, 400, 6001);
      assertMatchesSpec('put', '/v1/algorithms/{owner}/{name}/source', res);
    }
    const oversize = await t.request.put('/v1/algorithms/alice/Sourced/source').set(auth(alice)).send({ files: { a: 'x'.repeat(13 * MiB) } });
    assertErrorObject(oversize, 413, 6002);
    assert.deepEqual((await t.request.get('/v1/algorithms/alice/Sourced/source').set(auth(alice))).body, before);
  });

  test('a 5 MiB tree in 200 files is accepted', async () => {
    const per = Math.floor((5 * 1024 * 1024) / 200);
    const files = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`data/f${i}.txt`, 'y'.repeat(per)]));
    const res = await t.request.put('/v1/algorithms/alice/Sourced/source').set(auth(alice)).send({ files });
    assert.equal(res.status, 200);
    assert.equal(Object.keys(res.body.files).length, 200);
  });
});
