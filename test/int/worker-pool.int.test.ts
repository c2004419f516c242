// Real worker processes for Python 3, JavaScript and R behind a real express app that serves the
// worker insights route (the algorithms report metrics over HTTP, as in production).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { WorkerPool, type CallOutcome, type CallRequest, type WorkerSpec } from '../../src/execution/worker-pool';
import { CallbackServer } from '../../src/execution/callback-server';
import { buildPoolSandbox } from '../../src/execution/sandbox-host';
import type { PoolSandbox } from '../../src/execution/worker-sandbox';
import { loadConfig } from '../../src/config';
import { workerInsightsRoute } from '../../src/execution/worker-insights-route';
import type { Authenticator } from '../../src/platform/auth';
import { errorHandler } from '../../src/platform/error-handler';
import { createLogger } from '../../src/platform/logger';
import { mountRoutes } from '../../src/platform/routes';
import type { Language } from '../../src/platform/language-catalogue';

const PYTHON = '/usr/bin/python3';
const RSCRIPT = execFileSync('/bin/sh', ['-c', 'command -v Rscript'], { encoding: 'utf8' }).trim();
const AS_ROOT = process.getuid?.() === 0;
// Sandboxed like the service (WORKER_SANDBOX=off in the environment runs the pool without it).
const SANDBOXED = process.env.WORKER_SANDBOX !== 'off';
let sandbox: PoolSandbox | undefined;
let callback: CallbackServer | undefined;

// One algorithm per language; json input {"op": ...} picks a behaviour.
const PYTHON_SRC = `import os, sys, time
import Algorithmia

def apply(input):
    if isinstance(input, str):
        return "Hello " + input
    if isinstance(input, bytes):
        return bytes(reversed(input))
    op = input["op"]
    if op == "echo":
        return {"echo": input["value"]}
    if op == "fail":
        raise ValueError("boom from python3")
    if op == "print":
        print("to stdout: " + input["text"])
        print("to stderr", file=sys.stderr)
        return "printed"
    if op == "insights":
        Algorithmia.client().report_insights(input["metrics"])
        time.sleep(input.get("sleep", 0))
        return "reported"
    if op == "reserved":
        client = Algorithmia.client()
        client.report_insights({"good": 1})
        try:
            client.report_insights({"request_id": 5})
            return {"caught": None}
        except Exception as e:
            return {"caught": str(e)}
    if op == "unserialisable":
        return {1, 2}
    if op == "loop":
        while True:
            pass
    if op == "exit":
        sys.exit(3)
    if op == "hard_exit":
        print("last words")
        sys.stdout.flush()
        os._exit(4)
    if op == "flood":
        sys.stdout.write("x" * (5 * 1024 * 1024))
        return "flooded"
    if op == "big":
        return "x" * input["n"]
    if op == "allocate":
        return len(bytearray(input["mb"] * 1024 * 1024))
    if op == "sleep":
        time.sleep(input["seconds"])
        return "slept"
    if op == "whoami":
        return {"uid": os.getuid(), "env": sorted(os.environ), "api": os.environ["ALGORITHMIA_API"],
                "home": os.environ["HOME"], "cwd": os.getcwd()}
    if op == "environ":
        try:
            open("/proc/%d/environ" % input["pid"], "rb").read()
            return "readable"
        except OSError as e:
            return "denied: " + type(e).__name__
    if op == "listdir":
        try:
            return {"entries": os.listdir(input["path"])}
        except OSError as e:
            return {"denied": type(e).__name__}
    raise ValueError("unknown op " + op)
`;

