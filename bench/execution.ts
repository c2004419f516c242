// Execution throughput and latency with warm workers, Insights on vs off, against a bare express
// JSON route as the ceiling of the HTTP stack, and against a fire-and-forget peer. A trivial
// Python and a trivial JavaScript algorithm are each published twice (0.1.0 with Insights, 0.2.0
// without); autocannon, in a process of its own (bench/load-generator.ts), drives every case in
// interleaved rounds (the order rotates) so machine noise hits all sides alike, and the
// comparisons are medians of per-round paired ratios. Saturating cases use `connections`; light
// pairs (4 connections) show the per-call latency cost without queueing.
// The whole pipeline runs, as in production: a plaintext connection to the project's broker, and
// the relay delivering every payload while the load runs (its CPU shares the machine with the
// calls). CPU is attributed by pid (bench/cpu.ts): Beacon (this process), its workers, this
// database's PostgreSQL backends, the project's broker; never the load generator.
// "peer": the Insights version with the durable sink swapped for a fire-and-forget one that calls
// kafkajs producer.send per execution and does not wait (what a Seldon/KServe-style request logger
// does; bench-only, not a product mode). Beacon durable / peer is the cost of durability.
// BENCH_RELAY=0 leaves the relay off, to measure the request path's share alone.
// Prints a table and writes bench/results/execution.json.
//
// Usage: node --import tsx bench/execution.ts [rounds=3] [seconds=3] [connections=32]
//        BENCH_SANDBOX=compare node --import tsx bench/execution.ts [rounds] [seconds] [connections]
import { mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { AlgorithmAuthor } from '../test/support/execution-helpers';
import { admin, connectionFor, freshTopic } from '../test/support/insights-helpers';
import { startTestApp } from '../test/support/app';
import { Kafka } from 'kafkajs';
import { buildPayload, ceSource, cloudEventHeaders, messageKey } from '../src/insights/payload';
import type { InsightsRecord } from '../src/insights/insights-sink';
import { deleteTopic, ensureKafka } from '../test/support/kafka';
import { attributionFor, COMPONENTS, type Component, cpuSince, type CpuTimes, snapshot } from './cpu';
import { sandboxCompare } from './sandbox-cost';
import { loadGenerator } from './load';

const rounds = Number(process.argv[2] ?? 3);
const seconds = Number(process.argv[3] ?? 3);
const connections = Number(process.argv[4] ?? 32);
const workersPerVersion = Number(process.env.BENCH_WORKERS_PER_VERSION ?? 2);
const LIGHT = 4; // connections for the unsaturated latency cases
const relayMode = process.env.BENCH_RELAY === '0' ? 'off' : 'in the service';
const withRelay = relayMode !== 'off';

const PY = 'def apply(input):\n    return input\n';
const JS = 'exports.apply = function (input) { return input; };\n';
const BODY = JSON.stringify({ n: 1, s: 'hello' });

interface Case {
  name: string;
  url: string;
  headers: Record<string, string>;
  /** Swap the durable sink for the fire-and-forget peer while this case runs. */
  peer?: boolean;
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

let generatorPid: number | undefined;

async function run(c: Case, duration: number, attribution: ReturnType<typeof attributionFor>): Promise<Sample> {
  const cpu0 = await snapshot(attribution);
  const r = await loadGenerator(
    { url: c.url, method: 'POST', headers: c.headers, body: BODY, connections: c.connections ?? connections, duration },
    (pid) => (generatorPid = pid ?? generatorPid),
  );
  const cpu = await cpuSince(cpu0, attribution);
  return { reqPerSec: r.total / duration, p50: r.p50, p99: r.p99, requests: r.total, non2xx: r.non2xx, errors: r.errors, cpu };
}

/** The fire-and-forget peer's sink: one producer.send per execution, not awaited, nothing stored. */
function peerSink(kafka: Kafka, topic: string) {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  const connected = producer.connect();
  return {
    accept(r: InsightsRecord): Promise<void> {
      const headers = cloudEventHeaders({ requestId: r.requestId, ceSource: ceSource(r), eventTime: r.time.toISOString() });
      void connected.then(() => producer.send({ topic, messages: [{ key: messageKey(r), value: buildPayload(r), headers }] })).catch(() => undefined);
      return Promise.resolve();
    },
    close: () => producer.disconnect(),
  };
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
    const info = await ensureKafka();
    const topic = await freshTopic(info, 'bench-execution', topics, 3);
    const peerTopic = await freshTopic(info, 'bench-peer', topics, 3);
    const r = await t.request.post('/v1/admin/insights-connection').set(admin).send(connectionFor(info, 'plaintext', topic, ''));
    if (r.status !== 200) throw new Error(`could not configure the Insights connection: ${r.status} ${r.text}`);
    if (withRelay) t.beacon.insights.start();
    const peer = peerSink(new Kafka({ clientId: 'bench-peer', brokers: [info.plaintext], logLevel: 0 }), peerTopic);
    cleanup.push(async () => {
      await t.beacon.insights.stop();
      await peer.close();
      for (const x of topics) await deleteTopic(info, x);
    });
    const headers = { Authorization: `Simple ${author.key}`, 'Content-Type': 'application/json' };
    const algo = (name: string, v: string, label: string, extra: Partial<Case> = {}): Case => ({
      name: `${name} ${label}`,
      url: `${t.url}/v1/algo/bench/${name}/${v}`,
      headers,
      ...extra,
    });
    const groups: Case[][] = [];
    for (const name of ['PyTrivial', 'JsTrivial']) {
      groups.push([algo(name, '0.1.0', 'on'), algo(name, '0.2.0', 'off'), algo(name, '0.1.0', 'peer', { peer: true })]);
      groups.push([algo(name, '0.1.0', `on @${LIGHT}`, { connections: LIGHT }), algo(name, '0.2.0', `off @${LIGHT}`, { connections: LIGHT })]);
    }
    const bareCase: Case = { name: 'bare express', url: bare.url, headers: { 'Content-Type': 'application/json' } };
    const all = [...groups.flat(), bareCase];

    const sink = t.beacon.insights.sink;
    const realAccept = sink.accept;
    const attribution = attributionFor(t.testDb.db, () => (generatorPid === undefined ? [] : [generatorPid]));
    const measure = async (c: Case, duration: number) => {
      if (c.peer) sink.accept = (rec) => peer.accept(rec);
      try {
        return await run(c, duration, attribution);
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
    const comparisons = ['PyTrivial', 'JsTrivial'].flatMap((n) => [
      { label: `${n} on vs off`, ...paired(`${n} on`, `${n} off`) },
      { label: `${n} on vs off, ${LIGHT} connections`, ...paired(`${n} on @${LIGHT}`, `${n} off @${LIGHT}`) },
      { label: `${n} on (durable) vs peer (fire-and-forget)`, ...paired(`${n} on`, `${n} peer`) },
      { label: `${n} peer vs off`, ...paired(`${n} peer`, `${n} off`) },
    ]);
    // CPU each payload adds, by process: on minus off, per request (medians of per-round pairs).
    const addedCpu = ['PyTrivial', 'JsTrivial'].flatMap((n) =>
      [`${n} on`, `${n} peer`].map((c) => ({
        label: `${c} - off`,
        ...Object.fromEntries(
          COMPONENTS.map((k) => [k, median(samples.get(c)!.map((x, i) => x.cpu[k] / x.requests - samples.get(`${n} off`)![i].cpu[k] / samples.get(`${n} off`)![i].requests))]),
        ),
      })),
    );
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
    console.log('\nCPU ms per request       beacon  workers postgres    kafka    total   (by pid; the load generator is its own process)');
    for (const [name, s] of Object.entries(summary)) {
      const c = s.cpuMsPerRequest as Record<Component, number>;
      const cells = [...COMPONENTS.map((k) => c[k]), COMPONENTS.reduce((a, k) => a + c[k], 0)];
      console.log(`${name.padEnd(22)} ${cells.map((v) => v.toFixed(3).padStart(8)).join(' ')}`);
    }
    console.log('\nCPU ms added per payload  beacon  workers postgres    kafka    total   (median of per-round on - off)');
    for (const row of addedCpu) {
      const c = row as unknown as Record<Component, number>;
      console.log(`${row.label.padEnd(22)} ${[...COMPONENTS.map((k) => c[k]), COMPONENTS.reduce((a, k) => a + c[k], 0)].map((v) => v.toFixed(3).padStart(8)).join(' ')}`);
    }
    console.log(`Insights payloads accepted into the outbox during the run: ${accepted}; delivered to Kafka by then: ${withRelay ? `${delivered} (relay ${relayMode})` : 'relay off (BENCH_RELAY=0)'}`);

    const out = path.join(__dirname, 'results', 'execution.json');
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(
      out,
      `${JSON.stringify({ date: new Date().toISOString(), rounds, seconds, connections, workersPerVersion, cpus: os.cpus().length, summary, comparisons, addedCpu, relay: relayMode, loadAverage: os.loadavg(), insightsAccepted: accepted, insightsDelivered: delivered }, null, 2)}\n`,
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
