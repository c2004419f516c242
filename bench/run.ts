// `npm run bench`: every benchmark in turn, each printing its own table and writing
// bench/results/<name>.json, then a summary. Not part of `npm test`: numbers, not pass/fail.
// Needs the machine's PostgreSQL (or TEST_DATABASE_URL) and starts the project's Kafka broker
// (KAFKA_*_PORT as for the tests). Every benchmark runs under a hard time bound.
//
// Usage: npm run bench [-- <name>...] [-- --quick]
//   names: execution, sandbox, pipeline, publish, relay (100,000 payloads), relay-million (1,000,000); default: all
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const quick = process.argv.includes('--quick');
const root = path.join(__dirname, '..');

interface Bench {
  label: string;
  args: string[];
  /** Hard bound: the benchmark is killed after this long. */
  minutes: number;
  env?: Record<string, string>;
}

const BENCHES: Record<string, Bench> = {
  execution: {
    label: 'execution: Python and JavaScript, Insights on/off/peer at 32 and 4 connections, bare express',
    args: quick ? ['bench/execution.ts', '2', '2', '32'] : ['bench/execution.ts', '3', '3', '32'],
    minutes: 20,
  },
  sandbox: {
    label: 'worker sandbox: on vs off, warm throughput and cold start',
    args: quick ? ['bench/execution.ts', '2', '3', '16'] : ['bench/execution.ts', '6', '3', '16'],
    minutes: 15,
    env: { BENCH_SANDBOX: 'compare' },
  },
  pipeline: { label: 'Insights pipeline: CPU per payload (write, relay, broker)', args: ['bench/pipeline-cpu.ts', '4', quick ? '3' : '6'], minutes: 10 },
  publish: { label: 'publish latency', args: ['bench/publish.ts', quick ? '50' : '200'], minutes: 10 },
  relay: { label: 'relay: drain 100,000 payloads to Kafka', args: ['bench/relay.ts', quick ? '20000' : '100000'], minutes: 10 },
  'relay-million': { label: 'relay: drain 1,000,000 payloads to Kafka', args: ['bench/relay.ts', '1000000'], minutes: 20 },
};

const asked = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const unknown = asked.filter((a) => !(a in BENCHES));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark(s) ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}\n`);
  process.exit(2);
}
const chosen = asked.length > 0 ? asked : Object.keys(BENCHES);

const broker = spawnSync('bash', ['scripts/kafka/start.sh'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
const info = broker.stdout.trim().split('\n').pop() ?? '';
if (broker.status !== 0 || !info.startsWith('{')) {
  process.stderr.write('could not start the Kafka broker (scripts/kafka/start.sh)\n');
  process.exit(1);
}
const env = { ...process.env, KAFKA_BOOTSTRAP_INFO: info, LOG_LEVEL: 'silent' };

let failures = 0;
for (const name of chosen) {
  const b = BENCHES[name];
  process.stdout.write(`\n=== ${name}: ${b.label} ===\n`);
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...b.args], { cwd: root, stdio: 'inherit', env: { ...env, ...b.env }, timeout: b.minutes * 60_000, killSignal: 'SIGKILL' });
  const timedOut = r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
  process.stdout.write(`(${name}: ${((Date.now() - started) / 1000).toFixed(0)} s, ${timedOut ? `killed after ${b.minutes} min` : `exit ${r.status}`})\n`);
  if (r.status !== 0) failures += 1;
}

const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}, load average ${os.loadavg()[0].toFixed(2)}`;
const summary: Record<string, unknown> = { machine, at: new Date().toISOString() };
for (const f of ['execution', 'publish', 'relay']) {
  const p = path.join(root, 'bench', 'results', `${f}.json`);
  if (fs.existsSync(p)) summary[f] = JSON.parse(fs.readFileSync(p, 'utf8'));
}
fs.mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
fs.writeFileSync(path.join(root, 'bench', 'results', 'summary.json'), JSON.stringify(summary, null, 2));
process.stdout.write(`\nmachine: ${machine}\nresults: bench/results/*.json${failures ? `\n${failures} benchmark(s) failed` : ''}\n`);
process.exit(failures ? 1 : 0);
