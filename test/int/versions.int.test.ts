import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../support/app';
import { assertMatchesSpec } from '../support/openapi';
import { assertErrorObject, auth, compile, countRows, createAlgorithm, publish } from '../support/algorithms-fixtures';

let t: TestApp;
let alice: string;

before(async () => {
  t = await startTestApp();
  alice = await t.createUser('alice');
});
after(async () => t.close());

const versionsOf = async (name: string, query = '') => {
  const res = await t.request.get(`/v1/algorithms/alice/${name}/versions${query}`).set(auth(alice));
  assertMatchesSpec('get', '/v1/algorithms/{owner}/{name}/versions', res);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
};
const semvers = (page: { results: Array<{ version_info: { semantic_version?: string } }> }) =>
  page.results.map((r) => r.version_info.semantic_version ?? 'unpublished');

describe('publish', () => {
  test('{} publishes the newest build as a private 0.1.0 without Insights', async () => {
    await createAlgorithm(t, alice, 'alice', 'First');
    const built = await compile(t, alice, 'alice', 'First');
    const res = await t.request.post('/v1/algorithms/alice/First/versions').set(auth(alice)).send({});
    assertMatchesSpec('post', '/v1/algorithms/{owner}/{name}/versions', res);
    assert.equal(res.status, 200);
    const sha = built.version_info.git_hash;
    assert.equal(res.body.version_info.semantic_version, '0.1.0');
    assert.equal(res.body.version_info.git_hash, sha);
    assert.match(res.body.version_info.version_uuid, /^[0-9a-f-]{36}$/);
    assert.equal(res.body.version_info.insights_enabled, false);
    assert.equal(res.body.settings.insights_enabled, false);
    assert.equal(res.body.settings.algorithm_callability, 'private');
    assert.equal(res.body.build.build_id, built.build.build_id);
    assert.deepEqual(res.body.build.version_info, { semantic_version: '0.1.0' });
    assert.equal(res.body.build.resource_type, 'algorithm_build');
    assert.equal(res.body.compilation.successful, true);
    assert.equal(res.body.resource_type, 'algorithm');
    assert.equal(res.body.self_link, `${t.url}/v1/algorithms/alice/First/versions/${sha}`);
  });

  test('the seed curl call (raw JSON labelled as a form) enables Insights on that version only', async () => {
    await createAlgorithm(t, alice, 'alice', 'Seeded');
    await compile(t, alice, 'alice', 'Seeded');
    const res = await t.request
      .post('/v1/algorithms/alice/Seeded/version')
      .set('Authorization', `Simple ${alice}`)
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send('{"settings":{"insights_enabled":true}}');
    assertMatchesSpec('post', '/v1/algorithms/{owner}/{name}/version', res);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.settings.insights_enabled, true);
    assert.equal(res.body.version_info.insights_enabled, true);
    await compile(t, alice, 'alice', 'Seeded');
    const plain = await publish(t, alice, 'alice', 'Seeded', {});
    assert.equal(plain.settings.insights_enabled, false);

    const list = await versionsOf('Seeded', '?published=true');
    assert.deepEqual(
      list.results.map((r: any) => [r.version_info.semantic_version, r.settings.insights_enabled]),
      [['0.2.0', false], ['0.1.0', true]],
    );
    const byVersion = await t.request.get('/v1/algorithms/alice/Seeded/versions/0.1.0').set(auth(alice));
    assert.equal(byVersion.body.settings.insights_enabled, true);
    // version_info.insights_enabled (the OAS location) works as well.
    await compile(t, alice, 'alice', 'Seeded');
    const oas = await publish(t, alice, 'alice', 'Seeded', { version_info: { insights_enabled: true } });
    assert.equal(oas.settings.insights_enabled, true);
  });

  test('the bodies of the official clients', async () => {
    await createAlgorithm(t, alice, 'alice', 'Clients');
    // Python: /versions with everything, including empty source and scmsCredentials.
    await compile(t, alice, 'alice', 'Clients');
    const py = await publish(t, alice, 'alice', 'Clients', {
      details: { label: 'Client test' },
      settings: { algorithm_callability: 'public', insights_enabled: true },
      version_info: { version_type: 'minor', release_notes: 'created programmatically', sample_input: 'payload' },
      source: {},
      scmsCredentials: {},
    });
    assert.equal(py.version_info.semantic_version, '0.1.0');
    assert.equal(py.version_info.release_notes, 'created programmatically');
    assert.equal(py.version_info.sample_input, 'payload');
    assert.equal(py.settings.algorithm_callability, 'public');
    assert.equal(py.details.label, 'Client test');

    // Node TS: /version with its fixed revision body.
    await compile(t, alice, 'alice', 'Clients');
    const node = await t.request
      .post('/v1/algorithms/alice/Clients/version')
      .set(auth(alice))
      .send({ settings: { algorithm_callability: 'private', insights_enabled: false, royalty_microcredits: 0 }, version_info: { version_type: 'revision' } });
    assertMatchesSpec('post', '/v1/algorithms/{owner}/{name}/version', node);
    assert.equal(node.body.version_info.semantic_version, '0.1.1');
    assert.equal(node.body.settings.algorithm_callability, 'private');

    // Java: /version with an empty build object.
    await compile(t, alice, 'alice', 'Clients');
    const java = await t.request.post('/v1/algorithms/alice/Clients/version').set(auth(alice)).send({ build: {}, version_info: { version_type: 'major' } });
    assert.equal(java.status, 200);
    assert.equal(java.body.version_info.semantic_version, '1.0.0');
    // Callability defaults to the algorithm's current one (the last publish made it private).
    assert.equal(java.body.settings.algorithm_callability, 'private');
  });

  test('version arithmetic with every spelling', async () => {
    await createAlgorithm(t, alice, 'alice', 'Semver');
    const steps: Array<[unknown, string]> = [
      [{ version_info: { version_type: 'revision' } }, '0.0.1'],
      [{ version_info: { type: 'minor' } }, '0.1.0'],
      [{ version_info: { version_type: 'patch' } }, '0.1.1'],
      [{ version_info: { type: 'default' } }, '0.2.0'],
      [{ version_info: { version_type: 'MAJOR' } }, '1.0.0'],
      [{}, '1.1.0'],
      [{ version_info: { version_type: 'Revision', type: 'major' } }, '1.1.1'],
    ];
    for (const [body, expected] of steps) {
      await compile(t, alice, 'alice', 'Semver');
      assert.equal((await publish(t, alice, 'alice', 'Semver', body)).version_info.semantic_version, expected);
    }
  });

  test('publishing twice is 400 code 1007; without a successful build 400 code 1010', async () => {
    await createAlgorithm(t, alice, 'alice', 'Twice');
    const none = await t.request.post('/v1/algorithms/alice/Twice/versions').set(auth(alice)).send({});
    assertErrorObject(none, 400, 1010);
    assertMatchesSpec('post', '/v1/algorithms/{owner}/{name}/versions', none);

    await compile(t, alice, 'alice', 'Twice');
    await publish(t, alice, 'alice', 'Twice');
    const again = await t.request.post('/v1/algorithms/alice/Twice/version').set(auth(alice)).send({});
    assertErrorObject(again, 400, 1007);
    assert.equal(again.body.error.message, 'Version already published. Please compile your algorithm.');

    // A failed newest build does not count: the newest successful one is already published.
    await t.request.put('/v1/algorithms/alice/Twice/source').set(auth(alice)).send({ files: { 'src/Twice.py': 'def apply(:\n' } }).expect(200);
    assert.equal((await compile(t, alice, 'alice', 'Twice')).compilation.successful, false);
    assertErrorObject(await t.request.post('/v1/algorithms/alice/Twice/versions').set(auth(alice)).send({}), 400, 1007);

    await createAlgorithm(t, alice, 'alice', 'NeverBuilt');
    await t.request.put('/v1/algorithms/alice/NeverBuilt/source').set(auth(alice)).send({ files: { 'src/NeverBuilt.py': 'def apply(:\n' } }).expect(200);
    await compile(t, alice, 'alice', 'NeverBuilt');
    assertErrorObject(await t.request.post('/v1/algorithms/alice/NeverBuilt/versions').set(auth(alice)).send({}), 400, 1010);

    // A git_hash that is not the newest successful build is refused.
    await createAlgorithm(t, alice, 'alice', 'Pinned');
    const old = await compile(t, alice, 'alice', 'Pinned');
    await compile(t, alice, 'alice', 'Pinned');
    assertErrorObject(await t.request.post('/v1/algorithms/alice/Pinned/versions').set(auth(alice)).send({ version_info: { git_hash: old.version_info.git_hash } }), 400, 2015);
    assert.equal(await t.testDb.db('versions').join('algorithms', 'algorithms.id', 'versions.algorithm_id').where('algorithms.name', 'Pinned').count<{ count: string }[]>('* as count').first().then((r) => Number(r?.count)), 0);
  });

  test('bad publish bodies are 400 and publish nothing', async () => {
    await createAlgorithm(t, alice, 'alice', 'Picky');
    await compile(t, alice, 'alice', 'Picky');
    const before = await countRows(t, 'versions');
    const bad: unknown[] = [
      { version_info: { version_type: 'huge' } },
      { version_info: { type: 'build' } },
      { version_info: { version_type: 3 } },
      { version_info: 'minor' },
      { settings: { algorithm_callability: 'secret' } },
      { settings: { insights_enabled: 'sometimes' } },
      { version_info: { insights_enabled: 'sometimes' } },
      { version_info: { release_notes: 42 } },
      { version_info: { sample_input: { a: 1 } } },
      { version_info: { git_hash: 'abc' } },
      { details: { label: ['x'] } },
      { settings: { royalty_microcredits: 'lots' } },
      ['minor'],
    ];
    for (const body of bad) {
      const res = await t.request.post('/v1/algorithms/alice/Picky/versions').set(auth(alice)).send(body as object);
      assertErrorObject(res, 400, 6001);
      assertMatchesSpec('post', '/v1/algorithms/{owner}/{name}/versions', res);
    }
    assertErrorObject(await t.request.post('/v1/algorithms/alice/Picky/versions').set(auth(alice)).set('Content-Type', 'application/json').send('{"settings":'), 400, 2013);
    assert.equal(await countRows(t, 'versions'), before);
    // And the build is still publishable.
    assert.equal((await publish(t, alice, 'alice', 'Picky')).version_info.semantic_version, '0.1.0');
  });

  test('a published version is a snapshot: later updates do not change it', async () => {
    await createAlgorithm(t, alice, 'alice', 'Frozen');
    await compile(t, alice, 'alice', 'Frozen');
    await publish(t, alice, 'alice', 'Frozen', { details: { label: 'Frozen v1' }, settings: { algorithm_callability: 'public', insights_enabled: true } });
    const v1 = (await t.request.get('/v1/algorithms/alice/Frozen/versions/0.1.0').set(auth(alice))).body;
    await t.request.put('/v1/algorithms/alice/Frozen').set(auth(alice)).send({ details: { label: 'Frozen v2' }, settings: { license: 'mit', algorithm_callability: 'private' } }).expect(200);
    const after = await t.request.get('/v1/algorithms/alice/Frozen/versions/0.1.0').set(auth(alice));
    assertMatchesSpec('get', '/v1/algorithms/{owner}/{name}/versions/{version}', after);
    assert.deepEqual(after.body, v1);
    assert.equal(after.body.details.label, 'Frozen v1');
    assert.equal(after.body.settings.license, 'apl');
    assert.equal(after.body.settings.algorithm_callability, 'public');
    assert.equal(after.body.settings.insights_enabled, true);
  });
});

