// Pools of warm algorithm workers, one pool per build key. A worker runs one call at a time and is
// reused; calls beyond the limits wait in one FIFO queue with their timeout running. Each worker
// gets a session id, a clean environment, its own working directory, its own uid when the service
// runs as root and, unless WORKER_SANDBOX=off, its own sandbox and cgroup (see worker-sandbox.ts).
// Each call gets a token of its own (call-context.ts): the only credential for its callbacks.
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { mergeReportedMetrics, type ReportedMetrics } from '../insights/reported-metrics';
import type { Principal } from '../platform/auth';
import { CallContexts, type CallContext } from './call-context';
import { defaultRuntimesDir, entryPath, runnerCommand, type Language } from './languages';
import { INSIDE } from './sandbox-command';
import { WorkerProcess, sweepUid, timeoutError, type AlgoError } from './worker-process';
import { createWorkerSandbox, type NetworkAccess, type PoolSandbox, type WorkerSandbox } from './worker-sandbox';
import { UidClaims } from './worker-uids';

export interface WorkerSpec {
  key: string; // build id
  language: Language;
  algoName: string;
  files: Record<string, string>;
  network?: NetworkAccess; // default isolated; only applies to sandboxed workers
}
export interface CallRequest {
  contentType: 'text' | 'json' | 'binary';
  data: unknown; // text: string, json: any JSON value, binary: Buffer
  timeoutMs: number;
  requestId: string;
  caller?: Principal; // the authenticated top-level caller
  depth?: number;
  chain?: string[];
}
type Common = { stdout: string; durationMs: number; sessionId: string; metrics: ReportedMetrics };
export type CallOutcome =
  | ({ kind: 'result'; contentType: 'text' | 'json' | 'binary'; result: unknown } & Common)
  | ({ kind: 'error'; error: AlgoError } & Common);
export interface WorkerPoolOptions {
  maxWorkersPerKey: number;
  maxWorkersTotal: number;
  idleTimeoutMs: number;
  workRoot: string;
  callbackBaseUrl: () => string;
  pythonBin: string;
  rscriptBin: string;
  memoryLimitMb: number;
  maxOutputBytes: number; // stdout+stderr kept per call (the rest is counted and dropped), and
  //                          the largest serialised result (TooLargeError) unless maxResultBytes
  maxResultBytes?: number; // e.g. 15 MiB, Algorithmia's documented output limit
  runAsUid?: boolean;
  uidRange?: [number, number]; // default 70000-79999
  uidClaimDir?: string; // host-wide claims on uids (default /run/beacon-worker-uids)
  runtimesDir?: string;
  nodeBin?: string;
  logger?: { warn(obj: object, msg?: string): void };
  /** Absent: workers run unsandboxed (WORKER_SANDBOX=off, unsafe). */
  sandbox?: PoolSandbox;
  /** Set when the sandbox cannot be built here: every call fails with this message. */
  refuse?: string;
  /** Counts callbacks refused for an unknown or finished call token. */
  onRefusedCallback?: () => void;
}

interface Slot {
  worker: WorkerProcess;
  key: string;
  sessionId: string;
  uid?: number;
  sandbox?: WorkerSandbox;
  state: 'reserved' | 'idle' | 'busy';
  idleTimer?: NodeJS.Timeout;
}
interface Waiter {
  spec: WorkerSpec;
  grant(slot: Slot | Error | undefined): void; // undefined: the pool closed
}

export class WorkerPool {
  private readonly slots = new Set<Slot>();
  private readonly calls = new CallContexts();
  private readonly queue: Waiter[] = [];
  private readonly uids: UidClaims;
  private readonly disposals = new Set<Promise<void>>();
  private readonly runAsUid: boolean;
  private closed = false;
  private rootReady?: Promise<void>;

  constructor(private readonly opts: WorkerPoolOptions) {
    this.runAsUid = opts.runAsUid ?? process.getuid?.() === 0;
    const [low, high] = opts.uidRange ?? [70000, 79999];
    this.uids = new UidClaims(opts.uidClaimDir ?? '/run/beacon-worker-uids', low, high);
  }

