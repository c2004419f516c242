import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../support/app';
import { assertMatchesSpec } from '../support/openapi';
import { assertErrorObject, auth, compile, createAlgorithm } from '../support/algorithms-fixtures';

let t: TestApp;
let alice: string;

before(async () => {
  t = await startTestApp();
  alice = await t.createUser('alice');
});
after(async () => t.close());

const putSource = (name: string, files: Record<string, string>) =>
  t.request.put(`/v1/algorithms/alice/${name}/source`).set(auth(alice)).send({ files }).expect(200);

describe('compile', () => {
  test('the Hello World builds at once; the reply is a version object with the new git hash', async () => {
    await createAlgorithm(t, alice, 'alice', 'Hello');
    const res = await t.request.post('/v1/algorithms/alice/Hello/compile').set(auth(alice)).send({});
    assertMatchesSpec('post', '/v1/algorithms/{owner}/{name}/compile', res);
    assert.equal(res.status, 200);
    const sha = res.body.version_info.git_hash;
    assert.match(sha, /^[0-9a-f]{40}$/);
    assert.equal(res.body.version_info.semantic_version, undefined);
    assert.equal(res.body.build.commit_sha, sha);
    assert.equal(res.body.build.status, 'succeeded');
    assert.equal(res.body.build.version_info, undefined);
    assert.ok(Date.parse(res.body.build.finished_at) >= Date.parse(res.body.build.started_at));
    assert.equal(res.body.compilation.successful, true);
    assert.match(res.body.compilation.output, /Success/);
    assert.equal(res.body.self_link, `${t.url}/v1/algorithms/alice/Hello/versions/${sha}`);
    // The algorithm now shows its newest build.
    const algo = await t.request.get('/v1/algorithms/alice/Hello').set(auth(alice));
    assertMatchesSpec('get', '/v1/algorithms/{owner}/{name}', algo);
    assert.equal(algo.body.version_info.git_hash, sha);
    assert.equal(algo.body.self_link, res.body.self_link);
  });

  test('Java sends no body and no Content-Type; other JSON bodies are fine too', async () => {
    await createAlgorithm(t, alice, 'alice', 'JavaStyle');
    const java = await t.request.post('/v1/algorithms/alice/JavaStyle/compile').set(auth(alice));
    assert.equal(java.status, 200, JSON.stringify(java.body));
    assert.equal(java.request.getHeader('content-type'), undefined);
    assert.equal(java.body.compilation.successful, true);
    const odd = await t.request.post('/v1/algorithms/alice/JavaStyle/compile').set(auth(alice)).set('Content-Type', 'application/x-www-form-urlencoded').send('{"commitSha":"abc"}');
    assert.equal(odd.status, 200);
    assert.notEqual(odd.body.version_info.git_hash, java.body.version_info.git_hash, 'each compile is a new commit');
    assertErrorObject(await t.request.post('/v1/algorithms/alice/JavaStyle/compile').set(auth(alice)).set('Content-Type', 'application/json').send('{oops'), 400, 2013);
  });

  test('each language builds its Hello World', async () => {
    for (const language of ['javascript', 'r']) {
      const name = `Hello_${language}`;
      await createAlgorithm(t, alice, 'alice', name, { language });
      const res = await compile(t, alice, 'alice', name);
      assert.equal(res.compilation.successful, true, res.compilation.output);
      assert.equal(res.settings.language, language);
    }
  });

  test('a syntax error or a missing entry point is a failed build, not an HTTP error', async () => {
    await createAlgorithm(t, alice, 'alice', 'Broken');
    await putSource('Broken', { 'src/Broken.py': 'def apply(input):\n    return (\n', 'src/__init__.py': '' });
    const res = await t.request.post('/v1/algorithms/alice/Broken/compile').set(auth(alice)).send({});
    assertMatchesSpec('post', '/v1/algorithms/{owner}/{name}/compile', res);
    assert.equal(res.status, 200);
    assert.equal(res.body.compilation.successful, false);
    assert.equal(res.body.build.status, 'failed');
    assert.match(res.body.compilation.output, /SyntaxError|was never closed/);

    await putSource('Broken', { 'src/other.py': 'x = 1\n' });
    const missing = await compile(t, alice, 'alice', 'Broken');
    assert.equal(missing.compilation.successful, false);
    assert.match(missing.compilation.output, /src\/Broken\.py is missing/);

    const logs = await t.request.get(`/v1/algorithms/alice/Broken/builds/${missing.build.build_id}/logs`).set(auth(alice));
    assertMatchesSpec('get', '/v1/algorithms/{owner}/{name}/builds/{build_id}/logs', logs);
    assert.equal(logs.body.logs, missing.compilation.output);
  });

  test('a build keeps the source it was compiled from', async () => {
    await createAlgorithm(t, alice, 'alice', 'Snap');
    const first = await compile(t, alice, 'alice', 'Snap');
    await putSource('Snap', { 'src/Snap.py': 'def apply(input):\n    return "changed"\n' });
    const row = await t.testDb.db('builds').where({ id: first.build.build_id }).first('files');
    assert.match(row.files['src/Snap.py'], /hello/);
    const second = await compile(t, alice, 'alice', 'Snap');
    const row2 = await t.testDb.db('builds').where({ id: second.build.build_id }).first('files');
    assert.match(row2.files['src/Snap.py'], /changed/);
  });

  test('concurrent compiles each get their own commit', async () => {
    await createAlgorithm(t, alice, 'alice', 'Parallel');
    const results = await Promise.all(Array.from({ length: 6 }, () => t.request.post('/v1/algorithms/alice/Parallel/compile').set(auth(alice)).send({})));
    assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200, 200, 200]);
    assert.equal(new Set(results.map((r) => r.body.version_info.git_hash)).size, 6);
  });
});