describe('create, compile, publish, call', () => {
  test('a new algorithm is callable by hash after compile and by version after publish, with no upload', async () => {
    await createAlgorithm(t, alice, 'alice', 'EndToEnd');
    const built = await compile(t, alice, 'alice', 'EndToEnd');
    const byHash = await t.request.post(`/v1/algo/alice/EndToEnd/${built.version_info.git_hash}`).set(auth(alice)).set('Content-Type', 'text/plain').send('Hash');
    assert.equal(byHash.status, 200, JSON.stringify(byHash.body));
    assert.equal(byHash.body.result, 'hello Hash');
    await publish(t, alice, 'alice', 'EndToEnd', { settings: { algorithm_callability: 'public' } });
    const byVersion = await t.request.post('/v1/algo/alice/EndToEnd/0.1.0').set(auth(alice)).set('Content-Type', 'text/plain').send('World');
    assert.equal(byVersion.status, 200, JSON.stringify(byVersion.body));
    assert.equal(byVersion.body.result, 'hello World');
  });
});

describe('concurrent publishes', () => {
  test('one build, ten publishes at once: exactly one wins, nine get 1007', async () => {
    await createAlgorithm(t, alice, 'alice', 'Crowd');
    await compile(t, alice, 'alice', 'Crowd');
    const results = await Promise.all(Array.from({ length: 10 }, () => t.request.post('/v1/algorithms/alice/Crowd/versions').set(auth(alice)).send({})));
    const ok = results.filter((r) => r.status === 200);
    assert.equal(ok.length, 1);
    for (const r of results.filter((x) => x.status !== 200)) assertErrorObject(r, 400, 1007);
    assert.equal((await versionsOf('Crowd', '?published=true')).results.length, 1);
  });

  test('compiles and publishes racing never produce two equal versions', async () => {
    await createAlgorithm(t, alice, 'alice', 'Race');
    await compile(t, alice, 'alice', 'Race');
    const requests = Array.from({ length: 12 }, (_, i) =>
      i % 2 === 0
        ? t.request.post('/v1/algorithms/alice/Race/compile').set(auth(alice)).send({})
        : t.request.post('/v1/algorithms/alice/Race/versions').set(auth(alice)).send({ version_info: { version_type: i % 4 === 1 ? 'minor' : 'revision' } }),
    );
    const results = await Promise.all(requests);
    const published = results.filter((r, i) => i % 2 === 1 && r.status === 200).map((r) => r.body.version_info.semantic_version);
    for (const [i, r] of results.entries()) {
      if (i % 2 === 0) assert.equal(r.status, 200, JSON.stringify(r.body));
      else if (r.status !== 200) assertErrorObject(r, 400, 1007);
    }
    assert.ok(published.length >= 1);
    assert.equal(new Set(published).size, published.length, `duplicate versions: ${published}`);
    const listed = semvers(await versionsOf('Race', '?published=true'));
    assert.deepEqual([...listed].sort(), [...published].sort());
    const rows = await t.testDb.db('versions as v').join('algorithms as a', 'a.id', 'v.algorithm_id').where('a.name', 'Race').select('v.major', 'v.minor', 'v.revision');
    assert.equal(rows.length, published.length);
    assert.equal(new Set(rows.map((r) => `${r.major}.${r.minor}.${r.revision}`)).size, rows.length);
  });
});

