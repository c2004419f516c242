// The sandbox's cost (run by bench/execution.ts when BENCH_SANDBOX=compare): warm-call throughput
// and latency with WORKER_SANDBOX=on against off, one Beacon each, interleaved rounds with a
// rotating order (machine noise hits both sides alike; ratios are medians of per-round pairs), and
// the worker cold start: the wall time of the first call on a brand-new worker, through the pool.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AlgorithmAuthor } from '../test/support/execution-helpers';
import { startTestApp, type TestApp } from '../test/support/app';

const PY = 'def apply(input):\n    return input\n';
const JS = 'exports.apply = function (input) { return input; };\n';
const BODY = JSON.stringify({ n: 1, s: 'hello' });

interface AutocannonResult {
  requests: { total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}
const autocannon = require('autocannon') as (o: object, cb: (err: Error | null, r: AutocannonResult) => void) => unknown;

function load(url: string, key: string, connections: number, duration: number): Promise<{ rps: number; p50: number; p99: number; bad: number }> {
  return new Promise((resolve, reject) => {
    autocannon({ url, method: 'POST', headers: { Authorization: `Simple ${key}`, 'Content-Type': 'application/json' }, body: BODY, connections, duration }, (err, r) =>
      err ? reject(err) : resolve({ rps: r.requests.total / duration, p50: r.latency.p50, p99: r.latency.p99, bad: r.non2xx + r.errors }),
    );
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

async function coldStarts(t: TestApp, language: 'python3' | 'javascript', network: 'isolated' | 'full', n: number): Promise<number[]> {
  const files: Record<string, string> = language === 'python3' ? { 'src/Cold.py': PY, 'src/__init__.py': '' } : { 'src/Cold.js': JS };
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const r = await t.beacon.execution.pool.call(
      { key: `cold-${language}-${network}-${i}-${Date.now()}`, language, algoName: 'Cold', files, network },
      { contentType: 'json', data: Buffer.from(JSON.stringify({ i })), timeoutMs: 30_000, requestId: `cold-${i}` },
    );
    if (r.kind !== 'result') throw new Error(`cold call failed: ${JSON.stringify(r)}`);
    out.push(performance.now() - started);
  }
  return out;
}

export async function sandboxCompare(rounds: number, seconds: number, connections: number): Promise<void> {
  const apps: Record<'on' | 'off', TestApp> = {
    on: await startTestApp({ WORKER_SANDBOX: 'on', WORKER_MAX_PER_VERSION: '2', LOG_LEVEL: 'error' }),
    off: await startTestApp({ WORKER_SANDBOX: 'off', WORKER_MAX_PER_VERSION: '2', LOG_LEVEL: 'error' }),
  };
  try {
    const keys: Record<string, string> = {};
    for (const side of ['on', 'off'] as const) {
      keys[side] = await apps[side].createUser('bench');
      const author = new AlgorithmAuthor(apps[side], 'bench', keys[side]);
      await author.deploy('PyTrivial', 'python3', PY);
      await author.deploy('JsTrivial', 'javascript', JS);
    }
    const cases = ['PyTrivial', 'JsTrivial'];
    const samples: Record<string, { rps: number[]; p99: number[]; p50: number[] }> = {};
    for (const side of ['on', 'off']) for (const c of cases) for (const conn of [connections, 4]) samples[`${c} ${side} @${conn}`] = { rps: [], p99: [], p50: [] };
    const ratios: Record<string, number[]> = {};
    for (const side of ['on', 'off'] as const) for (const c of cases) await load(`${apps[side].url}/v1/algo/bench/${c}`, keys[side], connections, 1); // warm-up
    for (let round = 0; round < rounds; round++) {
      for (const c of cases) {
        for (const conn of [connections, 4]) {
          const order = round % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
          const got: Record<string, number> = {};
          for (const side of order) {
            const r = await load(`${apps[side].url}/v1/algo/bench/${c}`, keys[side], conn, seconds);
            if (r.bad) throw new Error(`${c} ${side}: ${r.bad} failed requests`);
            const s = samples[`${c} ${side} @${conn}`];
            s.rps.push(r.rps);
            s.p50.push(r.p50);
            s.p99.push(r.p99);
            got[side] = r.rps;
          }
          (ratios[`${c} @${conn}`] ??= []).push(got.on / got.off);
        }
      }
    }
    const cold: Record<string, number[]> = {
      'python3 off': await coldStarts(apps.off, 'python3', 'isolated', 15),
      'python3 on isolated': await coldStarts(apps.on, 'python3', 'isolated', 15),
      'python3 on full': await coldStarts(apps.on, 'python3', 'full', 15),
      'javascript off': await coldStarts(apps.off, 'javascript', 'isolated', 10),
      'javascript on isolated': await coldStarts(apps.on, 'javascript', 'isolated', 10),
    };
    const table = Object.entries(samples).map(([name, s]) => ({ case: name, 'req/s': Math.round(median(s.rps)), 'p50 ms': median(s.p50), 'p99 ms': median(s.p99) }));
    console.table(table);
    console.table(Object.entries(ratios).map(([name, r]) => ({ case: name, 'on/off throughput (median of rounds)': Number(median(r).toFixed(3)), rounds: r.map((x) => x.toFixed(3)).join(' ') })));
    console.table(Object.entries(cold).map(([name, xs]) => ({ 'cold start (first call on a new worker)': name, 'median ms': Number(median(xs).toFixed(1)), 'p90 ms': Number(pct(xs, 0.9).toFixed(1)) })));
    const out = path.join(__dirname, 'results', 'sandbox.json');
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, JSON.stringify({ when: new Date().toISOString(), rounds, seconds, connections, samples, ratios, cold }, null, 2));
  } finally {
    await apps.on.close();
    await apps.off.close();
  }
}