describe('builds', () => {
  test('list newest first across pages; get one; logs', async () => {
    await createAlgorithm(t, alice, 'alice', 'Listed');
    const shas: string[] = [];
    for (let i = 0; i < 5; i++) shas.push((await compile(t, alice, 'alice', 'Listed')).version_info.git_hash);
    const seen: string[] = [];
    let url: string | null = '/v1/algorithms/alice/Listed/builds?limit=2';
    while (url) {
      const res: { status: number; body: any } = await t.request.get(url.replace(t.url, '')).set(auth(alice));
      assertMatchesSpec('get', '/v1/algorithms/{owner}/{name}/builds', res);
      seen.push(...res.body.results.map((b: { commit_sha: string }) => b.commit_sha));
      url = res.body.next_link;
    }
    assert.deepEqual(seen, [...shas].reverse());

    const all = await t.request.get('/v1/algorithms/alice/Listed/builds').set(auth(alice));
    assert.equal(all.body.marker, null);
    assert.equal(all.body.next_link, null);
    const id = all.body.results[0].build_id;
    const one = await t.request.get(`/v1/algorithms/alice/Listed/builds/${id}`).set(auth(alice));
    assertMatchesSpec('get', '/v1/algorithms/{owner}/{name}/builds/{build_id}', one);
    assert.deepEqual(one.body, all.body.results[0]);
    const upper = await t.request.get(`/v1/algorithms/alice/Listed/builds/${id.toUpperCase()}`).set(auth(alice));
    assert.equal(upper.body.build_id, id);
  });

  test('unknown or malformed build ids are 404 code 1010; bad limits and markers are 5003 / 5002', async () => {
    await createAlgorithm(t, alice, 'alice', 'Lookups');
    await compile(t, alice, 'alice', 'Lookups');
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid', '1', "x' OR 1=1 --"]) {
      const res = await t.request.get(`/v1/algorithms/alice/Lookups/builds/${encodeURIComponent(id)}`).set(auth(alice));
      assertErrorObject(res, 404, 1010);
      assertMatchesSpec('get', '/v1/algorithms/{owner}/{name}/builds/{build_id}', res);
      assertErrorObject(await t.request.get(`/v1/algorithms/alice/Lookups/builds/${encodeURIComponent(id)}/logs`).set(auth(alice)), 404, 1010);
    }
    // Another algorithm's build is not this one's.
    const other = await compile(t, alice, 'alice', 'Listed');
    assertErrorObject(await t.request.get(`/v1/algorithms/alice/Lookups/builds/${other.build.build_id}`).set(auth(alice)), 404, 1010);

    for (const limit of ['0', '1000000000', '-3', 'abc']) {
      const res = await t.request.get(`/v1/algorithms/alice/Lookups/builds?limit=${limit}`).set(auth(alice));
      assertErrorObject(res, 400, 5003);
      assertMatchesSpec('get', '/v1/algorithms/{owner}/{name}/builds', res);
    }
    for (const marker of ['garbage', 'eyJwIjoiMSJ9.AAAAAAAAAAAAAAAAAAAAAA', '']) {
      assertErrorObject(await t.request.get(`/v1/algorithms/alice/Lookups/builds?marker=${marker}`).set(auth(alice)), 400, 5002);
    }
    // A marker of the versions list (same algorithm) is not a builds marker.
    await compile(t, alice, 'alice', 'Lookups');
    const versions = await t.request.get('/v1/algorithms/alice/Lookups/versions?limit=1').set(auth(alice));
    assert.ok(versions.body.marker);
    assertErrorObject(await t.request.get(`/v1/algorithms/alice/Lookups/builds?marker=${versions.body.marker}`).set(auth(alice)), 400, 5002);
  });

  test('a build still in progress has no logs yet (404 code 1011)', async () => {
    await createAlgorithm(t, alice, 'alice', 'Slow');
    const done = await compile(t, alice, 'alice', 'Slow');
    // Simulate a build caught mid-way: the state a concurrent reader can see.
    await t.testDb.db('builds').where({ id: done.build.build_id }).update({ status: 'in-progress', finished_at: null });
    assertErrorObject(await t.request.get(`/v1/algorithms/alice/Slow/builds/${done.build.build_id}/logs`).set(auth(alice)), 404, 1011);
    const b = await t.request.get(`/v1/algorithms/alice/Slow/builds/${done.build.build_id}`).set(auth(alice));
    assertMatchesSpec('get', '/v1/algorithms/{owner}/{name}/builds/{build_id}', b);
    assert.equal(b.body.status, 'in-progress');
    assert.equal(b.body.finished_at, null);
  });
});
