// One cgroup per worker, covering every process of its sandbox: memory (with children, native
// memory and tmpfs pages; swap too where memsw exists), number of processes and CPU share.
// cgroup v1 (a hierarchy per controller, as on this host) and v2 (one unified hierarchy) are both
// supported; `detectCgroups` says which this host has. Every Beacon process creates its groups under a
// parent named for it (beacon-<pid>-<random>), so Beacons running side by side never share or delete
// each other's groups, and removes the parent on close.
import { randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive } from '../platform/process-alive';
import type { MemoryState } from './worker-memory';

export type CgroupVersion = 'v1' | 'v2';
export interface CgroupLayout {
  version: CgroupVersion;
  /**
   * v1: controller name -> mount point, and 'tracking' for the cgroup v2 hierarchy a hybrid host
   * mounts beside them (no controllers: it only lists the worker's processes); v2: the one mount
   * point under 'unified'.
   */
  roots: Record<string, string>;
}
export interface WorkerLimits {
  memoryBytes: number;
  maxProcesses: number;
  cpuShares: number; // v1 cpu.shares (1024 = one share); v2 cpu.weight is derived from it
}

const V1_CONTROLLERS = ['memory', 'pids', 'cpu'] as const;

/** Which cgroup hierarchy this host offers for memory, pids and cpu; a reason when none is usable. */
export function detectCgroups(base = '/sys/fs/cgroup'): CgroupLayout | { missing: string } {
  if (existsSync(join(base, 'cgroup.controllers'))) {
    const have = readFileSync(join(base, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
    const lacking = ['memory', 'pids', 'cpu'].filter((c) => !have.includes(c));
    if (lacking.length) return { missing: `cgroup v2 controllers ${lacking.join(', ')} at ${base}` };
    return { version: 'v2', roots: { unified: base } };
  }
  const roots: Record<string, string> = {};
  for (const c of V1_CONTROLLERS) {
    const dir = join(base, c);
    if (!existsSync(join(dir, 'cgroup.procs'))) return { missing: `the cgroup v1 ${c} controller (${dir})` };
    roots[c] = dir;
  }
  // A hybrid host (systemd's default before v2 only) also mounts the v2 hierarchy, without
  // controllers. Its cgroup.procs can be re-read through one descriptor (v1's caches its list), so
  // the between-call sweep costs one syscall instead of three (docs/decisions.md, decision 43).
  const tracking = join(base, 'unified');
  if (existsSync(join(tracking, 'cgroup.controllers')) && writable(tracking)) roots.tracking = tracking;
  return { version: 'v1', roots };
}

/** The parent group of this Beacon process; creates one leaf per worker. */
export class CgroupParent {
  readonly name = `beacon-${process.pid}-${randomBytes(4).toString('hex')}`;
  private created = false;

  /**
   * parentCpuShares: the weight of all workers together against the host's other processes. Each
   * worker is one cgroup under this parent, so without it all workers together would weigh as much
   * as one unsandboxed process; give the parent (per-worker shares x the most workers) instead.
   */
  constructor(readonly layout: CgroupLayout, private readonly parentCpuShares = 1024) {}

  /** Creates the parent (once), failing with a clear message when the hierarchy is not writable. */
  ensure(): void {
    if (this.created) return;
    sweepStale(this.layout);
    for (const root of Object.values(this.layout.roots)) {
      try {
        mkdirSync(join(root, this.name));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue; // ours, left by an earlier remove()
        throw new Error(`cannot create cgroups under ${root} (${(e as NodeJS.ErrnoException).code}): the worker sandbox needs write access to the cgroup hierarchy`);
      }
    }
    const shares = Math.min(262_144, Math.max(2, this.parentCpuShares));
    if (this.layout.version === 'v2') {
      const parent = join(this.layout.roots.unified, this.name);
      writeFileSync(join(parent, 'cgroup.subtree_control'), '+memory +pids +cpu');
      writeFileSync(join(parent, 'cpu.weight'), String(Math.min(10_000, Math.round((shares * 100) / 1024))));
    } else {
      writeFileSync(join(this.layout.roots.cpu, this.name, 'cpu.shares'), String(shares));
    }
    this.created = true;
  }

  create(leaf: string, limits: WorkerLimits): WorkerCgroup {
    this.ensure();
    const dirs = Object.values(this.layout.roots).map((root) => join(root, this.name, leaf));
    for (const d of dirs) mkdirSync(d);
    const cg = new WorkerCgroup(this.layout, dirs);
    try {
      cg.apply(limits);
    } catch (e) {
      cg.remove();
      throw e;
    }
    return cg;
  }

  /** Removes the parent once its leaves are gone (best effort: a leaf still busy keeps it). */
  remove(): void {
    if (!this.created) return;
    let all = true;
    for (const root of Object.values(this.layout.roots)) {
      try {
        rmdirSync(join(root, this.name));
      } catch (e) {
        // another pool of this process still has workers, or one is still being torn down
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') all = false;
      }
    }
    if (all) this.created = false;
  }
}

export class WorkerCgroup implements MemoryState {
  // Read after every call, so kept open and re-read from offset 0 (one syscall instead of open,
  // read and close), except a cgroup v1 cgroup.procs: v1 caches the pid list of an open file for
  // a second after each read, so re-reading its descriptor shows the processes of the call before
  // (a daemon would live on unseen: test/int/sandbox.int.test.ts). Where the host has the v2
  // hierarchy too, the processes are listed there (layout.roots.tracking).
  private readonly fds: { procs?: number; memory?: number } = {};
  private readonly reopenProcs: boolean;
  private readonly buf = Buffer.alloc(64 * 1024);
  private readonly procsFile: string;
  private readonly memoryFile: string;
  readonly stallsAtLimit: boolean;

  constructor(
    private readonly layout: CgroupLayout,
    private readonly dirs: string[], // v1: memory, pids, cpu; v2: one
  ) {
    const v1 = layout.version === 'v1';
    // v1: the processes from the v2 tracking group where the host has one, else from the pids group.
    const tracking = dirs[Object.keys(layout.roots).indexOf('tracking')];
    this.procsFile = join(v1 ? (tracking ?? dirs[1]) : dirs[0], 'cgroup.procs');
    this.reopenProcs = v1 && tracking === undefined;
    this.memoryFile = join(dirs[0], v1 ? 'memory.oom_control' : 'memory.events');
    this.stallsAtLimit = v1;
  }

  /** Files a process writes its pid into to join every controller. */
  get procsFiles(): string[] {
    return this.dirs.map((d) => join(d, 'cgroup.procs'));
  }

  /**
   * Limits, and what the kernel does at the memory limit (see worker-memory.ts): v1 makes the
   * over-limit process wait instead of killing one process of the worker, v2 kills them all.
   */
  apply(l: WorkerLimits): void {
    if (this.layout.version === 'v1') {
      const [mem, pids, cpu] = this.dirs;
      writeFileSync(join(mem, 'memory.limit_in_bytes'), String(l.memoryBytes));
      // With memsw the limit also covers swap; without it (no swap accounting) RAM is the limit.
      if (existsSync(join(mem, 'memory.memsw.limit_in_bytes'))) writeFileSync(join(mem, 'memory.memsw.limit_in_bytes'), String(l.memoryBytes));
      writeFileSync(join(mem, 'memory.oom_control'), '1');
      writeFileSync(join(pids, 'pids.max'), String(l.maxProcesses));
      writeFileSync(join(cpu, 'cpu.shares'), String(l.cpuShares));
      return;
    }
    const [dir] = this.dirs;
    writeFileSync(join(dir, 'memory.max'), String(l.memoryBytes));
    if (existsSync(join(dir, 'memory.swap.max'))) writeFileSync(join(dir, 'memory.swap.max'), '0');
    // Without memory.oom.group (kernels before 4.19) a child could be killed for memory unseen.
    if (!existsSync(join(dir, 'memory.oom.group'))) throw new Error(`${dir} has no memory.oom.group: the worker sandbox needs Linux 4.19 or later on cgroup v2`);
    writeFileSync(join(dir, 'memory.oom.group'), '1');
    writeFileSync(join(dir, 'pids.max'), String(l.maxProcesses));
    writeFileSync(join(dir, 'cpu.weight'), String(Math.max(1, Math.min(10_000, Math.round((l.cpuShares * 100) / 1024)))));
  }

  /** cgroup.procs as read: one host pid per line (compared as is by the between-call sweep). */
  procsText(): string | undefined {
    return this.read('procs', this.procsFile);
  }

  /** Every process in the group (host pids). */
  pids(): number[] {
    return parsePids(this.procsText());
  }

  /** v1: a process waits at the limit (or the kernel killed one); v2: the kernel killed for memory. */
  memoryExhausted(): boolean {
    const text = this.read('memory', this.memoryFile) ?? '';
    return /^under_oom 1$/m.test(text) || /^oom_(group_)?kill [1-9]/m.test(text);
  }

  private read(which: 'procs' | 'memory', file: string): string | undefined {
    try {
      this.fds[which] ??= openSync(file, 'r');
      const n = readSync(this.fds[which] as number, this.buf, 0, this.buf.length, 0);
      return n === this.buf.length ? readFileSync(file, 'latin1') : this.buf.toString('latin1', 0, n);
    } catch {
      return undefined;
    } finally {
      if (which === 'procs' && this.reopenProcs && this.fds.procs !== undefined) {
        closeSync(this.fds.procs);
        this.fds.procs = undefined;
      }
    }
  }

  /** SIGKILLs every process left in the group, then removes it; false if it could not be removed. */
  remove(): boolean {
    const pids = this.pids();
    for (const fd of Object.values(this.fds)) if (fd !== undefined) closeSync(fd);
    this.fds.procs = this.fds.memory = undefined;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    let ok = true;
    for (const d of this.dirs) {
      try {
        rmdirSync(d);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') ok = false;
      }
    }
    return ok;
  }
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export function parsePids(text: string | undefined): number[] {
  return text === undefined ? [] : text.split('\n').filter(Boolean).map(Number);
}

/** Removes the groups of Beacon processes that are gone (a crash leaves them behind). */
function sweepStale(layout: CgroupLayout): void {
  for (const root of Object.values(layout.roots)) {
    let entries: string[] = [];
    try {
      entries = readdirSync(root);
    } catch {
      continue;
    }
    for (const name of entries) {
      const m = /^beacon-(\d+)-[0-9a-f]{8}$/.exec(name);
      if (!m || isAlive(Number(m[1]))) continue;
      const parent = join(root, name);
      try {
        for (const leaf of readdirSync(parent, { withFileTypes: true })) if (leaf.isDirectory()) rmdirSync(join(parent, leaf.name));
        rmdirSync(parent);
      } catch {
        // still has processes; left for a later sweep
      }
    }
  }
}

