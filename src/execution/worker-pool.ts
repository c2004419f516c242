// Pools of warm algorithm workers, one pool per build key. A worker runs one call at a time and is
// reused; calls beyond the limits wait in one FIFO queue with their timeout running. Each worker
// gets a session id, a clean environment, its own working directory, its own uid when the service
// runs as root and, unless WORKER_SANDBOX=off, its own sandbox and cgroup (see worker-sandbox.ts).
// Each call gets a token of its own (call-context.ts): the only credential for its callbacks.
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mergeReportedMetrics } from '../insights/reported-metrics';
import { entryPath } from '../platform/language-catalogue';
import { CallContexts, type CallContext } from './call-context';
import { defaultRuntimesDir, runnerCommand } from './languages';
import { INSIDE } from './sandbox-command';
import { WorkerProcess, sweepUid, timeoutError, type AlgoError } from './worker-process';
import { sweepLeftovers } from './worker-leftovers';
import { createWorkerSandbox, type WorkerSandbox } from './worker-sandbox';
import { workerEnvironment } from './worker-environment';
import { UidClaims } from './worker-uids';
import type { CallOutcome, CallRequest, Common, WorkerPoolOptions, WorkerSpec } from './worker-call';

export type { CallOutcome, CallRequest, WorkerPoolOptions, WorkerSpec } from './worker-call';

interface Slot {
  worker: WorkerProcess;
  key: string;
  sessionId: string;
  uid?: number;
  sandbox?: WorkerSandbox;
  state: 'reserved' | 'idle' | 'busy';
  idleTimer?: NodeJS.Timeout;
  caller?: string; // the user id holding the slot (busy or being started): counts against their share
}
interface Waiter {
  spec: WorkerSpec;
  caller: string | undefined;
  grant(slot: Slot | Error | undefined): void; // undefined: the pool closed
}

export class WorkerPool {
  private readonly slots = new Set<Slot>();
  private readonly calls = new CallContexts();
  private readonly queue: Waiter[] = [];
  private readonly uids: UidClaims;
  private readonly disposals = new Set<Promise<void>>();
  private readonly runAsUid: boolean;
  private readonly maxWaitingPerKey: number;
  private readonly maxBusyPerCaller: number; // one caller's share of the total
  private closed = false;
  private rootReady?: Promise<void>;

  constructor(private readonly opts: WorkerPoolOptions) {
    this.runAsUid = opts.runAsUid ?? process.getuid?.() === 0;
    this.maxWaitingPerKey = opts.maxWaitingPerKey ?? 64;
    this.maxBusyPerCaller = Math.min(opts.maxBusyPerCaller ?? opts.maxWorkersTotal, opts.maxWorkersTotal);
    const [low, high] = opts.uidRange ?? [70000, 79999];
    this.uids = new UidClaims(opts.uidClaimDir ?? '/run/beacon-worker-uids', low, high);
  }