const JAVASCRIPT_SRC = `const beacon = require('beacon');
exports.apply = async function (input) {
  if (typeof input === 'string') return 'Hello ' + input;
  if (Buffer.isBuffer(input)) return Buffer.from(input).reverse();
  switch (input.op) {
    case 'echo': return { echo: input.value };
    case 'fail': throw new Error('boom from javascript');
    case 'print':
      console.log('to stdout: ' + input.text);
      console.error('to stderr');
      return 'printed';
    case 'insights':
      await beacon.reportInsights(input.metrics);
      return 'reported';
    case 'reserved':
      await beacon.reportInsights({ good: 1 });
      try {
        await beacon.reportInsights({ request_id: 5 });
        return { caught: null };
      } catch (e) {
        return { caught: e.message };
      }
    case 'unserialisable': {
      if (input.kind === 'bigint') return { n: BigInt(10) };
      if (input.kind === 'circular') { const o = {}; o.self = o; return o; }
      return { f: function () {} };
    }
    default: throw new Error('unknown op ' + input.op);
  }
};
`;

const R_SRC = `apply <- function(input) {
  if (is.raw(input)) return(rev(input))
  if (is.character(input)) return(paste0("Hello ", input))
  op <- input$op
  if (op == "echo") return(list(echo = input$value))
  if (op == "fail") stop("boom from r")
  if (op == "print") {
    cat("to stdout: ", input$text, "\\n", sep = "")
    message("to stderr")
    return("printed")
  }
  if (op == "insights") {
    reportInsights(input$metrics)
    return("reported")
  }
  if (op == "reserved") {
    reportInsights(list(good = 1))
    caught <- tryCatch({ reportInsights(list(request_id = 5)); NULL }, error = function(e) conditionMessage(e))
    return(list(caught = caught))
  }
  if (op == "unserialisable") return(list(f = function(x) x))
  stop("unknown op ", op)
}
`;

const ALGORITHMS: Record<Language, Record<string, string>> = {
  python3: { 'src/__init__.py': '', 'src/Kitchen.py': PYTHON_SRC },
  javascript: { 'src/Kitchen.js': JAVASCRIPT_SRC },
  r: { 'src/Kitchen.r': R_SRC },
};

const CALLBACK_JS = {
  'src/Kitchen.js': `exports.apply = function (input, cb) {
  if (input === 'bad') return cb(new Error('callback error'));
  setTimeout(() => cb(null, 'cb ' + input), 10);
};
`,
};

const PROMISE_JS = {
  'src/Kitchen.js': `const beacon = require('beacon');
exports.apply = function (input) {
  if (input === 'report') {
    beacon.reportInsights({ unawaited: 7 }); // not awaited on purpose
    return 'sent';
  }
  if (input === 'throw later') {
    setTimeout(() => { throw new Error('thrown later'); }, 10);
    return new Promise(() => {});
  }
  return new Promise((resolve) => setTimeout(() => resolve({ later: input }), 20));
};
`,
};

let server: Server;
let baseUrl = '';
let pool: WorkerPool;
let workRoot: string;

async function listen(handler: RequestListener): Promise<{ server: Server; url: string }> {
  const s = createServer(handler);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return { server: s, url: `http://127.0.0.1:${(s.address() as { port: number }).port}` };
}

function makePool(overrides: Partial<ConstructorParameters<typeof WorkerPool>[0]> = {}): WorkerPool {
  return new WorkerPool({
    maxWorkersPerKey: 2,
    maxWorkersTotal: 8,
    idleTimeoutMs: 60_000,
    workRoot,
    callbackBaseUrl: () => baseUrl,
    pythonBin: PYTHON,
    rscriptBin: RSCRIPT,
    memoryLimitMb: 512,
    maxOutputBytes: 1024 * 1024,
    maxResultBytes: 15 * 1024 * 1024,
    sandbox,
    ...overrides,
  });
}

const spec = (language: Language, key = `build-${language}`, files = ALGORITHMS[language]): WorkerSpec => ({
  key, language, algoName: 'Kitchen', files,
});
// The pool takes the caller's bytes as they arrived; JSON values are encoded here, as a client would.
const toBytes = (contentType: CallRequest['contentType'], data: unknown): Buffer =>
  Buffer.isBuffer(data) ? data : Buffer.from(contentType === 'json' ? JSON.stringify(data) : String(data));
