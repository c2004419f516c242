// The client side of bench/load-generator.ts: one autocannon measurement in a process of its own,
// so that its CPU is never counted as the service's.
import { spawn } from 'node:child_process';
import path from 'node:path';

export interface LoadResult {
  total: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

/** Runs one autocannon measurement in its own process; `started` gets its pid (left out of the CPU). */
export function loadGenerator(options: Record<string, unknown>, started: (pid: number | undefined) => void): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'load-generator.ts'), JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
    started(child.pid);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), (Number(options.duration) + 60) * 1000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      started(undefined);
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`load generator exited ${code}: ${out}`));
      else resolve(JSON.parse(line) as LoadResult);
    });
  });
}
