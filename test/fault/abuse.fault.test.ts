// Fault: a hostile caller against the real service (src/main.ts, a child process). Each case of
// issue 9 is reproduced, then a normal call must still answer:
//   - deeply nested JSON (depth 5,000) twice per algorithm on 8 algorithms: no worker slot is lost;
//   - ten concurrent 9.9 MB inputs of [{},{},...]: /healthz keeps answering (latency measured);
//   - forty output=void runs of 9.9 MB: bounded per caller (429 + Retry-After beyond the bound);
//   - a source upload with 600,000 empty files: refused before joi walks it;
//   - malformed text (bad percent-encoding, NUL, lone surrogates) with and without credentials.
// The event loop delay is measured inside Beacon by perf_hooks.monitorEventLoopDelay (prom-client's
// nodejs_eventloop_lag_*; a scrape resets the histogram, so a scrape before and after a case gives
// that case's numbers). Timing is reported (FAULT-COUNTS), not asserted: the machine is shared.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { ADMIN_KEY } from '../support/app';
import { startBeaconProcess, type BeaconProcess } from '../support/beacon-process';
import { createTestDb, type TestDb } from '../support/db';
import { createUserKey, ECHO_SOURCE, publishPythonAlgorithm, type PublishedAlgorithm } from '../support/fault-api';
import { sleep } from '../support/fault-load';
import { assertErrorShape } from '../support/openapi';

const OWNER = 'faultabuse';
const SOURCE = `def apply(input):
    if isinstance(input, list):
        return len(input)
    return input
`;
const BIG = Buffer.from(`[${Array.from({ length: 3_300_000 }, () => '{}').join(',')}]`); // ~9.9 MB
const DEEP = `${'['.repeat(5000)}${']'.repeat(5000)}`;

let testDb: TestDb;
let beacon: BeaconProcess;
let key: string;
let algos: PublishedAlgorithm[] = [];
let echo: PublishedAlgorithm;

async function metrics(): Promise<string> {
  const r = await fetch(`${beacon.url}/metrics`, { headers: { Authorization: `Simple ${ADMIN_KEY}` }, signal: AbortSignal.timeout(30_000) });
  return r.text();
}
const pick = (text: string, name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)`, 'm').exec(text)?.[1] ?? Number.NaN);
const metric = async (name: string) => pick(await metrics(), name);

// The /healthz probe runs in a process of its own: the test process is busy sending the abuse,
// and its own event loop must not count as Beacon's latency.
const PROBE = `
const url = process.argv[1]; const lat = []; let failed = 0, done = false;
process.stdin.on('end', () => (done = true)); process.stdin.resume();
(async () => {
  while (!done) {
    const t0 = performance.now();
    try { const r = await fetch(url, { signal: AbortSignal.timeout(30000) }); await r.text(); if (r.status !== 200) failed++; } catch { failed++; }
    lat.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 20));
  }
  process.stdout.write(JSON.stringify({ lat, failed }));
})();`;

/** Runs `work` while a probe polls /healthz; returns its latencies and Beacon's event-loop delay. */
async function measured<T>(work: () => Promise<T>): Promise<{ result: T; healthz: { n: number; p99: number; max: number; failed: number }; loop: { p99Ms: number; maxMs: number } }> {
  await metrics(); // a scrape resets the event-loop histogram: what follows is this case's
  const probe = spawn(process.execPath, ['-e', PROBE, `${beacon.url}/healthz`], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  probe.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const probed = new Promise<void>((resolve) => probe.once('close', () => resolve()));
  const result = await work();
  probe.stdin.end();
  await probed;
  const text = await metrics();
  const { lat, failed } = JSON.parse(out) as { lat: number[]; failed: number };
  lat.sort((a, b) => a - b);
  const p99 = lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))] ?? Number.NaN;
  return {
    result,
    healthz: { n: lat.length, p99: round(p99), max: round(lat.at(-1) ?? Number.NaN), failed },
    loop: { p99Ms: round(pick(text, 'nodejs_eventloop_lag_p99_seconds') * 1000), maxMs: round(pick(text, 'nodejs_eventloop_lag_max_seconds') * 1000) },
  };
}

const round = (n: number) => Math.round(n * 10) / 10;
const peakRssMb = () => Math.round(Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${beacon.child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);

async function post(path: string, body: Buffer | string, contentType = 'application/json', auth = true): Promise<{ status: number; body: any; headers: Headers }> {
  const r = await fetch(`${beacon.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': contentType, ...(auth ? { Authorization: `Simple ${key}` } : {}) },
    body: body as unknown as BodyInit,
    signal: AbortSignal.timeout(120_000),
  });
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // kept as text
  }
  return { status: r.status, body: parsed, headers: r.headers };
}