const req = (contentType: CallRequest['contentType'], data: unknown, timeoutMs = 20_000): CallRequest => ({
  contentType, data: toBytes(contentType, data), timeoutMs, requestId: `req-${Math.random()}`,
});
const op = (o: Record<string, unknown>, timeoutMs?: number) => req('json', o, timeoutMs);

function ok(outcome: CallOutcome): Extract<CallOutcome, { kind: 'result' }> {
  assert.equal(outcome.kind, 'result', outcome.kind === 'error' ? JSON.stringify(outcome.error) : '');
  return outcome as Extract<CallOutcome, { kind: 'result' }>;
}
function failed(outcome: CallOutcome): Extract<CallOutcome, { kind: 'error' }> {
  assert.equal(outcome.kind, 'error', `expected an error, got ${JSON.stringify(outcome).slice(0, 300)}`);
  return outcome as Extract<CallOutcome, { kind: 'error' }>;
}

before(async () => {
  process.env.BEACON_TEST_SECRET = 'must-not-reach-workers';
  workRoot = mkdtempSync(join(tmpdir(), 'beacon-workers-'));
  if (SANDBOXED) {
    callback = new CallbackServer(join(workRoot, 'run', 'callback.sock'), [], { authenticator: {} as Authenticator, logger: createLogger('silent') });
    const built = buildPoolSandbox({ ...loadConfig({}).workers, memoryLimitMb: 512 }, callback);
    assert.ok('sandbox' in built, `the sandbox cannot be built here: ${JSON.stringify(built)}`);
    sandbox = built.sandbox;
  }
  pool = makePool();
  callback?.setRoutes([workerInsightsRoute(pool)]);
  const app = express();
  // The service's own route definition, mounted as the app mounts it (a public route needs no authenticator).
  app.use(mountRoutes([workerInsightsRoute(pool)], { authenticator: {} as Authenticator, jsonLimit: '2mb' }));
  app.use(errorHandler(createLogger('silent')));
  ({ server, url: baseUrl } = await listen(app));
});

after(async () => {
  await pool.close();
  await callback?.close();
  await new Promise((resolve) => server.close(resolve));
  rmSync(workRoot, { recursive: true, force: true });
});

for (const language of ['python3', 'javascript', 'r'] as const) {
  describe(`${language} workers`, () => {
    const s = spec(language);

    test('text, json and binary round-trips on one reused worker', async () => {
      const text = ok(await pool.call(s, req('text', 'world')));
      assert.equal(text.contentType, 'text');
      assert.equal(text.result, 'Hello world');
      assert.match(text.sessionId, /^rses-[0-9a-f-]{36}$/);

      const value = { list: [1, 2.5, 3], nested: { s: 'ünïcödé', flag: true } };
      const json = ok(await pool.call(s, op({ op: 'echo', value })));
      assert.equal(json.contentType, 'json');
      assert.deepEqual(json.result, { echo: value });

      const bin = ok(await pool.call(s, req('binary', Buffer.from([0, 1, 2, 255]))));
      assert.equal(bin.contentType, 'binary');
      assert.deepEqual(Buffer.from(bin.result as string, 'base64'), Buffer.from([255, 2, 1, 0]));

      assert.equal(json.sessionId, text.sessionId, 'the warm worker is reused');
      assert.equal(bin.sessionId, text.sessionId);
      assert.ok(text.durationMs >= 0 && typeof text.durationMs === 'number');
    });

    test('an exception becomes an error with message and stacktrace; the worker survives', async () => {
      const before = ok(await pool.call(s, req('text', 'a')));
      const e = failed(await pool.call(s, op({ op: 'fail' })));
      assert.equal(e.error.error_type, 'AlgorithmError');
      assert.match(e.error.message, new RegExp(`boom from ${language}`));
      assert.ok(e.error.stacktrace && e.error.stacktrace.length > 0, 'stacktrace present');
      assert.match(e.error.stacktrace ?? '', language === 'r' ? /stop\("boom from r"\)/ : /boom from/);
      const again = ok(await pool.call(s, req('text', 'b')));
      assert.equal(again.sessionId, before.sessionId);
    });

    test('stdout of the call is captured without stderr (metadata.stdout, as Algorithmia), and only of that call', async () => {
      const printed = ok(await pool.call(s, op({ op: 'print', text: 'line one' })));
      assert.equal(printed.result, 'printed');
      assert.match(printed.stdout, /to stdout: line one\n/);
      assert.doesNotMatch(printed.stdout, /to stderr/);
      const quiet = ok(await pool.call(s, req('text', 'x')));
      assert.equal(quiet.stdout, '');
    });

    test('insights reported by algorithm code belong to that call only', async () => {
      const first = ok(await pool.call(s, op({ op: 'insights', metrics: { cats_in_image: 4, approved: true } })));
      assert.equal(first.result, 'reported');
      assert.deepEqual(first.metrics, { cats_in_image: 4, approved: true });
      const next = ok(await pool.call(s, req('text', 'no metrics')));
      assert.deepEqual(next.metrics, {}, 'metrics do not leak into the next call');
    });

    test('a reserved name fails the report inside the algorithm; the call completes and earlier metrics stay', async () => {
      const r = ok(await pool.call(s, op({ op: 'reserved' })));
      assert.match((r.result as { caught: string }).caught, /"request_id" is reserved/);
      assert.deepEqual(r.metrics, { good: 1 });
    });

    test('a non-serialisable result is an algorithm error', async () => {
      const e = failed(await pool.call(s, op({ op: 'unserialisable' })));
      assert.match(e.error.message, /cannot be serialised to JSON/);
      ok(await pool.call(s, req('text', 'still fine')));
    });
  });
}

