// CPU time by component, from /proc (Linux): where a benchmark case spends the machine's cores.
// Components: this process (Beacon with the relay, and the in-process load generator), algorithm
// workers (its child processes), PostgreSQL (every `postgres` process) and the Kafka broker (`java`).
import fs from 'node:fs';
import os from 'node:os';

export type Component = 'beacon' | 'workers' | 'postgres' | 'kafka';
export type CpuTimes = Record<Component, number>; // milliseconds of CPU

const TICK_MS = 1000 / 100; // USER_HZ is 100 on Linux

export function cpuSnapshot(): CpuTimes {
  const total: CpuTimes = { beacon: 0, workers: 0, postgres: 0, kafka: 0 };
  if (os.platform() !== 'linux') return total;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' '); // fields[0] is field 3 (state)
    const ppid = Number(fields[1]);
    const ms = (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime + stime
    const component: Component | undefined =
      Number(pid) === process.pid ? 'beacon' : ppid === process.pid ? 'workers' : comm === 'postgres' ? 'postgres' : comm === 'java' ? 'kafka' : undefined;
    if (component) total[component] += ms;
  }
  return total;
}

export function cpuSince(before: CpuTimes): CpuTimes {
  const now = cpuSnapshot();
  return { beacon: now.beacon - before.beacon, workers: now.workers - before.workers, postgres: now.postgres - before.postgres, kafka: now.kafka - before.kafka };
}