describe('list and get versions', () => {
  before(async () => {
    // Filtered: 0.1.0 public, 0.2.0 private, 0.3.0 public, then one unpublished build.
    await createAlgorithm(t, alice, 'alice', 'Filtered');
    for (const callability of ['public', 'private', 'public']) {
      await compile(t, alice, 'alice', 'Filtered');
      await publish(t, alice, 'alice', 'Filtered', { settings: { algorithm_callability: callability } });
    }
    await compile(t, alice, 'alice', 'Filtered');
  });

  test('published and callable filters, booleans in any case', async () => {
    assert.deepEqual(semvers(await versionsOf('Filtered')), ['unpublished', '0.3.0', '0.2.0', '0.1.0']);
    assert.deepEqual(semvers(await versionsOf('Filtered', '?published=true')), ['0.3.0', '0.2.0', '0.1.0']);
    assert.deepEqual(semvers(await versionsOf('Filtered', '?published=False')), ['unpublished']);
    assert.deepEqual(semvers(await versionsOf('Filtered', '?published=TRUE&callable=true')), ['0.3.0', '0.1.0']);
    // Node TS: callable=false&published=true lists the private versions only.
    assert.deepEqual(semvers(await versionsOf('Filtered', '?callable=false&limit=50&published=true')), ['0.2.0']);
    // The algorithm is public now (its last publish), so its unpublished build counts as callable.
    assert.deepEqual(semvers(await versionsOf('Filtered', '?callable=True')), ['unpublished', '0.3.0', '0.1.0']);
    assert.deepEqual(semvers(await versionsOf('Filtered', '?callable=false')), ['0.2.0']);
    const unpublished = (await versionsOf('Filtered', '?published=false')).results[0];
    assert.equal(unpublished.version_info.version_uuid, undefined);
    assert.equal(unpublished.build.version_info, undefined);
    assert.equal(unpublished.settings.insights_enabled, false);
    for (const bad of ['?published=yes', '?callable=2', '?published=true&published=false']) {
      assertErrorObject(await t.request.get(`/v1/algorithms/alice/Filtered/versions${bad}`).set(auth(alice)), 400, 6001);
    }
  });

  test('pages keep their filters; limit and marker are checked with object errors', async () => {
    const seen: string[] = [];
    let url: string | null = '/v1/algorithms/alice/Filtered/versions?limit=1&published=true';
    const links: string[] = [];
    while (url) {
      const page: any = await versionsOf('Filtered', url.replace(`${t.url}/v1/algorithms/alice/Filtered/versions`, '').replace('/v1/algorithms/alice/Filtered/versions', ''));
      seen.push(...semvers(page));
      if (page.next_link) links.push(page.next_link);
      url = page.next_link;
    }
    assert.deepEqual(seen, ['0.3.0', '0.2.0', '0.1.0']);
    for (const l of links) {
      assert.ok(l.startsWith(`${t.url}/v1/algorithms/alice/Filtered/versions?`), l);
      assert.match(l, /published=true/);
      assert.match(l, /limit=1/);
    }
    for (const limit of ['0', '1000000000', '101', 'x']) {
      const res = await t.request.get(`/v1/algorithms/alice/Filtered/versions?limit=${limit}`).set(auth(alice));
      assertErrorObject(res, 400, 5003);
      assertMatchesSpec('get', '/v1/algorithms/{owner}/{name}/versions', res);
    }
    const first = await versionsOf('Filtered', '?limit=1');
    const [payload, sig] = first.marker.split('.');
    const forged = `${Buffer.from(JSON.stringify({ p: '999999' })).toString('base64url')}.${sig}`;
    for (const marker of ['nope', forged, `${payload}.${sig.slice(1)}A`, encodeURIComponent('{"p":"1"}')]) {
      assertErrorObject(await t.request.get(`/v1/algorithms/alice/Filtered/versions?marker=${marker}`).set(auth(alice)), 400, 5002);
    }
    // Another algorithm's marker is refused too.
    const other = await versionsOf('Semver', '?limit=1');
    assertErrorObject(await t.request.get(`/v1/algorithms/alice/Filtered/versions?marker=${other.marker}`).set(auth(alice)), 400, 5002);
  });

  test('get one version by git hash (published or not) or semantic version; 404 code 1014 otherwise', async () => {
    const all = await versionsOf('Filtered');
    const path = '/v1/algorithms/{owner}/{name}/versions/{version}';
    for (const v of all.results) {
      const byHash = await t.request.get(`/v1/algorithms/alice/Filtered/versions/${v.version_info.git_hash}`).set(auth(alice));
      assertMatchesSpec('get', path, byHash);
      assert.deepEqual(byHash.body, v);
      const upper = await t.request.get(`/v1/algorithms/alice/Filtered/versions/${v.version_info.git_hash.toUpperCase()}`).set(auth(alice));
      assert.deepEqual(upper.body, v);
    }
    const bySemver = await t.request.get('/v1/algorithms/alice/Filtered/versions/0.2.0').set(auth(alice));
    assertMatchesSpec('get', path, bySemver);
    assert.equal(bySemver.body.version_info.semantic_version, '0.2.0');
    for (const missing of ['0.9.0', '1.0', 'latest', 'a'.repeat(40), '0.1.*', 'x'.repeat(64)]) {
      const res = await t.request.get(`/v1/algorithms/alice/Filtered/versions/${missing}`).set(auth(alice));
      assertErrorObject(res, 404, 1014);
      assertMatchesSpec('get', path, res);
    }
    // Hashes are per algorithm.
    const firstHash = (await versionsOf('First')).results[0].version_info.git_hash;
    assertErrorObject(await t.request.get(`/v1/algorithms/alice/Filtered/versions/${firstHash}`).set(auth(alice)), 404, 1014);
  });
});