describe('python3 faults', () => {
  const s = spec('python3', 'build-python-faults');

  test('a timeout kills the worker; the next call gets a fresh one', async () => {
    const first = ok(await pool.call(s, req('text', 'warm')));
    const started = Date.now();
    const e = failed(await pool.call(s, op({ op: 'loop' }, 1500)));
    assert.equal(e.error.error_type, 'TimeoutError');
    assert.equal(e.error.message, 'algorithm timed out after 1.5 s');
    assert.ok(Date.now() - started < 5000);
    const next = ok(await pool.call(s, req('text', 'after')));
    assert.equal(next.result, 'Hello after');
    assert.notEqual(next.sessionId, first.sessionId);
  });

  test('sys.exit(3) is a clear error and the next call works', async () => {
    const e = failed(await pool.call(s, op({ op: 'exit' })));
    assert.equal(e.error.error_type, 'SystemExit');
    assert.match(e.error.message, /sys\.exit\(3\)/);
    assert.equal(ok(await pool.call(s, req('text', 'x'))).result, 'Hello x');
  });

  test('os._exit(4) kills the process: a clear error, and a new worker serves the next call', async () => {
    const warm = ok(await pool.call(s, req('text', 'x')));
    const e = failed(await pool.call(s, op({ op: 'hard_exit' })));
    assert.equal(e.error.error_type, 'SystemExit');
    assert.match(e.error.message, /exited with code 4/);
    assert.equal(e.stdout, 'last words\n', 'output written just before dying is kept');
    const next = ok(await pool.call(s, req('text', 'y')));
    assert.notEqual(next.sessionId, warm.sessionId);
  });

  test('printing 5 MB keeps a bounded stdout', async () => {
    const r = ok(await pool.call(s, op({ op: 'flood' })));
    assert.equal(r.result, 'flooded');
    assert.ok(r.stdout.length <= 1024 * 1024 + 200, `stdout is ${r.stdout.length} chars`);
    assert.match(r.stdout, /output truncated, \d+ more bytes were not kept/);
    assert.equal(ok(await pool.call(s, req('text', 'z'))).stdout, '');
  });

  test('a result over the reply limit is a TooLargeError', async () => {
    const e = failed(await pool.call(s, op({ op: 'big', n: 16 * 1024 * 1024 })));
    assert.equal(e.error.error_type, 'TooLargeError');
    assert.match(e.error.message, /more than the limit of 15728640 bytes/);
    assert.equal(ok(await pool.call(s, op({ op: 'big', n: 14 * 1024 * 1024 }))).result, 'x'.repeat(14 * 1024 * 1024));
    // Without maxResultBytes, maxOutputBytes bounds the result too.
    const single = makePool({ maxResultBytes: undefined });
    try {
      const capped = failed(await single.call(s, op({ op: 'big', n: 2 * 1024 * 1024 })));
      assert.match(capped.error.message, /more than the limit of 1048576 bytes/);
    } finally {
      await single.close();
    }
  });

  test('the memory limit turns a huge allocation into OutOfMemoryError', async () => {
    const e = failed(await pool.call(s, op({ op: 'allocate', mb: 2048 })));
    assert.equal(e.error.error_type, 'OutOfMemoryError');
  });

  test('a load error is a LoadingError', async () => {
    const broken = spec('python3', 'build-broken', { 'src/Kitchen.py': 'def apply(input):\n    return (\n' });
    const e = failed(await pool.call(broken, req('text', 'x')));
    assert.equal(e.error.error_type, 'LoadingError');
    assert.match(e.error.message, /never closed|unexpected EOF|invalid syntax/);
    const noApply = spec('python3', 'build-no-apply', { 'src/Kitchen.py': 'x = 1\n' });
    assert.match(failed(await pool.call(noApply, req('text', 'x'))).error.message, /does not define apply/);
  });
});