describe('fault: abuse by a hostile caller', () => {
  before(async () => {
    testDb = await createTestDb();
    beacon = await startBeaconProcess({ DATABASE_URL: testDb.url, BOOTSTRAP_ADMIN_KEY: ADMIN_KEY, BEACON_SECRET_KEY: 'b2'.repeat(32) }, 60_000);
    key = await createUserKey(beacon.url, ADMIN_KEY, OWNER);
    for (let i = 0; i < 8; i++) algos.push(await publishPythonAlgorithm(beacon.url, key, OWNER, `abuse${i}`, SOURCE));
    echo = await publishPythonAlgorithm(beacon.url, key, OWNER, 'abuseecho', ECHO_SOURCE);
  });

  after(async () => {
    await beacon?.stop('SIGKILL');
    await testDb?.drop();
  });

  test('deep JSON twice per algorithm on 8 algorithms: 400 each, no slot lost, then a normal call answers', async (t) => {
    const replies = await Promise.all(algos.flatMap((a) => [post(a.callPath, DEEP), post(a.callPath, DEEP)]));
    for (const r of replies) {
      assert.equal(r.status, 400, JSON.stringify(r.body).slice(0, 300));
      assertErrorShape(r.body);
      assert.match(r.body.error.message, /input too deeply nested/);
    }
    const busy = await metric('beacon_worker_pool_busy');
    const t0 = performance.now();
    const normal = await post(algos[0].callPath, '[1,2,3]');
    const normalMs = round(performance.now() - t0);
    t.diagnostic(`FAULT-COUNTS deep-json ${JSON.stringify({ calls: replies.length, status400: replies.filter((r) => r.status === 400).length, busyAfter: busy, normalCallMs: normalMs })}`);
    assert.equal(busy, 0, 'beacon_worker_pool_busy returns to 0');
    assert.equal(normal.status, 200);
    assert.equal(normal.body.result, 3);
  });

  test('ten concurrent 9.9 MB inputs: each answered, /healthz keeps answering', async (t) => {
    const m = await measured(() => Promise.all(Array.from({ length: 10 }, (_, i) => post(algos[i % 2].callPath, BIG))));
    const ok = m.result.filter((r) => r.status === 200 && r.body.result === 3_300_000).length;
    t.diagnostic(`FAULT-COUNTS big-inputs ${JSON.stringify({ calls: 10, ok, statuses: m.result.map((r) => r.status), healthz: m.healthz, eventLoop: m.loop, peakRssMb: peakRssMb() })}`);
    assert.equal(ok, 10, JSON.stringify(m.result.find((r) => r.status !== 200)?.body ?? '').slice(0, 300));
    assert.equal(m.healthz.failed, 0, '/healthz answered every probe');
  });

  test('ten concurrent echoes of 9.9 MB: the results travel back without being parsed by the service', async (t) => {
    const m = await measured(() => Promise.all(Array.from({ length: 10 }, async () => {
      const r = await fetch(`${beacon.url}${echo.callPath}`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Simple ${key}` }, body: BIG as unknown as BodyInit, signal: AbortSignal.timeout(120_000) });
      const text = await r.text();
      return { status: r.status, length: text.length, head: text.slice(0, 16), tail: text.slice(-200) };
    })));
    const ok = m.result.filter((r) => r.status === 200 && r.head.startsWith('{"result":[{},') && r.length > BIG.length).length;
    t.diagnostic(`FAULT-COUNTS big-echoes ${JSON.stringify({ calls: 10, ok, healthz: m.healthz, eventLoop: m.loop, peakRssMb: peakRssMb() })}`);
    assert.equal(ok, 10, JSON.stringify(m.result.find((r) => r.status !== 200) ?? m.result[0]).slice(0, 300));
    assert.match(m.result[0].tail, /"metadata":\{"content_type":"json","duration":[0-9.]+,"request_id":"req-[^"]+"\},"request_id":"req-/);
    assert.equal(m.healthz.failed, 0);
  });

  test('forty output=void runs of 9.9 MB: the caller\'s bound holds, the rest get 429 with Retry-After', async (t) => {
    const m = await measured(async () => {
      const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => post(`${algos[i % 8].callPath}?output=void`, BIG)));
      // Accepted runs finish in the background; wait until none is left.
      for (let i = 0; i < 600 && (await metric('beacon_background_runs')) > 0; i++) await sleep(250);
      return replies;
    });
    const accepted = m.result.filter((r) => r.status === 200 && r.body.async === 'void').length;
    const limited = m.result.filter((r) => r.status === 429);
    const dbErrors = m.result.filter((r) => r.status === 503).length;
    const left = await metric('beacon_background_runs');
    t.diagnostic(`FAULT-COUNTS void-runs ${JSON.stringify({ calls: 40, accepted, status429: limited.length, status503: dbErrors, backgroundLeft: left, healthz: m.healthz, eventLoop: m.loop, peakRssMb: peakRssMb() })}`);
    // At most BACKGROUND_MAX_PER_USER (16) at once: a run that ends while the 40 bodies still upload
    // frees its place for one more, so 16 or a few more are accepted and the rest refused.
    assert.ok(accepted >= 16 && accepted <= 20, `BACKGROUND_MAX_PER_USER (16 by default) runs at a time: ${accepted} accepted`);
    assert.equal(accepted + limited.length, 40);
    for (const r of limited) {
      assertErrorShape(r.body);
      assert.equal(r.headers.get('retry-after'), '1');
    }
    assert.equal(dbErrors, 0);
    assert.equal(left, 0, 'every accepted run finished');
    assert.equal(m.healthz.failed, 0);
    const normal = await post(algos[3].callPath, '[1]');
    assert.equal(normal.body.result, 1, 'a normal call answers afterwards');
  });

  test('a source of 600,000 empty files is refused before it is walked; /healthz keeps answering', async (t) => {
    const files = `{"files":{${Array.from({ length: 600_000 }, (_, i) => `"src/f${i}.py":""`).join(',')}}}`;
    const m = await measured(async () => {
      const t0 = performance.now();
      const r = await fetch(`${beacon.url}/v1/algorithms/${OWNER}/abuse0/source`, {
        method: 'PUT', headers: { 'Content-Type': 'application/json', Authorization: `Simple ${key}` }, body: files, signal: AbortSignal.timeout(120_000),
      });
      return { status: r.status, body: await r.json(), ms: round(performance.now() - t0) };
    });
    t.diagnostic(`FAULT-COUNTS many-files ${JSON.stringify({ files: 600_000, bytes: files.length, status: m.result.status, rejectedInMs: m.result.ms, healthz: m.healthz, eventLoop: m.loop })}`);
    assert.equal(m.result.status, 400);
    assertErrorShape(m.result.body);
    assert.match(m.result.body.error.message, /at most 200/);
  });

  test('malformed text anywhere is a 400 in the documented shape, with or without credentials', async (t) => {
    const adminAuth = { Authorization: `Simple ${ADMIN_KEY}` };
    const userAuth = { Authorization: `Simple ${key}` };
    const cases: Array<{ what: string; method: string; path: string; headers?: Record<string, string>; body?: string }> = [
      { what: 'bad percent-encoding, worker route, no key', method: 'POST', path: '/worker/%FF/v1/insights', body: '{}' },
      { what: 'bad percent-encoding, no key', method: 'GET', path: '/v1/algorithms/%FF/x' },
      { what: 'bad percent-encoding, with key', method: 'GET', path: '/v1/algorithms/%FF/x', headers: userAuth },
      { what: 'encoded lone surrogate in a path', method: 'GET', path: '/v1/algorithms/%ED%A0%80/x', headers: userAuth },
      { what: 'NUL in a path segment', method: 'GET', path: `/v1/algorithms/${OWNER}/a%00b`, headers: userAuth },
      { what: 'NUL in a path segment, no key', method: 'POST', path: '/v1/algo/a%00b/c', body: '1' },
      { what: 'bad percent-encoding in the query', method: 'GET', path: `/v1/algorithms/${OWNER}?limit=%FF`, headers: userAuth },
      { what: 'NUL in a label', method: 'POST', path: `/v1/algorithms/${OWNER}`, headers: userAuth, body: JSON.stringify({ name: 'nul1', details: { label: 'a\u0000b' }, settings: { language: 'python3' } }) },
      { what: 'NUL in a tagline', method: 'POST', path: `/v1/algorithms/${OWNER}`, headers: userAuth, body: JSON.stringify({ name: 'nul2', details: { tagline: '\u0000' }, settings: { language: 'python3' } }) },
      { what: 'lone surrogate in a summary', method: 'POST', path: `/v1/algorithms/${OWNER}`, headers: userAuth, body: JSON.stringify({ name: 'sur1', details: { summary: 'x\ud800y' }, settings: { language: 'python3' } }) },
      { what: 'NUL in a key label', method: 'POST', path: `/v1/admin/users/${OWNER}/keys`, headers: adminAuth, body: JSON.stringify({ key_label: 'k\u0000' }) },
      { what: 'NUL in a full name', method: 'POST', path: '/v1/users', headers: adminAuth, body: JSON.stringify({ username: 'nulfull', fullname: 'A\u0000B' }) },
      { what: 'NUL in source contents', method: 'PUT', path: `/v1/algorithms/${OWNER}/abuse0/source`, headers: userAuth, body: JSON.stringify({ files: { 'src/abuse0.py': 'x = 1\u0000' } }) },
      { what: 'lone surrogate in a source path', method: 'PUT', path: `/v1/algorithms/${OWNER}/abuse0/source`, headers: userAuth, body: JSON.stringify({ files: { 'src/\udc00.py': '' } }) },
    ];
    const statuses: Record<string, number> = {};
    for (const c of cases) {
      const r = await fetch(`${beacon.url}${c.path}`, { method: c.method, headers: { 'Content-Type': 'application/json', ...c.headers }, body: c.body, signal: AbortSignal.timeout(30_000) });
      const body = await r.json();
      statuses[c.what] = r.status;
      assert.equal(r.status, 400, `${c.what}: ${r.status} ${JSON.stringify(body)}`);
      assertErrorShape(body);
    }
    const errors = beacon.logs.filter((l) => /"level":50/.test(l)).length;
    t.diagnostic(`FAULT-COUNTS malformed-text ${JSON.stringify({ cases: cases.length, status400: Object.values(statuses).filter((s) => s === 400).length, errorLogLines: errors })}`);
    assert.equal(errors, 0, 'no error-level log line (no 500)');
    const normal = await post(algos[1].callPath, '[1,2]');
    assert.equal(normal.body.result, 2);
  });
});
