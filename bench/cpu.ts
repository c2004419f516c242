// CPU time by component, attributed by process id from /proc (Linux): where a benchmark case spends
// the machine's cores. Components: this process (Beacon and its relay), its algorithm workers
// (descendants, except the load generator, which runs in a process of its own), the PostgreSQL
// backends serving this benchmark's database (by pid from pg_stat_activity; other engineers'
// databases on the same server are not counted), and this project's Kafka broker (the pid
// scripts/kafka/start.sh reports). Shared PostgreSQL helpers (WAL writer, checkpointer) are not
// attributed: they serve every database on the server.
import fs from 'node:fs';
import os from 'node:os';

export type Component = 'beacon' | 'workers' | 'postgres' | 'kafka';
export type CpuTimes = Record<Component, number>; // milliseconds of CPU
export const COMPONENTS: Component[] = ['beacon', 'workers', 'postgres', 'kafka'];

const TICK_MS = 1000 / 100; // USER_HZ is 100 on Linux

interface Proc {
  ppid: number;
  ms: number;
}

function readProcs(): Map<number, Proc> {
  const out = new Map<number, Proc>();
  if (os.platform() !== 'linux') return out;
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
      out.set(Number(name), { ppid: Number(fields[1]), ms: (Number(fields[11]) + Number(fields[12])) * TICK_MS });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

export interface Attribution {
  /** Pids of this benchmark's PostgreSQL backends, read when a snapshot is taken. */
  postgresPids(): Promise<number[]>;
  kafkaPid?: number;
  /** Processes (and their descendants) to leave out, e.g. the load generator. */
  exclude?: () => number[];
}

export interface CpuSnapshot {
  perPid: Map<number, { component: Component; ms: number }>;
}

function classify(procs: Map<number, Proc>, pg: Set<number>, kafka: number | undefined, exclude: Set<number>): Map<number, Component> {
  const out = new Map<number, Component>();
  const self = process.pid;
  const isDescendant = (pid: number): boolean => {
    let p = procs.get(pid)?.ppid;
    for (let hops = 0; p !== undefined && p > 1 && hops < 20; hops++) {
      if (exclude.has(p)) return false;
      if (p === self) return true;
      p = procs.get(p)?.ppid;
    }
    return false;
  };
  for (const pid of procs.keys()) {
    if (exclude.has(pid)) continue;
    if (pid === self) out.set(pid, 'beacon');
    else if (pg.has(pid)) out.set(pid, 'postgres');
    else if (kafka !== undefined && pid === kafka) out.set(pid, 'kafka');
    else if (isDescendant(pid)) out.set(pid, 'workers');
  }
  return out;
}

export async function snapshot(a: Attribution): Promise<CpuSnapshot> {
  const pg = new Set(await a.postgresPids());
  const procs = readProcs();
  const kinds = classify(procs, pg, a.kafkaPid, new Set(a.exclude?.() ?? []));
  const perPid = new Map<number, { component: Component; ms: number }>();
  for (const [pid, component] of kinds) perPid.set(pid, { component, ms: procs.get(pid)!.ms });
  return { perPid };
}

/** CPU used since `before`, by component: processes that exist now, minus what they had used then. */
export async function cpuSince(before: CpuSnapshot, a: Attribution): Promise<CpuTimes> {
  const now = await snapshot(a);
  const total: CpuTimes = { beacon: 0, workers: 0, postgres: 0, kafka: 0 };
  for (const [pid, { component, ms }] of now.perPid) total[component] += ms - (before.perPid.get(pid)?.ms ?? 0);
  return total;
}

/** The attribution for a benchmark on `db`: its backends, the broker of KAFKA_BOOTSTRAP_INFO. */
export function attributionFor(db: { raw(sql: string): PromiseLike<{ rows: Array<{ pid: number }> }> }, exclude?: () => number[]): Attribution {
  let kafkaPid: number | undefined;
  try {
    kafkaPid = (JSON.parse(process.env.KAFKA_BOOTSTRAP_INFO ?? '{}') as { pid?: number }).pid;
  } catch {
    kafkaPid = undefined;
  }
  return {
    postgresPids: async () => (await db.raw('SELECT pid FROM pg_stat_activity WHERE datname = current_database()')).rows.map((r) => Number(r.pid)),
    kafkaPid,
    exclude,
  };
}