  async call(spec: WorkerSpec, req: CallRequest): Promise<CallOutcome> {
    const started = Date.now();
    const deadline = started + req.timeoutMs;
    const label = `${Number((req.timeoutMs / 1000).toFixed(3))} s`;
    const fail = (error: AlgoError, extra: Partial<Common> = {}): CallOutcome => ({
      kind: 'error', error, stdout: '', durationMs: Date.now() - started, sessionId: '', metrics: {}, ...extra,
    });
    if (this.closed) return fail({ message: 'the worker pool is shut down', error_type: 'SystemError' });
    if (this.opts.refuse) return fail({ message: this.opts.refuse, error_type: 'SystemError' });

    let slot: Slot | Error | undefined;
    try {
      slot = this.tryAcquire(spec) ?? (await this.waitForSlot(spec, deadline));
    } catch (e) {
      slot = e as Error;
    }
    if (slot instanceof Error) return fail({ message: `could not create a worker: ${slot.message}`, error_type: 'SystemError' });
    if (!slot) {
      if (this.closed) return fail({ message: 'the worker pool is shut down', error_type: 'SystemError' });
      return fail({ ...timeoutError(label), message: `algorithm timed out after ${label} (waiting for a free worker)` });
    }
    if (slot.state === 'reserved') {
      try {
        this.rootReady ??= this.prepareRoot();
        await this.rootReady;
      } catch (e) {
        this.rootReady = undefined;
        this.discard(slot);
        return fail({ message: `could not prepare ${this.opts.workRoot}: ${(e as Error).message}`, error_type: 'SystemError' });
      }
      const start = await slot.worker.start(deadline, label);
      if (!start.ok) {
        this.discard(slot);
        return fail(start.error, { stdout: start.stdout, sessionId: slot.sessionId });
      }
      slot.state = 'busy';
      if (spec.language === 'r') slot.sandbox?.adoptRunnerHelpers();
    }

    const ctx = this.calls.start({ requestId: req.requestId, sessionId: slot.sessionId, caller: req.caller, depth: req.depth ?? 0, chain: req.chain ?? [] });
    // The kernel may kill any process of the worker (a child, say) at its memory limit: the whole
    // worker goes, and the call gets the documented out-of-memory error.
    const worker = slot.worker;
    const oom = slot.sandbox?.watchMemory(() => worker.kill());
    let run: Awaited<ReturnType<WorkerProcess['run']>>;
    try {
      run = await worker.run({ contentType: req.contentType, data: req.data, api: `${this.apiBase()}/worker/${ctx.token}` }, deadline, label);
    } finally {
      this.calls.end(ctx); // from here on the call's token is refused
    }
    if (oom?.stop()) {
      worker.kill();
      run = { kind: 'error', error: { message: 'algorithm ran out of memory', error_type: 'OutOfMemoryError' }, stdout: run.stdout, durationMs: run.durationMs };
    }
    const metrics = ctx.metrics;
    // Between calls only the runner may live: whatever the call started is killed.
    const clean = slot.worker.state === 'ready' && (!slot.sandbox || (await slot.sandbox.clean()));
    if (clean && slot.worker.state === 'ready' && !this.closed) this.release(slot);
    else this.discard(slot);
    if (this.closed && run.kind === 'error') {
      return { ...run, error: { message: 'the worker pool shut down during the call', error_type: 'SystemError' }, sessionId: slot.sessionId, metrics };
    }
    return { ...run, sessionId: slot.sessionId, metrics };
  }

  reportInsights(token: string, body: unknown): { status: 200 | 400 | 404; message?: string } {
    const ctx = this.calls.get(token);
    if (!ctx) {
      this.opts.onRefusedCallback?.();
      return { status: 404, message: 'unknown or finished call: metrics are accepted only while the call they belong to runs' };
    }
    const merged = mergeReportedMetrics(ctx.metrics, body);
    if (!merged.ok) return { status: 400, message: merged.message };
    ctx.metrics = merged.metrics;
    return { status: 200 };
  }

  /** The running call that was given this token (for worker callbacks), or undefined. */
  callContext(token: string): Readonly<CallContext> | undefined {
    return this.calls.get(token);
  }

