// Publish latency: N sequential compile + publish cycles over HTTP against a Beacon on a fresh
// database (PostgreSQL at TEST_DATABASE_URL or 127.0.0.1:5432, as the integration tests use).
// Prints numbers; it asserts nothing. Usage: node --import tsx bench/publish.ts [cycles=200]
import { performance } from 'node:perf_hooks';
import { startTestApp } from '../test/support/app';

const cycles = Number(process.argv[2] ?? 200);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(label: string, ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return `${label}: n=${s.length} p50=${percentile(s, 50).toFixed(2)}ms p90=${percentile(s, 90).toFixed(2)}ms p99=${percentile(s, 99).toFixed(2)}ms max=${s[s.length - 1].toFixed(2)}ms mean=${mean.toFixed(2)}ms`;
}

async function main(): Promise<void> {
  const t = await startTestApp();
  try {
    const key = await t.createUser('bench');
    const headers = { Authorization: `Simple ${key}`, 'Content-Type': 'application/json' };
    const post = async (path: string, body: unknown) => {
      const started = performance.now();
      const res = await fetch(`${t.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
      const text = await res.text();
      if (!res.ok) throw new Error(`${path}: ${res.status} ${text}`);
      return performance.now() - started;
    };
    await post('/v1/algorithms/bench', { name: 'Bench', settings: { language: 'python3' } });
    const compiles: number[] = [];
    const publishes: number[] = [];
    for (let i = 0; i < cycles; i++) {
      compiles.push(await post('/v1/algorithms/bench/Bench/compile', {}));
      publishes.push(await post('/v1/algorithms/bench/Bench/versions', { version_info: { version_type: 'revision' }, settings: { insights_enabled: i % 2 === 0 } }));
    }
    console.log(summary('publish', publishes));
    console.log(summary('compile (python3 syntax check included)', compiles));
  } finally {
    await t.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