describe('worker isolation', () => {
  const s = spec('python3', 'build-isolation');

  test('the environment is clean and points ALGORITHMIA_API at the worker route', async () => {
    const r = ok(await pool.call(s, op({ op: 'whoami' })));
    const who = r.result as { uid: number; env: string[]; api: string; home: string; cwd: string };
    assert.ok(!who.env.includes('BEACON_TEST_SECRET'));
    const allowed = ['ALGORITHMIA_API', 'BEACON_MAX_INPUT_BYTES', 'BEACON_MAX_INPUT_DEPTH', 'HOME', 'LANG', 'PATH', 'PWD', 'PYTHONDONTWRITEBYTECODE', 'PYTHONPATH', 'PYTHONUNBUFFERED'];
    assert.deepEqual(who.env.filter((k) => !allowed.includes(k)), []);
    assert.match(who.api, new RegExp(`^${SANDBOXED ? 'http://127.0.0.1:9000' : baseUrl}/worker/[A-Za-z0-9_-]{32}$`));
    assert.equal(who.home, who.cwd);
    assert.equal(who.cwd, SANDBOXED ? '/work' : join(workRoot, r.sessionId));
    if (AS_ROOT) assert.ok(who.uid >= 70000 && who.uid <= 79999, `uid ${who.uid}`);
  });

  test('a worker cannot read the service environment or another worker\'s directory', { skip: !AS_ROOT && 'needs root to switch uids' }, async () => {
    const environ = ok(await pool.call(s, op({ op: 'environ', pid: process.pid })));
    // Sandboxed, neither the service's process nor the host's worker folders exist in the view.
    assert.equal(environ.result, SANDBOXED ? 'denied: FileNotFoundError' : 'denied: PermissionError');
    const other = ok(await pool.call(spec('python3', 'build-other'), req('text', 'x')));
    const listing = ok(await pool.call(s, op({ op: 'listdir', path: join(workRoot, other.sessionId) })));
    assert.deepEqual(listing.result, { denied: SANDBOXED ? 'FileNotFoundError' : 'PermissionError' });
  });

  test('two pools never hand out the same uid', { skip: !AS_ROOT && 'needs root to switch uids' }, async () => {
    const a = makePool({ uidRange: [71000, 71001] });
    const b = makePool({ uidRange: [71000, 71001] });
    const c = makePool({ uidRange: [71000, 71001] });
    try {
      const whoA = ok(await a.call(s, op({ op: 'whoami' }))).result as { uid: number };
      const whoB = ok(await b.call(s, op({ op: 'whoami' }))).result as { uid: number };
      assert.notEqual(whoA.uid, whoB.uid);
      assert.ok([71000, 71001].includes(whoA.uid) && [71000, 71001].includes(whoB.uid));
      // Both uids are taken: a third pool waits (and here times out) rather than share one.
      const e = failed(await c.call(s, op({ op: 'whoami' }, 300)));
      assert.match(e.error.message, /waiting for a free worker/);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  test('concurrent calls on two workers each get their own metrics', async () => {
    const [a, b] = await Promise.all([
      pool.call(s, op({ op: 'insights', metrics: { which: 1 }, sleep: 0.3 })),
      pool.call(s, op({ op: 'insights', metrics: { which: 2 }, sleep: 0.3 })),
    ]);
    assert.notEqual(ok(a).sessionId, ok(b).sessionId);
    assert.deepEqual(a.metrics, { which: 1 });
    assert.deepEqual(b.metrics, { which: 2 });
  });
});

describe('javascript apply styles', () => {
  test('callback-style apply(input, cb)', async () => {
    const s = spec('javascript', 'build-callback', CALLBACK_JS);
    assert.equal(ok(await pool.call(s, req('text', 'x'))).result, 'cb x');
    assert.match(failed(await pool.call(s, req('text', 'bad'))).error.message, /callback error/);
  });

  test('Promise-returning apply, unawaited reports and async faults', async () => {
    const s = spec('javascript', 'build-promise', PROMISE_JS);
    assert.deepEqual(ok(await pool.call(s, req('text', 'x'))).result, { later: 'x' });
    const reported = ok(await pool.call(s, req('text', 'report')));
    assert.deepEqual(reported.metrics, { unawaited: 7 }, 'the runner waits for reports still in flight');
    const thrown = failed(await pool.call(s, req('text', 'throw later')));
    assert.match(thrown.error.message, /thrown later/);
    for (const kind of ['bigint', 'circular', 'function']) {
      const e = failed(await pool.call(spec('javascript'), op({ op: 'unserialisable', kind })));
      assert.match(e.error.message, /cannot be serialised to JSON/, kind);
    }
  });
});

describe('javascript memory limit', () => {
  test('reaching the heap limit is an OutOfMemoryError', async () => {
    const tight = makePool({ memoryLimitMb: 64 });
    try {
      const hog = { 'src/Kitchen.js': 'exports.apply = () => { const a = []; for (;;) a.push(new Array(1e5).fill(1)); };\n' };
      const e = failed(await tight.call(spec('javascript', 'build-hog', hog), req('text', 'x')));
      assert.equal(e.error.error_type, 'OutOfMemoryError', JSON.stringify({ ...e, stdout: e.stdout.slice(0, 2000) }));
    } finally {
      await tight.close();
    }
  });
});

describe('pool scheduling', () => {
  test('calls queue FIFO beyond the per-key limit; a queued call can time out', async () => {
    const small = makePool({ maxWorkersPerKey: 1, maxWorkersTotal: 1 });
    try {
      const s = spec('python3', 'build-queue');
      const started = Date.now();
      const [a, b, c] = await Promise.all([
        small.call(s, op({ op: 'sleep', seconds: 0.4 })),
        small.call(s, op({ op: 'sleep', seconds: 0.1 })),
        small.call(s, op({ op: 'sleep', seconds: 0 }, 300)),
      ]);
      assert.equal(ok(a).sessionId, ok(b).sessionId);
      assert.ok(Date.now() - started >= 500);
      assert.equal(failed(c).error.error_type, 'TimeoutError');
      assert.match(failed(c).error.message, /waiting for a free worker/);
      assert.deepEqual(small.stats(), { workers: 1, busy: 0, idle: 1, waiting: 0, perKey: { 'build-queue': 1 } });

      // At the total limit an idle worker of another key is evicted.
      const other = ok(await small.call(spec('javascript', 'build-evict'), req('text', 'x')));
      assert.equal(other.result, 'Hello x');
      assert.deepEqual(small.stats().perKey, { 'build-evict': 1 });
    } finally {
      await small.close();
    }
  });

  test('idle workers are stopped after idleTimeoutMs', async () => {
    const quick = makePool({ idleTimeoutMs: 200 });
    try {
      ok(await quick.call(spec('javascript', 'build-idle'), req('text', 'x')));
      assert.equal(quick.stats().idle, 1);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(quick.stats().workers, 0);
    } finally {
      await quick.close();
    }
  });
});

describe('worker insights route', () => {
  test('unknown tokens are 404, bad JSON is 400, any Content-Type is read as JSON', async () => {
    const post = (path: string, body: string, type?: string) =>
      fetch(`${baseUrl}${path}`, { method: 'POST', body, headers: type ? { 'content-type': type } : {} });
    const unknown = await post('/worker/nope/v1/insights', '[]', 'application/json');
    assert.equal(unknown.status, 404);
    assert.match(((await unknown.json()) as { error: { message: string } }).error.message, /unknown or finished call/);
    const bad = await post('/worker/nope/v1/insights', '{not json', 'text/plain');
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /Invalid JSON/);
    const form = await post('/worker/nope/v1/insights', '{"a": 1}', 'application/x-www-form-urlencoded');
    assert.equal(form.status, 404, 'parsed as JSON, then refused for the token');
  });

  test('the Python lib sends the official client\'s wire format and raises the server\'s message', async () => {
    const seen: { method?: string; url?: string; headers?: Record<string, unknown>; body?: string }[] = [];
    const record: RequestListener = (rq, rs) => {
      let body = '';
      rq.on('data', (c) => (body += c));
      rq.on('end', () => {
        seen.push({ method: rq.method, url: rq.url, headers: rq.headers, body });
        const refuse = body.includes('request_id');
        rs.writeHead(refuse ? 400 : 200, { 'content-type': 'application/json' });
        rs.end(JSON.stringify(refuse ? { error: { message: 'insight key "request_id" is reserved' } } : { response: 'ok' }));
      });
    };
    const { server: rawServer, url } = await listen(record);
    try {
      const script = [
        'import Algorithmia',
        "Algorithmia.client().report_insights({'cats_in_image': 4, 'approved': True, 'risk': 0.25, 'label': 'x'})",
        'try:',
        "    Algorithmia.client('simKEY').report_insights({'request_id': 1})",
        'except Algorithmia.InsightsError as e:',
        "    print('refused:', e)",
      ].join('\n');
      // Asynchronously: the server answering the lib lives in this process.
      const { stdout: out } = await promisify(execFile)(PYTHON, ['-c', script], {
        env: { PATH: '/usr/bin:/bin', PYTHONDONTWRITEBYTECODE: '1', PYTHONPATH: join(__dirname, '../../runtimes/python'), ALGORITHMIA_API: `${url}/worker/tok` },
        encoding: 'utf8',
      });
      assert.equal(out.trim(), 'refused: insight key "request_id" is reserved');
      assert.equal(seen.length, 2);
      const first = seen[0];
      assert.equal(first.method, 'POST');
      assert.equal(first.url, '/worker/tok/v1/insights');
      assert.equal(first.headers?.['content-type'], 'application/json');
      assert.equal(first.headers?.authorization, undefined, 'no Authorization header, even with an API key');
      assert.equal(seen[1].headers?.authorization, undefined);
      // Byte for byte what algorithmia 2.0.5 sends: json.dumps of the list, default separators.
      assert.equal(
        first.body,
        '[{"insight_key": "cats_in_image", "insight_value": 4}, {"insight_key": "approved", "insight_value": true}, ' +
          '{"insight_key": "risk", "insight_value": 0.25}, {"insight_key": "label", "insight_value": "x"}]',
      );
    } finally {
      await new Promise((resolve) => rawServer.close(resolve));
    }
  });
});
