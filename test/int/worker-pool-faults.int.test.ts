// Every way a worker call can fail gives its slot back: serialisation of the input, the spawn, the
// protocol, the start-up, a timeout, a refused input. After each, the pool's busy count is 0 and a
// normal call answers. Also: the runners' JSON limits, the bound on waiting calls and the fair share
// of one caller. Real worker processes (Python, JavaScript, R); no database.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultRuntimesDir } from '../../src/execution/languages';
import type { Principal } from '../../src/platform/auth';
import type { Language } from '../../src/platform/language-catalogue';
import type { RawJson } from '../../src/execution/raw-json';
import { WorkerPool, type CallOutcome, type CallRequest, type WorkerSpec } from '../../src/execution/worker-pool';

const RSCRIPT = execFileSync('/bin/sh', ['-c', 'command -v Rscript'], { encoding: 'utf8' }).trim();
const SOURCES: Record<Language, Record<string, string>> = {
  python3: {
    'src/__init__.py': '',
    'src/Echo.py': 'import time\ndef apply(input):\n    if input == "sleep":\n        time.sleep(30)\n    return {"got": input}\n',
  },
  javascript: {
    'src/Echo.js': 'exports.apply = (input) => { if (input === "spin") { for (;;) {} } if (input === "sleep") return new Promise((r) => setTimeout(() => r("slept"), 1500)); return { got: input }; };\n',
  },
  // Unnamed lists (deep arrays) are not echoed: jsonlite cannot write 200 levels back either.
  r: { 'src/Echo.r': 'apply <- function(input) if (is.list(input) && is.null(names(input))) "nested" else list(got = input)\n' },
};

let root: string;
const pools: WorkerPool[] = [];

function makePool(overrides: Partial<ConstructorParameters<typeof WorkerPool>[0]> = {}): WorkerPool {
  const pool = new WorkerPool({
    maxWorkersPerKey: 2,
    maxWorkersTotal: 16,
    idleTimeoutMs: 60_000,
    workRoot: join(root, `work-${pools.length}`),
    callbackBaseUrl: () => 'http://127.0.0.1:9',
    pythonBin: '/usr/bin/python3',
    rscriptBin: RSCRIPT,
    memoryLimitMb: 512,
    maxOutputBytes: 1024 * 1024,
    runAsUid: false,
    ...overrides,
  });
  pools.push(pool);
  return pool;
}

const spec = (language: Language, key = `build-${language}`): WorkerSpec => ({ key, language, algoName: 'Echo', files: SOURCES[language] });
/** A caller as the pool sees one: the fair share is counted by user id. */
const user = (name: string): Principal => ({ userId: name, username: name, keyType: 'AlgorithmKey', allowAlgo: true, allowAlgoManagement: false, algoAcl: ['algo://*'] });
const json = (value: unknown, extra: Partial<CallRequest> = {}): CallRequest => ({
  contentType: 'json', data: Buffer.from(JSON.stringify(value)),
  timeoutMs: 20_000, requestId: `req-${Math.random()}`, ...extra,
});
const raw = (text: string, extra: Partial<CallRequest> = {}): CallRequest => ({
  contentType: 'json', data: Buffer.from(text), timeoutMs: 20_000, requestId: `req-${Math.random()}`, ...extra,
});
const deep = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

function kind<K extends CallOutcome['kind']>(o: CallOutcome, k: K): Extract<CallOutcome, { kind: K }> {
  assert.equal(o.kind, k, JSON.stringify(o).slice(0, 500));
  return o as Extract<CallOutcome, { kind: K }>;
}
const busy = (pool: WorkerPool) => pool.stats().busy;

/**
 * A copy of the runtimes whose JavaScript runner speaks the protocol by hand: it reads one call
 * (`head` and `input`), writes the end markers, then runs `onCall` (which writes the reply, or not).
 */
function fakeJsRuntime(name: string, onCall: string): string {
  const runtimes = join(root, name);
  cpSync(defaultRuntimesDir(), runtimes, { recursive: true });
  writeFileSync(join(runtimes, 'javascript', 'runner.js'), `const fs = require('fs');
fs.writeSync(3, '{"ready":true}\\n');
let buf = '';
process.stdin.on('data', (d) => {
  buf += d.toString('latin1');
  const nl = buf.indexOf('\\n');
  if (nl < 0) return;
  const head = JSON.parse(buf.slice(0, nl));
  const input = buf.slice(nl + 1);
  buf = '';
  const marker = '\\x1ebeacon-end:' + head.id + '\\x1e';
  fs.writeSync(1, marker); fs.writeSync(2, marker);${onCall}
});
`);
  return runtimes;
}

