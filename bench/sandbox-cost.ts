// The sandbox's cost (run by bench/execution.ts when BENCH_SANDBOX=compare): warm-call throughput
// and latency with WORKER_SANDBOX=on against off, one Beacon each, interleaved rounds with a
// rotating order (machine noise hits both sides alike; ratios are medians of per-round pairs), and
// the worker cold start: the wall time of the first call on a brand-new worker, through the pool.
// The load comes from a process of its own (bench/load.ts), and each run reports the CPU per call of
// the Beacon under load and of its workers (their bwrap, forwarder and slirp4netns included).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AlgorithmAuthor } from '../test/support/execution-helpers';
import { startTestApp, type TestApp } from '../test/support/app';
import { attributionFor, cpuSince, snapshot } from './cpu';
import { loadGenerator } from './load';

const PY = 'def apply(input):\n    return input\n';
const JS = 'exports.apply = function (input) { return input; };\n';
const BODY = JSON.stringify({ n: 1, s: 'hello' });

let generatorPid: number | undefined;

/** One load run against `app` from a process of its own, with the CPU it cost by component. */
async function load(app: TestApp, url: string, key: string, connections: number, duration: number) {
  const attribution = attributionFor(app.testDb.db, () => (generatorPid === undefined ? [] : [generatorPid]));
  const cpu0 = await snapshot(attribution);
  const own0 = process.cpuUsage();
  const r = await loadGenerator(
    { url, method: 'POST', headers: { Authorization: `Simple ${key}`, 'Content-Type': 'application/json' }, body: BODY, connections, duration },
    (pid) => (generatorPid = pid ?? generatorPid),
  );
  const cpu = await cpuSince(cpu0, attribution);
  const own = process.cpuUsage(own0);
  const calls = Math.max(1, r.total);
  return {
    rps: r.total / duration,
    p50: r.p50,
    p99: r.p99,
    bad: r.non2xx + r.errors,
    // CPU µs per call: Beacon's process (the other Beacon is idle meanwhile) and the workers (with bwrap, forwarder, slirp4netns).
    beaconUs: (cpu.beacon * 1000) / calls,
    workersUs: (cpu.workers * 1000) / calls,
    // Beacon's CPU split into user and kernel time (process.cpuUsage, µs resolution)
    beaconUserUs: own.user / calls,
    beaconSysUs: own.system / calls,
  };
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
    const samples: Record<string, { rps: number[]; p99: number[]; p50: number[]; beaconUs: number[]; beaconUserUs: number[]; beaconSysUs: number[]; workersUs: number[] }> = {};
    for (const side of ['on', 'off']) for (const c of cases) for (const conn of [connections, 4]) samples[`${c} ${side} @${conn}`] = { rps: [], p99: [], p50: [], beaconUs: [], beaconUserUs: [], beaconSysUs: [], workersUs: [] };
    const ratios: Record<string, number[]> = {};
    // Warm-up, not recorded: a Beacon keeps getting faster for its first ~10 s under load (the JIT's
    // tiers, the heap's sizing); a 1 s warm-up left the first rounds ~25% slower than the later ones.
    // Both Beacons run the same code in one process, so they warm each other's functions too.
    const warmup = Number(process.env.BENCH_WARMUP_SECONDS ?? 4);
    for (let i = 0; i < 2; i++) for (const side of ['on', 'off'] as const) for (const c of cases) await load(apps[side], `${apps[side].url}/v1/algo/bench/${c}`, keys[side], connections, warmup);
    for (let round = 0; round < rounds; round++) {
      for (const c of cases) {
        for (const conn of [connections, 4]) {
          const order = round % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
          const got: Record<string, number> = {};
          for (const side of order) {
            const r = await load(apps[side], `${apps[side].url}/v1/algo/bench/${c}`, keys[side], conn, seconds);
            if (r.bad) throw new Error(`${c} ${side}: ${r.bad} failed requests`);
            const s = samples[`${c} ${side} @${conn}`];
            s.rps.push(r.rps);
            s.p50.push(r.p50);
            s.p99.push(r.p99);
            s.beaconUs.push(r.beaconUs);
            s.beaconUserUs.push(r.beaconUserUs);
            s.beaconSysUs.push(r.beaconSysUs);
            s.workersUs.push(r.workersUs);
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
    const table = Object.entries(samples).map(([name, s]) => ({ case: name, 'req/s': Math.round(median(s.rps)), 'p50 ms': median(s.p50), 'p99 ms': median(s.p99), 'Beacon CPU µs/call': Math.round(median(s.beaconUs)), 'of it user / kernel': `${Math.round(median(s.beaconUserUs))} / ${Math.round(median(s.beaconSysUs))}`, 'workers CPU µs/call': Math.round(median(s.workersUs)) }));
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
