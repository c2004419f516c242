import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/app';
import { assertErrorShape, spec } from '../support/openapi';
import { hostileValue, mutatedArbitrary, validArbitrary } from '../support/schema-arbitrary';

// Property-based hostile input: requests generated from openapi.yaml for every operation, with a
// fixed seed and a bounded number of cases. Never a 5xx; every error in the documented shape;
// a rejected request changes nothing.

const SEED = 20261129;
const RUNS_PER_OPERATION = Number(process.env.HOSTILE_RUNS ?? 25);

let t: TestApp;
let userKey: string;
let otherKey: string;
const fixture: Record<string, string> = { owner: 'demo', username: 'demo', victim: 'victim', name: 'hello', version: '0.1.0', language: 'python3' };

before(async () => {
  t = await startTestApp();
  userKey = await t.createUser('demo');
  otherKey = await t.createUser('mallory');
  // DELETE /v1/users/{username} with the admin key succeeds; it gets a user of its own to delete, not demo.
  await t.createUser('victim');
  const auth = { Authorization: `Simple ${userKey}` };
  const created = await t.request.post('/v1/algorithms/demo').set(auth).send({
    name: 'hello',
    details: { label: 'Hello' },
    settings: { language: 'python3', source_visibility: 'closed', license: 'apl', network_access: 'full', pipeline_enabled: false },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  fixture.algorithmId = created.body.id;
  const compiled = await t.request.post('/v1/algorithms/demo/hello/compile').set(auth).send({});
  assert.equal(compiled.status, 200, JSON.stringify(compiled.body));
  fixture.build_id = compiled.body.build.build_id;
  fixture.git_hash = compiled.body.version_info.git_hash;
  const published = await t.request
    .post('/v1/algorithms/demo/hello/versions')
    .set(auth)
    .send({ settings: { algorithm_callability: 'public', insights_enabled: true } });
  assert.equal(published.status, 200, JSON.stringify(published.body));
});

after(async () => t.close());

/** Everything a rejected request must leave untouched. */
async function fingerprint(): Promise<string> {
  const r = await t.testDb.db.raw(`
    SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM api_keys) AS keys,
           (SELECT md5(coalesce(string_agg(a::text, ',' ORDER BY a.id), '')) FROM algorithms a) AS algorithms,
           (SELECT md5(coalesce(string_agg(s::text, ',' ORDER BY s.algorithm_id), '')) FROM algorithm_sources s) AS sources,
           (SELECT count(*) FROM builds) AS builds, (SELECT count(*) FROM versions) AS versions,
           (SELECT md5(coalesce(string_agg(c::text, ','), '')) FROM insights_connection c) AS connection`);
  return JSON.stringify(r.rows[0]);
}

const authHeaders = fc.constantFrom<Record<string, string>>(
  {},
  { Authorization: `Simple ${ADMIN_KEY}` },
  { Authorization: ADMIN_KEY },
  { Authorization: 'Simple USERKEY' },
  { Authorization: 'USERKEY' },
  { Authorization: 'Simple OTHERKEY' },
  { Authorization: 'Simple simNotARealKey000000000000000' },
  { Authorization: 'Bearer not.a.jwt' },
  { Authorization: 'Basic Zm9vOmJhcg==' },
  { Authorization: 'Simple a b c' },
);

const contentTypes = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'text/plain; charset=latin1',
  'text/plain; charset=klingon',
  'application/octet-stream',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  '',
);

const pathValue = (name: string) =>
  fc.oneof(
    { weight: 5, arbitrary: fc.constant(fixture[name] ?? 'x') },
    { weight: 1, arbitrary: fc.constant(fixture.git_hash ?? 'x') },
    { weight: 3, arbitrary: hostileValue.map((v) => String(typeof v === 'object' ? JSON.stringify(v)?.slice(0, 50) : v)) },
  );

// Text that PostgreSQL cannot store or UTF-8 cannot encode, and percent-encodings that do not decode:
// placed raw in a path segment, appended to every string of a JSON body, or sent as escapes in raw JSON.
const MALFORMED_SEGMENTS = ['%FF', '%ED%A0%80', '%00', 'a%00b', '%C0%AF', '%E2%82', '%', '%zz'];
const POISON = ['\u0000', 'a\u0000b', '\ud800', 'x\udc00y', '\udbff'];
const POISONED_JSON = [
  '{"name":"a\\u0000","details":{"label":"x"}}',
  '{"details":{"summary":"\\ud800"}}',
  '{"files":{"src/a.py":"\\u0000"}}',
  '{"username":"bob","fullname":"\\udc00"}',
  '{"key_label":"k\\u0000"}',
];

function poisonStrings(v: unknown, poison: string): unknown {
  if (typeof v === 'string') return v + poison;
  if (Array.isArray(v)) return v.map((x) => poisonStrings(x, poison));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, poisonStrings(x, poison)]));
  return v;
}

interface Op {
  method: string;
  path: string;
  op: Record<string, any>;
}

const operations: Op[] = Object.entries<Record<string, any>>(spec.paths).flatMap(([path, item]) =>
  ['get', 'post', 'put', 'delete'].filter((m) => item[m]).map((method) => ({ method, path, op: item[method] })),
);

