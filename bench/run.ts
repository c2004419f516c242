// `npm run bench`: every benchmark in turn, each printing its own table and writing
// bench/results/<name>.json, then a summary. Not part of `npm test`: numbers, not pass/fail.
// Needs the machine's PostgreSQL (or TEST_DATABASE_URL) and starts the project's Kafka broker.
//
// Usage: npm run bench [-- --quick] [-- --million]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const quick = process.argv.includes('--quick');
const million = process.argv.includes('--million');
const root = path.join(__dirname, '..');

function run(label: string, args: string[], env: Record<string, string> = {}): number {
  process.stdout.write(`\n=== ${label} ===\n`);
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...args], { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  process.stdout.write(`(${label}: ${((Date.now() - started) / 1000).toFixed(0)} s, exit ${r.status})\n`);
  return r.status ?? 1;
}

const broker = spawnSync('bash', ['scripts/kafka/start.sh'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
const info = broker.stdout.trim().split('\n').pop() ?? '';
if (broker.status !== 0 || !info.startsWith('{')) {
  process.stderr.write('could not start the Kafka broker (scripts/kafka/start.sh)\n');
  process.exit(1);
}
const env = { KAFKA_BOOTSTRAP_INFO: info, LOG_LEVEL: 'silent' };

const failures = [
  run('execution: Python and JavaScript, Insights on/off, bare express', quick ? ['bench/execution.ts', '2', '3', '32'] : ['bench/execution.ts', '6', '4', '32'], env),
  run('worker sandbox: on vs off, warm throughput and cold start', quick ? ['bench/execution.ts', '2', '3', '16'] : ['bench/execution.ts', '6', '3', '16'], { ...env, BENCH_SANDBOX: 'compare' }),
  run('Insights pipeline: CPU per payload (write, relay, broker)', ['bench/pipeline-cpu.ts', '4', quick ? '3' : '8'], env),
  run('publish latency', ['bench/publish.ts', quick ? '50' : '200'], env),
  run('relay: drain 100,000 payloads to Kafka', ['bench/relay.ts', quick ? '20000' : '100000'], env),
  ...(million ? [run('relay: drain 1,000,000 payloads to Kafka', ['bench/relay.ts', '1000000'], env)] : []),
].filter((s) => s !== 0).length;

const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
const summary: Record<string, unknown> = { machine, at: new Date().toISOString() };
for (const f of ['execution', 'publish', 'relay']) {
  const p = path.join(root, 'bench', 'results', `${f}.json`);
  if (fs.existsSync(p)) summary[f] = JSON.parse(fs.readFileSync(p, 'utf8'));
}
fs.mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
fs.writeFileSync(path.join(root, 'bench', 'results', 'summary.json'), JSON.stringify(summary, null, 2));
process.stdout.write(`\nmachine: ${machine}\nresults: bench/results/*.json${failures ? `\n${failures} benchmark(s) failed` : ''}\n`);
process.exit(failures ? 1 : 0);