  async call(spec: WorkerSpec, req: CallRequest): Promise<CallOutcome> {
    const started = Date.now();
    const deadline = started + req.timeoutMs;
    const label = `${Number((req.timeoutMs / 1000).toFixed(3))} s`;
    const common = (extra: Partial<Common> = {}): Common => ({ stdout: '', durationMs: Date.now() - started, sessionId: '', metrics: {}, ...extra });
    const fail = (error: AlgoError, extra: Partial<Common> = {}): CallOutcome => ({ kind: 'error', error, ...common(extra) });
    if (this.closed) return fail({ message: 'the worker pool is shut down', error_type: 'SystemError' });
    if (this.opts.refuse) return fail({ message: this.opts.refuse, error_type: 'SystemError' });

    const caller = req.caller?.userId;
    let slot: Slot | undefined;
    let keep = false; // whether the slot goes back to the pool: anything that is not a clean end discards it
    try {
      let got: Slot | Error | undefined;
      try {
        got = this.tryAcquire(spec, caller);
        if (!got) {
          if (this.waitingFor(spec.key) >= this.maxWaitingPerKey) {
            const message = `all ${this.opts.maxWorkersPerKey} workers of this algorithm version are busy and ${this.maxWaitingPerKey} calls are already waiting; retry later`;
            return { kind: 'busy', message, retryAfterSeconds: 1, ...common() };
          }
          got = await this.waitForSlot(spec, caller, deadline);
        }
      } catch (e) {
        got = e as Error;
      }
      if (got instanceof Error) return fail({ message: `could not create a worker: ${got.message}`, error_type: 'SystemError' });
      if (!got) {
        if (this.closed) return fail({ message: 'the worker pool is shut down', error_type: 'SystemError' });
        return fail({ ...timeoutError(label), message: `algorithm timed out after ${label} (${this.waitReason(caller)})` });
      }
      slot = got;
      slot.caller = caller;
      if (slot.state === 'reserved') {
        try {
          this.rootReady ??= this.prepareRoot();
          await this.rootReady;
        } catch (e) {
          this.rootReady = undefined;
          return fail({ message: `could not prepare ${this.opts.workRoot}: ${(e as Error).message}`, error_type: 'SystemError' });
        }
        const start = await slot.worker.start(deadline, label);
        if (!start.ok) return fail(start.error, { stdout: start.stdout, sessionId: slot.sessionId });
        slot.state = 'busy';
        if (spec.language === 'r') slot.sandbox?.adoptRunnerHelpers();
      }

      const ctx = this.calls.start({
        requestId: req.requestId, sessionId: slot.sessionId, caller: req.caller, depth: req.depth ?? 0, chain: req.chain ?? [],
        deadline, pipelineEnabled: req.pipelineEnabled ?? true, nested: req.nested ?? [],
      });
      // A process at the worker's memory limit costs the whole worker, and the call gets the
      // documented out-of-memory error (worker-memory.ts).
      const worker = slot.worker;
      slot.sandbox?.startCall(worker);
      let run: Awaited<ReturnType<WorkerProcess['run']>>;
      try {
        run = await worker.run({ contentType: req.contentType, data: req.data, api: `${this.apiBase()}/worker/${ctx.token}` }, deadline, label);
      } finally {
        this.calls.end(ctx); // from here on the call's token is refused
      }
      // Between calls only the runner may live: whatever the call started is killed.
      const after = slot.sandbox?.endCall(worker.state === 'ready');
      if (after?.outOfMemory) {
        worker.kill();
        run = { kind: 'error', error: { message: 'algorithm ran out of memory', error_type: 'OutOfMemoryError' }, stdout: run.stdout, durationMs: run.durationMs };
      }
      const metrics = ctx.metrics;
      const cleaning = after?.clean ?? true; // a boolean when nothing is left to wait for
      keep = (typeof cleaning === 'boolean' ? cleaning : await cleaning) && worker.state === 'ready' && !this.closed;
      if (this.closed && run.kind === 'error') {
        return { ...run, error: { message: 'the worker pool shut down during the call', error_type: 'SystemError' }, sessionId: slot.sessionId, metrics };
      }
      return { ...run, sessionId: slot.sessionId, metrics };
    } catch (e) {
      // A fault of Beacon's own (a bug, a throw in a dependency): the call fails, the slot does not leak.
      this.opts.logger?.warn({ err: (e as Error).message, requestId: req.requestId }, 'worker call failed');
      return fail({ message: 'the worker call failed', error_type: 'SystemError' }, { sessionId: slot?.sessionId ?? '' });
    } finally {
      if (slot) {
        slot.caller = undefined;
        if (keep) this.release(slot);
        else this.discard(slot);
      }
    }
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
  callContext(token: string): CallContext | undefined {
    return this.calls.get(token);
  }

  stats(): { workers: number; busy: number; idle: number; waiting: number; perKey: Record<string, number> } {
    const perKey: Record<string, number> = {};
    let idle = 0;
    for (const s of this.slots) {
      perKey[s.key] = (perKey[s.key] ?? 0) + 1;
      if (s.state === 'idle') idle++;
    }
    return { workers: this.slots.size, busy: this.slots.size - idle, idle, waiting: this.queue.length, perKey };
  }

  /** Start-up recovery (worker-leftovers.ts): folders and uid claims left by a crashed run. */
  sweepLeftovers(): Promise<{ folders: number; uids: number }> {
    return sweepLeftovers(this.opts.workRoot, this.runAsUid ? this.uids : undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.queue.splice(0)) w.grant(undefined);
    for (const slot of [...this.slots]) this.discard(slot);
    await Promise.all([...this.disposals]);
    this.opts.sandbox?.cgroups.remove();
  }

  // ---- scheduling --------------------------------------------------------------------------

  private busyOf(caller: string | undefined): number {
    return caller === undefined ? 0 : [...this.slots].filter((s) => s.caller === caller).length;
  }

  private waitingFor(key: string): number {
    return this.queue.filter((w) => w.spec.key === key).length;
  }

  private waitReason(caller: string | undefined): string {
    if (caller !== undefined && this.busyOf(caller) >= this.maxBusyPerCaller) {
      return `waiting for a free worker: this caller already uses its share of ${this.maxBusyPerCaller} of the ${this.opts.maxWorkersTotal} workers`;
    }
    return 'waiting for a free worker';
  }

  private tryAcquire(spec: WorkerSpec, caller: string | undefined): Slot | undefined {
    if (this.closed) return undefined;
    // Fair share: a caller at its share waits, even when capacity is free, so others always get some.
    if (caller !== undefined && this.busyOf(caller) >= this.maxBusyPerCaller) return undefined;
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

  private waitForSlot(spec: WorkerSpec, caller: string | undefined, deadline: number): Promise<Slot | Error | undefined> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        spec,
        caller,
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
        slot = this.tryAcquire(this.queue[i].spec, this.queue[i].caller);
      } catch (e) {
        slot = e as Error;
      }
      if (slot) {
        // Marked at once: the caller's share counts this slot before its call resumes.
        if (!(slot instanceof Error)) slot.caller = this.queue[i].caller;
        this.queue.splice(i, 1)[0].grant(slot);
      } else i++;
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
    const env = workerEnvironment({ nodeBin, home: visibleWorkDir, api: this.apiBase(), runnerEnv: runner.env, maxInputBytes: this.opts.maxInputBytes, maxInputDepth: this.opts.maxInputDepth });
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
