// The live parts of one worker's sandbox, outside it: the callback forwarder, the outbound network
// (network_access "full"), the cgroup, and the sweep that leaves only the runner between calls.
//
// The forwarder is socat started by nsenter in the sandbox's network namespace only: it listens on
// 127.0.0.1:9000 there and connects to Beacon's callback Unix socket on the host. It lives in the
// host's PID and mount namespaces, so nothing in the sandbox can see, signal or trace it, and every
// process inside the sandbox other than the runner can be killed between calls.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Duplex } from 'node:stream';
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { INSIDE, sandboxCommand, type HostTools, type SandboxLimits } from './sandbox-command';
import { parsePids, type CgroupParent, type WorkerCgroup } from './worker-cgroup';
import { watchCall, type CallMemoryWatch } from './worker-memory';
import { ScratchTmpfs } from './worker-scratch';

export type NetworkAccess = 'isolated' | 'full';

/** What a pool needs to sandbox its workers (absent: WORKER_SANDBOX=off). */
export interface PoolSandbox {
  tools: HostTools;
  cgroups: CgroupParent;
  callback: { socketPath: string; listen(): Promise<void> };
  runDir: string; // the service's folder for the socket and resolv.conf
  limits: SandboxLimits & { maxProcesses: number; cpuShares: number };
  readOnlyPaths: string[];
  hostAddresses: string[];
}

/** One worker's cgroup and sandbox, and the command that starts its runner inside them. */
export function createWorkerSandbox(
  sb: PoolSandbox,
  w: { sessionId: string; uid?: number; network: NetworkAccess; memoryLimitMb: number; hostWorkDir: string; runtimesDir: string; argv: string[] },
): { sandbox: WorkerSandbox; command: string; args: string[] } {
  const cgroup = sb.cgroups.create(w.sessionId, { memoryBytes: w.memoryLimitMb * 1024 * 1024, maxProcesses: sb.limits.maxProcesses, cpuShares: sb.limits.cpuShares });
  const sandbox = new WorkerSandbox({ tools: sb.tools, cgroup, uid: w.uid, socketPath: sb.callback.socketPath, network: w.network, hostAddresses: sb.hostAddresses });
  const cmd = sandboxCommand({
    bwrap: sb.tools.bwrap, procsFiles: cgroup.procsFiles, uid: w.uid, hostWorkDir: w.hostWorkDir, runtimesDir: w.runtimesDir,
    resolvConf: w.network === 'full' ? join(sb.runDir, 'resolv.conf') : undefined,
    readOnlyPaths: sb.readOnlyPaths, limits: sb.limits, argv: w.argv,
  });
  return { sandbox, ...cmd };
}

export interface WorkerSandboxOptions {
  tools: HostTools;
  cgroup: WorkerCgroup;
  uid?: number;
  socketPath: string;
  network: NetworkAccess;
  /** Host addresses the sandbox must never reach over the outbound network (all of this host's). */
  hostAddresses: string[];
}

const SETUP_TIMEOUT_MS = 10_000;

// Outbound filter for "full": lo (the forwarder) and slirp's DNS forwarder; everything private,
// loopback, link-local, shared, documentation, multicast and reserved, and this host's own
// addresses, refused. What is left is the public internet.
const PRIVATE_RANGES = ['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24', '192.0.2.0/24', '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/3'];