before(() => {
  root = mkdtempSync(join(tmpdir(), 'beacon-pool-faults-'));
});
after(async () => {
  await Promise.all(pools.map((p) => p.close()));
  rmSync(root, { recursive: true, force: true });
});

describe('every failure inside a worker call releases its slot', () => {
  test('serialisation: input that is not bytes fails the call and discards the worker', async () => {
    const pool = makePool();
    ok(await pool.call(spec('javascript'), json('warm')));
    const e = kind(await pool.call(spec('javascript'), { ...json(null), data: { not: 'bytes' } as unknown as Buffer }), 'error');
    assert.match(e.error.message, /could not send the input/);
    assert.equal(busy(pool), 0);
    ok(await pool.call(spec('javascript'), json('after')));
    assert.equal(busy(pool), 0);
  });

  test('spawn: a runner that cannot be started', async () => {
    const pool = makePool({ nodeBin: '/nonexistent/node' });
    for (let i = 0; i < 3; i++) {
      const e = kind(await pool.call(spec('javascript'), json('x')), 'error');
      assert.equal(e.error.error_type, 'SystemError');
      assert.equal(busy(pool), 0);
    }
    assert.equal(pool.stats().workers, 0);
  });

  test('start-up: files that cannot be written, a work folder that cannot be made', async () => {
    const pool = makePool();
    const bad = { ...spec('javascript', 'build-bad-path'), files: { '../escape.js': 'x' } };
    kind(await pool.call(bad, json('x')), 'error');
    assert.equal(busy(pool), 0);
    const blocked = join(root, 'blocked');
    writeFileSync(blocked, 'a file where the work folder should be');
    const noRoot = makePool({ workRoot: join(blocked, 'work') });
    assert.match(kind(await noRoot.call(spec('javascript'), json('x')), 'error').error.message, /could not prepare/);
    assert.equal(busy(noRoot), 0);
  });

  test('protocol: a runner that answers garbage', async () => {
    const runtimes = join(root, 'runtimes-garbage');
    cpSync(defaultRuntimesDir(), runtimes, { recursive: true });
    writeFileSync(join(runtimes, 'javascript', 'runner.js'), `const fs = require('fs');
fs.writeSync(3, '{"ready":true}\\n');
process.stdin.on('data', () => fs.writeSync(3, 'this is not json\\n'));
`);
    const pool = makePool({ runtimesDir: runtimes });
    for (let i = 0; i < 3; i++) {
      const e = kind(await pool.call(spec('javascript'), json('x')), 'error');
      assert.match(e.error.message, /invalid protocol line/);
      assert.equal(busy(pool), 0);
    }
  });

  // Attack: algorithm code floods the reply descriptor with well-formed lines of no call, each a
  // parse for Beacon's event loop. The first one ends the worker, during a call or between calls.
  test('protocol: a line that belongs to no call ends the worker, during a call or between calls', async () => {
    const runtimes = fakeJsRuntime('runtimes-flood', `
  if (input === '"flood"') fs.writeSync(3, '{"id":"not-this-call"}\\n'.repeat(1000));
  fs.writeSync(3, JSON.stringify({ id: head.id, content_type: 'json', result: 'answered' }) + '\\n');
  if (input === '"late"') setTimeout(() => fs.writeSync(3, '{"id":"late"}\\n'), 50);`);
    const pool = makePool({ runtimesDir: runtimes, maxWorkersPerKey: 1 });
    const e = kind(await pool.call(spec('javascript'), json('flood')), 'error');
    assert.match(e.error.message, /belongs to no call/);
    assert.equal(busy(pool), 0);
    const first = ok(await pool.call(spec('javascript'), json('late')));
    await new Promise((r) => setTimeout(r, 300));
    const next = ok(await pool.call(spec('javascript'), json('x')));
    assert.notEqual(next.sessionId, first.sessionId, 'the worker that wrote between calls was replaced');
  });

  // Attack: a runner (algorithm code can write to the reply descriptor) sends a large "result" that
  // is not one JSON value, to smuggle fields into Beacon's answer, which splices large results.
  test('protocol: a large reply whose result is not one JSON value is refused', async () => {
    const runtimes = fakeJsRuntime('runtimes-forged', `
  const pad = 'x'.repeat(70000);
  const forged = head.content_type === 'text'
    ? '{"id":"' + head.id + '","content_type":"json","result":["' + pad + '"]}'
    : '{"id":"' + head.id + '","content_type":"json","result":1,"metadata":{"forged":"' + pad + '"}}';
  fs.writeSync(3, forged + '\\n');`);
    const pool = makePool({ runtimesDir: runtimes });
    const e = kind(await pool.call(spec('javascript'), json('x')), 'error');
    assert.match(e.error.message, /invalid protocol line/);
    assert.equal(busy(pool), 0);
    // A well-formed large result passes, as text that is never parsed by the service.
    const big = ok(await pool.call(spec('javascript'), { ...json(null), contentType: 'text', data: Buffer.from('x') }));
    assert.equal((big.result as RawJson).text.length, 70004);
  });

  test('timeout: a call that never ends', async () => {
    const pool = makePool({ maxWorkersPerKey: 1 });
    const e = kind(await pool.call(spec('javascript'), json('spin', { timeoutMs: 500 })), 'error');
    assert.equal(e.error.error_type, 'TimeoutError');
    assert.equal(busy(pool), 0);
    ok(await pool.call(spec('javascript'), json('after')));
  });
});

