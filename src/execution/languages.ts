// How a worker runner is started for each language (the language facts themselves live in
// platform/language-catalogue.ts).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Language } from '../platform/language-catalogue';

/** runtimes/ holds the files shipped into workers; found from src/ (tsx) or dist/src/ (tsc). */
export function defaultRuntimesDir(): string {
  const candidates = [resolve(__dirname, '../../runtimes'), resolve(__dirname, '../../../runtimes')];
  return candidates.find((d) => existsSync(join(d, 'python', 'beacon_runner.py'))) ?? candidates[0];
}

export interface RunnerSpec {
  runtimesDir: string;
  entry: string; // relative to the worker's working directory
  pythonBin: string;
  rscriptBin: string;
  nodeBin: string;
  memoryLimitMb: number;
  maxResultBytes: number; // the runner refuses a larger serialised result (TooLargeError)
}
export interface RunnerCommand {
  command: string;
  args: string[];
  env: Record<string, string>; // runtime-specific additions to the worker's clean environment
}

// `ulimit -v` caps the address space of Python and R (and their children). V8 reserves far more
// address space than it uses, so Node gets a heap limit instead.
function withAddressLimit(memoryLimitMb: number, argv: string[]): Pick<RunnerCommand, 'command' | 'args'> {
  const kb = String(Math.max(1, Math.floor(memoryLimitMb)) * 1024);
  const script = 'ulimit -v "$1" || exit 97; shift; exec "$@"';
  return { command: '/bin/sh', args: ['-c', script, 'beacon-worker', kb, ...argv] };
}

export function runnerCommand(lang: Language, s: RunnerSpec): RunnerCommand {
  const limit = String(s.maxResultBytes);
  switch (lang) {
    case 'python3': {
      const runner = join(s.runtimesDir, 'python', 'beacon_runner.py');
      const env = { PYTHONPATH: join(s.runtimesDir, 'python'), PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' };
      return { ...withAddressLimit(s.memoryLimitMb, [s.pythonBin, '-B', '-s', runner, s.entry, limit]), env };
    }
    case 'r': {
      const runner = join(s.runtimesDir, 'r', 'runner.R');
      const env = { BEACON_R_RUNTIME: join(s.runtimesDir, 'r') };
      return { ...withAddressLimit(s.memoryLimitMb, [s.rscriptBin, '--vanilla', runner, s.entry, limit]), env };
    }
    case 'javascript': {
      const runner = join(s.runtimesDir, 'javascript', 'runner.js');
      const heap = `--max-old-space-size=${Math.max(16, Math.floor(s.memoryLimitMb))}`;
      return { command: s.nodeBin, args: [heap, runner, s.entry, limit], env: { NODE_PATH: join(s.runtimesDir, 'javascript') } };
    }
  }
}