export function outboundRules(hostAddresses: string[]): string {
  const lines = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD DROP [0:0]', ':OUTPUT ACCEPT [0:0]', '-A OUTPUT -o lo -j ACCEPT'];
  for (const proto of ['udp', 'tcp']) lines.push(`-A OUTPUT -d 10.0.2.3/32 -p ${proto} --dport 53 -j ACCEPT`);
  for (const a of [...hostAddresses.map((h) => `${h}/32`), ...PRIVATE_RANGES]) {
    lines.push(`-A OUTPUT -d ${a} -p tcp -j REJECT --reject-with tcp-reset`, `-A OUTPUT -d ${a} -j REJECT`);
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}

export class WorkerSandbox {
  private readonly helpers = new Set<ChildProcess>();
  private readonly own = new Set<number>(); // host pids allowed to stay: bwrap (outside and pid 1), the runner
  private runnerPid?: number;
  private memoryWatch?: CallMemoryWatch;
  private cleanProcs?: string; // cgroup.procs when only bwrap and the runner were left
  private scratch?: ScratchTmpfs; // /dev/shm, which /tmp links to

  constructor(private readonly o: WorkerSandboxOptions) {}

  /** Called with the sandbox's pid 1 (host pid) while it waits: starts the forwarder and the network. */
  async attach(outerPid: number, initPid: number): Promise<void> {
    this.own.add(outerPid).add(initPid);
    const net = `--net=/proc/${initPid}/ns/net`;
    const drop = this.o.uid !== undefined ? [this.o.tools.setpriv, `--reuid=${this.o.uid}`, `--regid=${this.o.uid}`, '--clear-groups', '--pdeathsig=KILL'] : [];
    const forwarder = this.helper(this.o.tools.nsenter, [net, '--', ...drop, this.o.tools.socat,
      `TCP-LISTEN:${INSIDE.forwardPort},bind=127.0.0.1,reuseaddr,fork`, `UNIX-CONNECT:${this.o.socketPath}`]);
    const steps: Promise<void>[] = [waitForListener(initPid, INSIDE.forwardPort, forwarder)];
    if (this.o.network === 'full') {
      steps.push(this.run(this.o.tools.nsenter, [net, '--', this.o.tools.iptablesRestore], outboundRules(this.o.hostAddresses)));
      steps.push(this.startSlirp(initPid));
    }
    await Promise.all(steps);
  }

  /**
   * The R runner writes its replies through a child `cat` (R cannot write to a socket descriptor):
   * that child, alive when the runner reported ready, is part of the runner and is kept.
   */
  adoptRunnerHelpers(): void {
    const pids = this.o.cgroup.pids();
    for (const pid of pids) if (!this.own.has(pid)) this.isRunner(pid);
    for (const pid of pids) {
      if (this.own.has(pid) || pid === this.runnerPid || this.runnerPid === undefined) continue;
      try {
        const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
        if (ppid === this.runnerPid && readlinkSync(`/proc/${pid}/exe`) === '/usr/bin/cat') this.own.add(pid);
      } catch {
        // gone
      }
    }
  }

  /** A call starts: the memory watch (worker-memory.ts) may kill the worker. */
  startCall(worker: { kill(): void }): void {
    this.memoryWatch = watchCall(this.o.cgroup, worker);
  }

  /**
   * A call ended. outOfMemory: a process of the worker was at the memory limit. clean: every
   * process but the runner is gone and the scratch tmpfs (/tmp) is empty again (synchronous: one
   * cgroup read and one fstat, unless something had to be killed or removed). False: the worker
   * must be replaced.
   */
  endCall(alive: boolean): { outOfMemory: boolean; clean: boolean | Promise<boolean> } {
    const polled = this.memoryWatch?.end() ?? false;
    this.memoryWatch = undefined;
    if (!alive) return { outOfMemory: polled || this.o.cgroup.memoryExhausted(), clean: false };
    if (polled) return { outOfMemory: true, clean: false };
    const extra = this.extras();
    if (extra.length === 0) return { outOfMemory: false, clean: this.scratchTmpfs()?.settle() ?? false };
    // Processes left behind: one may be waiting at the memory limit (cgroup v1).
    if (this.o.cgroup.memoryExhausted()) return { outOfMemory: true, clean: false };
    return { outOfMemory: false, clean: this.killExtras(extra).then((ok) => ok && (this.scratchTmpfs()?.settle() ?? false)) };
  }

  /**
   * Processes of the worker other than bwrap and the runner. The same bytes of cgroup.procs as at
   * the last check that found none are none, without parsing: a pid cannot come back while the
   * process that had it lives, and those are bwrap and the runner.
   */
  private extras(): number[] {
    const text = this.o.cgroup.procsText();
    if (text !== undefined && text === this.cleanProcs) return [];
    const extra = parsePids(text).filter((pid) => !this.own.has(pid) && !this.isRunner(pid));
    if (extra.length === 0) this.cleanProcs = text;
    return extra;
  }

  private async killExtras(first: number[]): Promise<boolean> {
    let extra = first;
    for (let round = 0; round < 20; round++) {
      if (extra.length === 0) return true;
      for (const pid of extra) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await new Promise((r) => setTimeout(r, round < 5 ? 1 : 10));
      extra = this.extras();
    }
    return false;
  }

  /**
   * The sandbox's scratch tmpfs, seen through /proc/<runner>/root (worker-scratch.ts). Removing
   * runs inside the sandbox's own mount namespace and root, as the worker's uid, so no link the
   * algorithm planted can lead it outside.
   */
  private scratchTmpfs(): ScratchTmpfs | undefined {
    const pid = this.runnerPid;
    if (pid === undefined) return undefined;
    const ids = this.o.uid !== undefined ? ['-S', String(this.o.uid), '-G', String(this.o.uid)] : [];
    this.scratch ??= new ScratchTmpfs(`/proc/${pid}/root/dev/shm`, () =>
      this.run(this.o.tools.nsenter, ['--target', String(pid), '--mount', '--root', ...ids, '--', '/usr/bin/find', '/dev/shm', '-mindepth', '1', '-delete'], ''));
    return this.scratch;
  }

  /** Stops the helpers and removes the cgroup (processes still exiting keep it busy for a moment). */
  async dispose(): Promise<void> {
    this.memoryWatch?.end(); // a call that threw never reached endCall
    this.memoryWatch = undefined;
    this.scratch?.close();
    this.scratch = undefined;
    for (const h of this.helpers) h.kill('SIGKILL');
    this.helpers.clear();
    for (let i = 0; i < 50 && !this.o.cgroup.remove(); i++) await new Promise((r) => setTimeout(r, 100));
  }

  private isRunner(pid: number): boolean {
    if (this.runnerPid !== undefined) return pid === this.runnerPid;
    if (nsPid(pid) !== 2) return false;
    this.runnerPid = pid;
    return true;
  }

  private helper(command: string, args: string[]): ChildProcess {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env: {} });
    child.on('error', () => {});
    child.stderr?.setEncoding('utf8');
    this.helpers.add(child);
    child.once('exit', () => this.helpers.delete(child));
    return child;
  }

  private run(command: string, args: string[], input: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, { stdio: ['pipe', 'ignore', 'pipe'], env: {} });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', reject);
      // EPIPE when the tool exits before reading its input: its status tells what went wrong.
      child.stdin.on('error', () => {});
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.at(-1)} failed: ${err.trim() || `status ${code}`}`))));
      child.stdin.end(input);
    });
  }

  private startSlirp(initPid: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.o.tools.slirp4netns, ['--configure', '--mtu=65520', '--disable-host-loopback', '--ready-fd=3', '--netns-type=path', `/proc/${initPid}/ns/net`, 'tap0'], {
        stdio: ['ignore', 'ignore', 'pipe', 'pipe'], env: {},
      });
      this.helpers.add(child);
      let err = '';
      const timer = setTimeout(() => reject(new Error('slirp4netns did not become ready')), SETUP_TIMEOUT_MS);
      child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      child.stdio[3]?.once('data', () => {
        clearTimeout(timer);
        resolve();
      });
      child.on('error', (e) => reject(e));
      child.once('exit', (code) => {
        this.helpers.delete(child);
        clearTimeout(timer);
        reject(new Error(`slirp4netns exited (${code}): ${err.trim()}`));
      });
    });
  }
}

/** The process's pid in the innermost PID namespace (0 for a process of the host's namespace). */
function nsPid(pid: number): number {
  try {
    const m = /^NSpid:\s+(.+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    const ids = m ? m[1].trim().split(/\s+/) : [];
    return ids.length >= 2 ? Number(ids[ids.length - 1]) : 0;
  } catch {
    return 0;
  }
}

/** Resolves once something listens on 127.0.0.1:port in the namespace of pid (its /proc/net/tcp). */
function waitForListener(pid: number, port: number, owner: ChildProcess): Promise<void> {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    let exited = false;
    owner.once('exit', () => (exited = true));
    const check = () => {
      let table = '';
      try {
        table = readFileSync(`/proc/${pid}/net/tcp`, 'utf8');
      } catch (e) {
        return reject(new Error(`the sandbox went away while its callback forwarder started (${(e as Error).message})`));
      }
      if (table.split('\n').some((l) => l.includes(` ${local} `) && / 0A /.test(l))) return resolve();
      if (exited) return reject(new Error(`the callback forwarder (socat) exited: ${readStderr(owner)}`));
      if (Date.now() - started > SETUP_TIMEOUT_MS) return reject(new Error('the callback forwarder did not start listening'));
      setTimeout(check, 2);
    };
    check();
  });
}

function readStderr(child: ChildProcess): string {
  const s = child.stderr?.read() as string | null;
  return s?.trim() || 'no message';
}

/**
 * For a worker started by sandboxCommand: reads bwrap's report on fd 4 (the sandbox's pid 1), has
 * the outside set up (attach), then lets the sandbox go on by writing to fd 5 (bwrap --block-fd).
 */
export function attachOverFds(child: ChildProcess, sandbox: { attach(outerPid: number, initPid: number): Promise<void> }, onError: (e: Error) => void): void {
  let info = '';
  let attached = false;
  const [info$, release] = (child.stdio as unknown as (Duplex | null)[]).slice(4);
  for (const s of [info$, release]) s?.on('error', () => {});
  info$?.on('data', (d: Buffer) => {
    if (attached) return;
    info += d.toString('utf8');
    let pid: number;
    try {
      pid = Number((JSON.parse(info) as { 'child-pid'?: number })['child-pid']);
    } catch {
      return; // not complete yet
    }
    attached = true;
    info$.destroy();
    sandbox.attach(child.pid as number, pid).then(() => release?.end('1'), onError);
  });
}