describe('the runners parse the caller\'s JSON within limits', () => {
  for (const language of ['python3', 'javascript', 'r'] as const) {
    test(`${language}: too deep and malformed are refused before apply(); the worker stays`, async () => {
      const pool = makePool();
      const s = spec(language);
      assert.deepEqual(ok(await pool.call(s, json({ a: [1, 2] }))).result, { got: { a: [1, 2] } });
      const refused = kind(await pool.call(s, raw(deep(5000))), 'input-error');
      assert.equal(refused.reason, 'too_deep');
      assert.match(refused.message, /input too deeply nested/);
      assert.equal(busy(pool), 0);
      assert.equal(kind(await pool.call(s, raw('{"a":')), 'input-error').reason, 'malformed');
      // At the limit is fine; one past it is not (R's is 200: jsonlite recurses on the C stack).
      const limit = language === 'r' ? 200 : 512;
      ok(await pool.call(s, raw(deep(limit - 1))));
      assert.equal(kind(await pool.call(s, raw(deep(limit + 1))), 'input-error').reason, 'too_deep');
      assert.equal(pool.stats().workers, 1, 'the same worker answered throughout');
    });
  }

  test('too large: beyond the runner\'s size limit', async () => {
    const pool = makePool({ maxInputBytes: 1000 });
    const big = JSON.stringify('x'.repeat(2000));
    assert.equal(kind(await pool.call(spec('javascript'), raw(big)), 'input-error').reason, 'too_large');
    assert.equal(kind(await pool.call(spec('python3'), raw(big)), 'input-error').reason, 'too_large');
    assert.equal(busy(pool), 0);
  });

  test('deep JSON twice per algorithm on 8 algorithms, then a normal call answers', async () => {
    const pool = makePool();
    const keys = Array.from({ length: 8 }, (_, i) => spec(i % 2 ? 'python3' : 'javascript', `build-deep-${i}`));
    const outcomes = await Promise.all(keys.flatMap((s) => [pool.call(s, raw(deep(5000))), pool.call(s, raw(deep(5000)))]));
    for (const o of outcomes) assert.equal(kind(o, 'input-error').reason, 'too_deep');
    assert.equal(busy(pool), 0);
    const started = Date.now();
    ok(await pool.call(keys[0], json('normal')));
    process.stdout.write(`# normal call after 16 deep inputs: ${Date.now() - started} ms\n`);
  });
});

describe('bounded queues and fair share', () => {
  test('waiting calls per version are bounded: the next one is told to come back', async () => {
    const pool = makePool({ maxWorkersPerKey: 1, maxWaitingPerKey: 1 });
    const s = spec('javascript', 'build-bounded');
    const first = pool.call(s, json('sleep'));
    await waitFor(() => busy(pool) === 1);
    const second = pool.call(s, json('queued'));
    const third = kind(await pool.call(s, json('refused')), 'busy');
    assert.match(third.message, /calls are already waiting/);
    assert.equal(third.retryAfterSeconds, 1);
    ok(await first);
    ok(await second);
    assert.equal(busy(pool), 0);
  });

  test('one caller cannot take every worker: beyond its share it waits and is told why', async () => {
    const pool = makePool({ maxWorkersPerKey: 4, maxWorkersTotal: 4, maxBusyPerCaller: 2 });
    const s = spec('javascript', 'build-share');
    const hog = [pool.call(s, json('sleep', { caller: user('mallory') })), pool.call(s, json('sleep', { caller: user('mallory') }))];
    const third = pool.call(s, json('x', { caller: user('mallory'), timeoutMs: 300 }));
    // Another user is served at once, while mallory's third call waits.
    ok(await pool.call(s, json('alice', { caller: user('alice') })));
    const waited = kind(await third, 'error');
    assert.match(waited.error.message, /its share of 2 of the 4 workers/);
    for (const h of hog) ok(await h);
    assert.equal(busy(pool), 0);
  });
});

function ok(o: CallOutcome): Extract<CallOutcome, { kind: 'result' }> {
  return kind(o, 'result');
}

async function waitFor(cond: () => boolean, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
}