  stats(): { workers: number; busy: number; idle: number; perKey: Record<string, number> } {
    const perKey: Record<string, number> = {};
    let idle = 0;
    for (const s of this.slots) {
      perKey[s.key] = (perKey[s.key] ?? 0) + 1;
      if (s.state === 'idle') idle++;
    }
    return { workers: this.slots.size, busy: this.slots.size - idle, idle, perKey };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.queue.splice(0)) w.grant(undefined);
    for (const slot of [...this.slots]) this.discard(slot);
    await Promise.all([...this.disposals]);
    this.opts.sandbox?.cgroups.remove();
  }

  // ---- scheduling --------------------------------------------------------------------------

  private tryAcquire(spec: WorkerSpec): Slot | undefined {
    if (this.closed) return undefined;
    const mine = [...this.slots].filter((s) => s.key === spec.key);
    const idle = mine.find((s) => s.state === 'idle');
    if (idle) {
      clearTimeout(idle.idleTimer);
      idle.state = 'busy';
      return idle;
    }
    if (mine.length >= this.opts.maxWorkersPerKey) return undefined;
    if (this.slots.size >= this.opts.maxWorkersTotal) {
      const victim = [...this.slots].find((s) => s.state === 'idle' && s.key !== spec.key);
      if (!victim) return undefined;
      this.discard(victim);
    }
    const uid = this.runAsUid ? this.uids.claim() : undefined;
    if (this.runAsUid && uid === undefined) return undefined; // all uids still being cleaned up: wait
    try {
      return this.createSlot(spec, uid);
    } catch (e) {
      if (uid !== undefined) this.uids.release(uid);
      throw e;
    }
  }

  private waitForSlot(spec: WorkerSpec, deadline: number): Promise<Slot | Error | undefined> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        spec,
        grant: (slot) => {
          clearTimeout(timer);
          resolve(slot);
        },
      };
      const timer = setTimeout(() => {
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
        resolve(undefined);
      }, Math.max(0, deadline - Date.now()));
      this.queue.push(waiter);
    });
  }

  /** Hands freed capacity to waiters in arrival order. */
  private pump(): void {
    for (let i = 0; i < this.queue.length; ) {
      let slot: Slot | Error | undefined;
      try {
        slot = this.tryAcquire(this.queue[i].spec);
      } catch (e) {
        slot = e as Error;
      }
      if (slot) this.queue.splice(i, 1)[0].grant(slot);
      else i++;
    }
  }

  private release(slot: Slot): void {
    slot.state = 'idle';
    slot.idleTimer = setTimeout(() => {
      this.discard(slot);
      this.pump();
    }, this.opts.idleTimeoutMs);
    slot.idleTimer.unref();
    this.pump();
  }

  private discard(slot: Slot): void {
    if (!this.slots.delete(slot)) return;
    clearTimeout(slot.idleTimer);
    const done = slot.worker
      .dispose()
      .then(() => slot.sandbox?.dispose())
      .then(() => (slot.uid !== undefined ? sweepUid(slot.uid) : undefined))
      .catch((e: Error) => this.opts.logger?.warn({ err: e.message, sessionId: slot.sessionId }, 'worker cleanup failed'))
      .finally(() => {
        this.disposals.delete(done);
        if (slot.uid !== undefined) {
          this.uids.release(slot.uid);
          this.pump(); // a call may have been waiting for a uid
        }
      });
    this.disposals.add(done);
    queueMicrotask(() => this.pump());
  }

  // ---- worker creation ---------------------------------------------------------------------

  private createSlot(spec: WorkerSpec, uid: number | undefined): Slot {
    const sessionId = `rses-${randomUUID()}`;
    const workDir = join(this.opts.workRoot, sessionId);
    const sb = this.opts.sandbox;
    const runtimesDir = this.opts.runtimesDir ?? defaultRuntimesDir();
    const nodeBin = this.opts.nodeBin ?? process.execPath;
    const maxResultBytes = this.opts.maxResultBytes ?? this.opts.maxOutputBytes;
    const visibleWorkDir = sb ? INSIDE.work : workDir;
    const runner = runnerCommand(spec.language, {
      runtimesDir: sb ? INSIDE.runtimes : runtimesDir, nodeBin, entry: entryPath(spec.language, spec.algoName),
      pythonBin: this.opts.pythonBin, rscriptBin: this.opts.rscriptBin,
      memoryLimitMb: this.opts.memoryLimitMb, maxResultBytes,
    });
    // A clean environment: nothing of the service's own (secrets, keys) reaches algorithm code.
    // ALGORITHMIA_API carries a call's token only during that call (the runner sets it per call).
    const env = {
      PATH: [...new Set([dirname(nodeBin), '/usr/local/bin', '/usr/bin', '/bin'])].join(':'),
      HOME: visibleWorkDir,
      LANG: 'C.UTF-8',
      ALGORITHMIA_API: `${this.apiBase()}/worker/outside-a-call`,
      ...runner.env,
    };
    const boxed = sb && createWorkerSandbox(sb, {
      sessionId, uid, network: spec.network ?? 'isolated', memoryLimitMb: this.opts.memoryLimitMb, hostWorkDir: workDir, runtimesDir, argv: [runner.command, ...runner.args],
    });
    const { command, args } = boxed ?? runner;
    const sandbox = boxed?.sandbox;
    const attach = sandbox ? { attach: sandbox.attach.bind(sandbox) } : undefined;
    const worker = new WorkerProcess({
      sessionId, workDir, files: spec.files, command, args, env, uid, sandbox: attach, visibleWorkDir,
      maxStdoutBytes: this.opts.maxOutputBytes, maxReplyBytes: maxResultBytes,
    });
    const slot: Slot = { worker, key: spec.key, sessionId, uid, sandbox, state: 'reserved' };
    worker.onExit = () => {
      // An idle worker that died is replaced on demand; a busy one is handled by its call.
      if (slot.state === 'idle') this.discard(slot);
    };
    this.slots.add(slot);
    return slot;
  }

  /** Where algorithm code sends callbacks: the forwarder inside its sandbox, or Beacon's own port. */
  private apiBase(): string {
    if (this.opts.sandbox) return `http://127.0.0.1:${INSIDE.forwardPort}`;
    return this.opts.callbackBaseUrl().replace(/\/+$/, '');
  }

  private async prepareRoot(): Promise<void> {
    await mkdir(this.opts.workRoot, { recursive: true, mode: 0o711 });
    // Workers must reach their own directory but not list their neighbours.
    if (this.runAsUid) await chmod(this.opts.workRoot, 0o711);
    const sb = this.opts.sandbox;
    if (sb) {
      sb.cgroups.ensure();
      await mkdir(sb.runDir, { recursive: true, mode: 0o711 });
      // slirp4netns answers DNS on 10.0.2.3; the host's resolver configuration is not shown.
      await writeFile(join(sb.runDir, 'resolv.conf'), 'nameserver 10.0.2.3\n', { mode: 0o644 });
      await sb.callback.listen();
    }
  }
}
