// Execution throughput and latency with warm workers, Insights on vs off, against a bare express
// JSON route as the ceiling of the HTTP stack. A trivial Python and a trivial JavaScript algorithm
// are each published twice (0.1.0 with Insights, 0.2.0 without); autocannon drives every case in
// interleaved rounds (the on/off order rotates) so machine noise hits both sides alike, and the
// comparisons are medians of per-round paired ratios. Saturating cases use `connections`; a light
// pair (4 connections) shows the per-call latency cost without queueing.
// The whole pipeline runs, as in production: a plaintext connection to the project's broker, and
// the relay delivering every payload while the load runs (its CPU shares the machine with the
// calls). BENCH_RELAY=0 leaves the relay off, to measure the request path's share alone;
// BENCH_RELAY=process runs the relay in a second Beacon process on the same database (the replica
// topology of docs/operations.md: API replicas with INSIGHTS_RELAY_ENABLED=false, one relay).
// Prints a table and writes bench/results/execution.json.
//
// Usage: node --import tsx bench/execution.ts [rounds=6] [seconds=4] [connections=32]
//        BENCH_SANDBOX=compare node --import tsx bench/execution.ts [rounds] [seconds] [connections]
import { mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { AlgorithmAuthor } from '../test/support/execution-helpers';
import { admin, connectionFor, freshTopic } from '../test/support/insights-helpers';
import { startTestApp } from '../test/support/app';
import { type BeaconProcess, startBeaconProcess } from '../test/support/beacon-process';
import { deleteTopic, ensureKafka } from '../test/support/kafka';
import { type Component, cpuSince, cpuSnapshot, type CpuTimes } from './cpu';
import { sandboxCompare } from './sandbox-cost';

const rounds = Number(process.argv[2] ?? 6);
const seconds = Number(process.argv[3] ?? 4);
const connections = Number(process.argv[4] ?? 32);
const workersPerVersion = Number(process.env.BENCH_WORKERS_PER_VERSION ?? 2);
const LIGHT = 4; // connections for the unsaturated latency cases
const relayMode =
  process.env.BENCH_RELAY === '0' ? 'off' : process.env.BENCH_RELAY === 'process' ? 'process' : /^(1|true)$/.test(process.env.INSIGHTS_RELAY_THREAD ?? '') ? 'worker thread' : 'main thread';
const withRelay = relayMode !== 'off';
const COMPONENTS: Component[] = ['beacon', 'workers', 'postgres', 'kafka'];

const PY = 'def apply(input):\n    return input\n';
const JS = 'exports.apply = function (input) { return input; };\n';
const BODY = JSON.stringify({ n: 1, s: 'hello' });

// autocannon ships no types (and @types/autocannon is not a dependency): the slice used here.
interface AutocannonResult {
  requests: { total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
type AutocannonOptions = { url: string; method: 'POST'; headers: Record<string, string>; body: string; connections: number; duration: number };
const autocannon = require('autocannon') as (o: AutocannonOptions, cb: (err: Error | null, r: AutocannonResult) => void) => unknown;

interface Case {
  name: string;
  url: string;
  headers: Record<string, string>;
  /** Swap the Insights sink for one that stores nothing while this case runs (isolates its cost). */
  noopSink?: boolean;
  /** Fewer connections than the saturating default: latency without queueing. */
  connections?: number;
}
interface Sample {
  reqPerSec: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
  cpu: CpuTimes;
}

function run(c: Case, duration: number): Promise<Sample> {
  const cpu0 = cpuSnapshot();
  return new Promise((resolve, reject) => {
    autocannon(
      { url: c.url, method: 'POST', headers: c.headers, body: BODY, connections: c.connections ?? connections, duration },
      (err, r) => {
        if (err) return reject(err);
        resolve({
          reqPerSec: r.requests.total / duration,
          p50: r.latency.p50,
          p99: r.latency.p99,
          requests: r.requests.total,
          non2xx: r.non2xx,
          errors: r.errors + r.timeouts,
          cpu: cpuSince(cpu0),
        });
      },
    );
  });
}

async function bareExpress(): Promise<{ url: string; close(): Promise<void> }> {
  const app = express();
  app.post('/bare', express.json({ type: () => true }), (req, res) => {
    res.json({ result: req.body, metadata: { content_type: 'json', duration: 0 } });
  });
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/bare`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main(): Promise<void> {
  const t = await startTestApp({
    WORKER_MAX_PER_VERSION: String(workersPerVersion),
    WORKER_MAX_TOTAL: String(Math.max(16, workersPerVersion * 4)),
    ...(process.env.INSIGHTS_RELAY_LINGER_MS ? { INSIGHTS_RELAY_LINGER_MS: process.env.INSIGHTS_RELAY_LINGER_MS } : {}),
    ...(process.env.INSIGHTS_RELAY_THREAD ? { INSIGHTS_RELAY_THREAD: process.env.INSIGHTS_RELAY_THREAD } : {}),
    ...(relayMode === 'process' ? { INSIGHTS_RELAY_ENABLED: 'false' } : {}),
  });
  const bare = await bareExpress();
  const topics: string[] = [];
  const cleanup: Array<() => Promise<void>> = [];
  try {
    const author = new AlgorithmAuthor(t, 'bench', await t.createUser('bench'));
    for (const [name, language, code] of [['PyTrivial', 'python3', PY], ['JsTrivial', 'javascript', JS]] as const) {
      await author.deploy(name, language, code, { insights: true }); // 0.1.0
      await author.setCode(name, language, `${code}\n${language === 'python3' ? '#' : '//'} same code, no Insights\n`);
      await author.compile(name);
      await author.publish(name, { insights: false }); // 0.2.0
    }
    if (withRelay) {
      const info = await ensureKafka();
      const topic = await freshTopic(info, 'bench-execution', topics, 3);
      const r = await t.request.post('/v1/admin/insights-connection').set(admin).send(connectionFor(info, 'plaintext', topic, ''));
      if (r.status !== 200) throw new Error(`could not configure the Insights connection: ${r.status} ${r.text}`);
      let relayProcess: BeaconProcess | undefined;
      if (relayMode === 'process') {
        relayProcess = await startBeaconProcess({ DATABASE_URL: t.testDb.url, BEACON_SECRET_KEY: '0'.repeat(64), INSIGHTS_SPOOL_DIR: path.join(os.tmpdir(), `bench-relay-spool-${process.pid}`) });
      } else {
        t.beacon.insights.start();
      }
      cleanup.push(async () => {
        await relayProcess?.stop();
        await t.beacon.insights.stop();
        await deleteTopic(info, topic);
      });
    }
    const headers = { Authorization: `Simple ${author.key}`, 'Content-Type': 'application/json' };
    const algo = (name: string, v: string, label: string, noopSink = false): Case => ({
      name: `${name} ${label}`,
      url: `${t.url}/v1/algo/bench/${name}/${v}`,
      headers,
      noopSink,
    });
    // "on*": Insights on, but the sink stores nothing. Its gap to "on" is the outbox write; its gap
    // to "off" is execution's own share (building and handing over the record).
    const groups: Case[][] = [
      [algo('PyTrivial', '0.1.0', 'on'), algo('PyTrivial', '0.2.0', 'off'), algo('PyTrivial', '0.1.0', 'on*', true)],
      [algo('JsTrivial', '0.1.0', 'on'), algo('JsTrivial', '0.2.0', 'off')],
      [
        { ...algo('PyTrivial', '0.1.0', `on @${LIGHT}`), connections: LIGHT },
        { ...algo('PyTrivial', '0.2.0', `off @${LIGHT}`), connections: LIGHT },
      ],
    ];
    const bareCase: Case = { name: 'bare express', url: bare.url, headers: { 'Content-Type': 'application/json' } };
    const all = [...groups.flat(), bareCase];

    const sink = t.beacon.insights.sink;
    const realAccept = sink.accept;
    const measure = async (c: Case, duration: number) => {
      if (c.noopSink) sink.accept = async () => undefined;
      try {
        return await run(c, duration);
      } finally {
        sink.accept = realAccept;
      }
    };

    // Warm-up: starts every worker and fills the caches; not recorded.
    for (const c of all) await measure(c, 2);

    // Cases of one algorithm run back to back in a rotating order, so each round gives paired
    // samples taken under the same machine conditions.
    const samples = new Map<string, Sample[]>(all.map((c) => [c.name, []]));
    for (let r = 0; r < rounds; r++) {
      for (const g of groups) {
        const order = [...g.slice(r % g.length), ...g.slice(0, r % g.length)];
        for (const c of order) samples.get(c.name)!.push(await measure(c, seconds));
      }
      samples.get(bareCase.name)!.push(await measure(bareCase, seconds));
      process.stderr.write(`round ${r + 1}/${rounds} done\n`);
    }

    const summary = Object.fromEntries(
      [...samples].map(([name, s]) => [
        name,
        {
          reqPerSec: median(s.map((x) => x.reqPerSec)),
          p50: median(s.map((x) => x.p50)),
          p99: median(s.map((x) => x.p99)),
          requests: s.reduce((a, x) => a + x.requests, 0),
          non2xx: s.reduce((a, x) => a + x.non2xx, 0),
          errors: s.reduce((a, x) => a + x.errors, 0),
          // CPU milliseconds per request, by component (all rounds together).
          cpuMsPerRequest: Object.fromEntries(
            COMPONENTS.map((k) => [k, s.reduce((a, x) => a + x.cpu[k], 0) / Math.max(1, s.reduce((a, x) => a + x.requests, 0))]),
          ),
          rounds: s,
        },
      ]),
    );
    // Medians of per-round paired differences: robust to a noisy neighbour during one round.
    const paired = (a: string, b: string) => {
      const A = samples.get(a)!;
      const B = samples.get(b)!;
      return {
        throughputRatio: median(A.map((x, i) => x.reqPerSec / B[i].reqPerSec)),
        addedP50Ms: median(A.map((x, i) => x.p50 - B[i].p50)),
        addedP99Ms: median(A.map((x, i) => x.p99 - B[i].p99)),
      };
    };
    const bareRps = summary['bare express'].reqPerSec;
    const comparisons = [
      { label: 'PyTrivial on vs off', ...paired('PyTrivial on', 'PyTrivial off') },
      { label: 'JsTrivial on vs off', ...paired('JsTrivial on', 'JsTrivial off') },
      { label: 'PyTrivial on* vs off (execution share)', ...paired('PyTrivial on*', 'PyTrivial off') },
      { label: 'PyTrivial on vs on* (outbox write)', ...paired('PyTrivial on', 'PyTrivial on*') },
      { label: `PyTrivial on vs off, ${LIGHT} connections`, ...paired(`PyTrivial on @${LIGHT}`, `PyTrivial off @${LIGHT}`) },
    ];
    const stage = async (name: string) => (await t.beacon.metrics.insightsPayloads.get()).values.find((v) => v.labels.stage === name)?.value ?? 0;
    const accepted = await stage('accepted');
    // Counted by whichever process relays: the durable counter in the database covers both modes.
    const delivered = withRelay ? Number((await t.testDb.db('insights_counters').where({ name: 'delivered' }).first('value'))?.value ?? 0) : 0;

    console.log(`\n${rounds} rounds x ${seconds} s, ${connections} connections, ${workersPerVersion} workers per version, ${os.cpus().length} CPUs (${os.cpus()[0]?.model}), load average ${os.loadavg()[0].toFixed(2)}`);
    console.log('medians over rounds    req/s   p50 ms   p99 ms  % of bare   requests  non-2xx  errors');
    for (const [name, s] of Object.entries(summary)) {
      console.log(
        `${name.padEnd(20)} ${s.reqPerSec.toFixed(0).padStart(7)} ${s.p50.toFixed(2).padStart(8)} ${s.p99.toFixed(2).padStart(8)} ${((s.reqPerSec / bareRps) * 100).toFixed(1).padStart(9)}% ${String(s.requests).padStart(10)} ${String(s.non2xx).padStart(8)} ${String(s.errors).padStart(7)}`,
      );
    }
    console.log('\npaired per round (medians)             throughput  added p50  added p99');
    for (const c of comparisons) {
      console.log(`${c.label.padEnd(40)} ${c.throughputRatio.toFixed(3).padStart(8)}x ${c.addedP50Ms.toFixed(2).padStart(8)} ms ${c.addedP99Ms.toFixed(2).padStart(8)} ms`);
    }
    console.log('\nCPU ms per request       beacon  workers postgres    kafka    total   (beacon includes the load generator)');
    for (const [name, s] of Object.entries(summary)) {
      const c = s.cpuMsPerRequest as Record<Component, number>;
      const cells = [...COMPONENTS.map((k) => c[k]), COMPONENTS.reduce((a, k) => a + c[k], 0)];
      console.log(`${name.padEnd(22)} ${cells.map((v) => v.toFixed(3).padStart(8)).join(' ')}`);
    }
    console.log(`Insights payloads accepted into the outbox during the run: ${accepted}; delivered to Kafka by then: ${withRelay ? `${delivered} (relay ${relayMode})` : 'relay off (BENCH_RELAY=0)'}`);

    const out = path.join(__dirname, 'results', 'execution.json');
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(
      out,
      `${JSON.stringify({ date: new Date().toISOString(), rounds, seconds, connections, workersPerVersion, cpus: os.cpus().length, summary, comparisons, relay: relayMode, insightsAccepted: accepted, insightsDelivered: delivered }, null, 2)}\n`,
    );
    console.log(`wrote ${path.relative(process.cwd(), out)}`);
  } finally {
    for (const c of cleanup) await c();
    await bare.close();
    await t.close();
  }
}

// BENCH_SANDBOX=compare: the sandbox's cost instead (bench/sandbox-cost.ts), sandbox on vs off.
(process.env.BENCH_SANDBOX === 'compare' ? sandboxCompare(rounds, seconds, connections) : main()).catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