function requestArbitrary(o: Op) {
  const pathParams = [...o.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
  const queryParams: Array<{ name: string; schema: object }> = (o.op.parameters ?? []).filter((p: any) => p.in === 'query');
  const bodySchema = o.op.requestBody?.content?.['application/json']?.schema ?? {};
  return fc.record({
    params: fc.tuple(...pathParams.map((p) => pathValue(o.method === 'delete' && o.path === '/v1/users/{username}' ? 'victim' : p))),
    query: fc.tuple(...queryParams.map((q) => fc.option(mutatedArbitrary(q.schema, spec), { nil: undefined }))),
    extraQuery: fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 12 }), { maxKeys: 2 }), { nil: undefined }),
    body: o.method === 'get' || o.method === 'delete' ? fc.constant(undefined) : mutatedArbitrary(bodySchema, spec),
    rawBody: fc.option(fc.oneof(fc.string({ maxLength: 200 }), fc.constant('{"a":'), fc.constant('['.repeat(5000) + ']'.repeat(5000)), fc.constantFrom(...POISONED_JSON)), { nil: undefined, freq: 4 }),
    rawSegment: fc.option(fc.constantFrom(...MALFORMED_SEGMENTS), { nil: undefined, freq: 5 }),
    poison: fc.option(fc.constantFrom(...POISON), { nil: undefined, freq: 4 }),
    rawQuery: fc.option(fc.constantFrom('x=%FF', 'limit=%00', 'marker=%ED%A0%80', '%=1'), { nil: undefined, freq: 6 }),
    contentType: contentTypes,
    auth: authHeaders,
    injected: fc.constantFrom<Record<string, string>>(
      {},
      { 'X-Request-Id': 'req-attacker-chosen' },
      { 'X-Forwarded-For': '127.0.0.1, evil' },
      { 'Content-Encoding': 'base64' },
      { 'Content-Encoding': 'gzip' },
      { Accept: 'application/octet-stream' },
    ),
  }).map((r) => {
    let url = o.path;
    pathParams.forEach((p, i) => {
      // A malformed segment goes in raw (encoding it would make it well-formed).
      const raw = i === 0 && r.rawSegment !== undefined ? r.rawSegment : undefined;
      url = url.replace(`{${p}}`, raw ?? (encodeURIComponent(r.params[i] as string) || '%20'));
    });
    const qs = new URLSearchParams();
    queryParams.forEach((q, i) => {
      const v = r.query[i];
      if (v !== undefined) qs.set(q.name, typeof v === 'object' ? JSON.stringify(v) : String(v));
    });
    for (const [k, v] of Object.entries(r.extraQuery ?? {})) if (k) qs.append(k, v);
    const q = [qs.toString(), r.rawQuery ?? ''].filter(Boolean).join('&');
    const body = r.poison !== undefined ? poisonStrings(r.body, r.poison) : r.body;
    return { ...r, body, url: q ? `${url}?${q}` : url };
  });
}

function resolveAuth(h: Record<string, string>): Record<string, string> {
  if (!h.Authorization) return h;
  return { Authorization: h.Authorization.replace('USERKEY', userKey).replace('OTHERKEY', otherKey) };
}

for (const o of operations) {
  test(`hostile input: ${o.method.toUpperCase()} ${o.path}`, async () => {
    await fc.assert(
      fc.asyncProperty(requestArbitrary(o), async (r) => {
        const before = await fingerprint();
        let req = (t.request as any)[o.method](r.url).set({ ...resolveAuth(r.auth), ...r.injected });
        if (r.contentType) req = req.set('Content-Type', r.contentType);
        if (o.method === 'post' || o.method === 'put') {
          const payload = r.rawBody ?? (r.body === undefined ? undefined : JSON.stringify(r.body));
          if (payload !== undefined) req = req.send(payload);
        }
        const res = await req;
        assert.ok(res.status < 500, `${o.method} ${r.url} answered ${res.status}: ${res.text?.slice(0, 500)}`);
        if (res.status >= 400) {
          const isJson = /application\/json/.test(res.headers['content-type'] ?? '');
          assert.ok(isJson, `${o.method} ${r.url} ${res.status} is not JSON`);
          if (typeof res.body.error === 'string') {
            assert.equal(res.body.error, 'No such algorithm');
          } else if (!(o.path.startsWith('/v1/algo/') && res.status === 400 && res.body.metadata)) {
            // (output=raw turns an algorithm's own error into a 400 with the algorithm error body)
            assertErrorShape(res.body);
          }
          assert.equal(await fingerprint(), before, `${o.method} ${r.url} was rejected with ${res.status} but changed state`);
        }
        assert.notEqual(res.headers['x-request-id'], 'req-attacker-chosen');
      }),
      { seed: SEED, numRuns: RUNS_PER_OPERATION, endOnFailure: true },
    );
  });
}

/** The schema allows any language string; the service knows three. Everything else stays as generated. */
function usable(body: unknown): unknown {
  const b = body as { settings?: Record<string, unknown> } | undefined;
  if (b?.settings && 'language' in b.settings) {
    b.settings.language = 'python3';
    delete b.settings.algorithm_environment;
  }
  return body;
}

