// The benchmarks' load generator, in a process of its own so that its CPU is never counted as the
// service's (bench/execution.ts spawns one per measured case). Takes the autocannon options as
// JSON in argv[2]; prints one line of JSON with the result.
const autocannon = require('autocannon') as (o: unknown, cb: (err: Error | null, r: AutocannonResult) => void) => unknown;

interface AutocannonResult {
  requests: { total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as Record<string, unknown>;
autocannon({ ...options, sampleInt: 100 }, (err, r) => {
  if (err) {
    console.error(err);
    process.exit(1);
  }
  process.stdout.write(`${JSON.stringify({ total: r.requests.total, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors + r.timeouts })}\n`);
});