/** Appends the poison to one string of the value (the n-th, counting round): one fault at a time. */
function poisonOne(v: unknown, poison: string, n: number): unknown {
  const paths: Array<(string | number)[]> = [];
  const walk = (x: unknown, path: (string | number)[]) => {
    if (typeof x === 'string') paths.push(path);
    else if (x && typeof x === 'object') for (const [k, y] of Object.entries(x)) walk(y, [...path, Array.isArray(x) ? Number(k) : k]);
  };
  walk(v, []);
  if (paths.length === 0) return v;
  const copy = JSON.parse(JSON.stringify(v));
  const path = paths[n % paths.length];
  let at = copy;
  for (const k of path.slice(0, -1)) at = at[k];
  at[path.at(-1)!] += poison;
  return copy;
}

// The malformed-text generators with everything else right: the caller's own valid key (the admin
// key on admin routes), the fixture's path values, a body valid for the schema. Then the poison is
// the only fault, so a missing check would reach PostgreSQL (a 500) instead of the 400.
function poisonedArbitrary(o: Op) {
  const pathParams = [...o.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
  const bodySchema = o.op.requestBody?.content?.['application/json']?.schema;
  return fc.record({
    where: fc.constantFrom(...(pathParams.length ? ['path', 'query', 'body'] : ['query', 'body'])),
    segment: fc.nat(Math.max(0, pathParams.length - 1)),
    malformed: fc.constantFrom(...MALFORMED_SEGMENTS),
    poison: fc.constantFrom(...POISON),
    target: fc.nat(50),
    body: bodySchema ? validArbitrary(bodySchema, spec) : fc.constant(undefined),
  }).map((r) => {
    let url = o.path;
    pathParams.forEach((p, i) => {
      const value = encodeURIComponent(fixture[p] ?? 'x');
      url = url.replace(`{${p}}`, r.where === 'path' && i === r.segment ? `${value}${r.malformed}` : value);
    });
    if (r.where === 'query') url += `?limit=${r.malformed}`;
    const valid = usable(r.body);
    const body = r.where === 'body' ? poisonOne(valid ?? { label: 'x' }, r.poison, r.target) : valid;
    return { url, body };
  });
}

for (const o of operations) {
  test(`hostile text: ${o.method.toUpperCase()} ${o.path}`, async () => {
    const key = o.path.includes('/admin/') || o.path === '/v1/users' || o.path === '/metrics' ? ADMIN_KEY : userKey;
    await fc.assert(
      fc.asyncProperty(poisonedArbitrary(o), async (r) => {
        const body = r.body === undefined ? undefined : JSON.stringify(r.body);
        // Only requests that carry malformed text: a poisoned body needs at least one string in it.
        if (!/%|\\u0000|\\ud[89ab]|\\ud[c-f]/i.test(`${r.url}${body ?? ''}`)) return;
        const before = await fingerprint();
        let req = (t.request as any)[o.method](r.url).set('Authorization', `Simple ${key}`).set('Content-Type', 'application/json');
        if (body !== undefined && (o.method === 'post' || o.method === 'put')) req = req.send(body);
        const res = await req;
        assert.ok(res.status < 500, `${o.method} ${r.url} ${body?.slice(0, 200)} answered ${res.status}: ${res.text?.slice(0, 300)}`);
        if (res.status >= 400) {
          if (typeof res.body.error !== 'string' && !res.body.metadata) assertErrorShape(res.body);
          assert.equal(await fingerprint(), before);
        }
      }),
      { seed: SEED, numRuns: Number(process.env.HOSTILE_TEXT_RUNS ?? 8), endOnFailure: true },
    );
  });
}

test('hostile input: bodies over the limit are refused with 413 on every route that takes a body', async () => {
  // Over the largest limit (12 MiB for whole source trees; 10 MiB for calls, 2 MiB elsewhere). A string
  // goes on the wire as it is: a Buffer would be serialised by supertest as a JSON array three times as big.
  const big = 'a'.repeat(13 * 1024 * 1024);
  // git's own routes take packs up to GIT_MAX_REQUEST_BYTES (32 MiB); git.int.test.ts holds them to it.
  for (const o of operations.filter((x) => (x.method === 'post' || x.method === 'put') && x.op.requestBody && !x.path.startsWith('/git/'))) {
    const url = o.path.replace(/\{(\w+)\}/g, (_m, p) => fixture[p] ?? 'x');
    const before = await fingerprint();
    const res = await (t.request as any)[o.method](url)
      .set('Authorization', `Simple ${o.path.includes('admin') || o.path === '/v1/users' ? ADMIN_KEY : userKey}`)
      .set('Content-Type', 'application/json')
      .send(big);
    // A nested call with a token of no running call is refused before a byte of its body is read.
    const expected = o.path.startsWith('/worker/{token}/v1/algo/') ? 403 : 413;
    assert.equal(res.status, expected, `${o.method} ${url}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    assert.equal(await fingerprint(), before);
  }
});
