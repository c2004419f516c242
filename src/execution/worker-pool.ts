// Pools of warm algorithm workers, one pool per build key. A worker runs one call at a time and is
// reused; calls beyond the limits wait in one FIFO queue with their timeout running. Each worker
// gets a session id, a random token (its only credential for reporting insights), a clean
// environment, its own working directory and, when the service runs as root, its own uid.
import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { mergeReportedMetrics, type ReportedMetrics } from '../insights/reported-metrics';
import type { CallContext } from './call-context';
import { defaultRuntimesDir, entryPath, runnerCommand, type Language } from './languages';
import { WorkerProcess, sweepUid, timeoutError, type AlgoError } from './worker-process';
import { UidClaims } from './worker-uids';

export interface WorkerSpec {
  key: string; // build id
  language: Language;
  algoName: string;
  files: Record<string, string>;
}
export interface CallRequest {
  contentType: 'text' | 'json' | 'binary';
  data: unknown; // text: string, json: any JSON value, binary: Buffer
  timeoutMs: number;
  requestId: string;
  /** Who the call is for and where it sits in a chain; the worker's token resolves to it while it runs. */
  context?: CallContext;
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
}

interface Slot {
  worker: WorkerProcess;
  key: string;
  sessionId: string;
  token: string;
  uid?: number;
  state: 'reserved' | 'idle' | 'busy';
  idleTimer?: NodeJS.Timeout;
  metrics?: ReportedMetrics; // set while a call runs: reports are attributed to it
  context?: CallContext; // set while a call runs: nested calls act for its caller
}
interface Waiter {
  spec: WorkerSpec;
  grant(slot: Slot | Error | undefined): void; // undefined: the pool closed
}

export class WorkerPool {
  private readonly slots = new Set<Slot>();
  private readonly byToken = new Map<string, Slot>();
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
    }

    slot.metrics = {};
    slot.context = req.context;
    const run = await slot.worker.run({ contentType: req.contentType, data: req.data }, deadline, label);
    const metrics = slot.metrics;
    slot.metrics = undefined;
    slot.context = undefined;
    if (slot.worker.state === 'ready' && !this.closed) this.release(slot);
    else this.discard(slot); // after a timeout or a crash the token dies with the worker
    if (this.closed && run.kind === 'error') {
      return { ...run, error: { message: 'the worker pool shut down during the call', error_type: 'SystemError' }, sessionId: slot.sessionId, metrics };
    }
    return { ...run, sessionId: slot.sessionId, metrics };
  }

  reportInsights(token: string, body: unknown): { status: 200 | 400 | 404; message?: string } {
    const slot = this.byToken.get(token);
    if (!slot) return { status: 404, message: 'unknown worker token' };
    if (!slot.metrics) return { status: 404, message: 'no algorithm call is in progress on this worker' };
    const merged = mergeReportedMetrics(slot.metrics, body);
    if (!merged.ok) return { status: 400, message: merged.message };
    slot.metrics = merged.metrics;
    return { status: 200 };
  }

  /** The context of the call running on the worker holding this token; undefined between calls or once the worker is gone. */
  resolveCall(token: string): CallContext | undefined {
    const slot = this.byToken.get(token);
    return slot?.state === 'busy' ? slot.context : undefined;
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
    this.byToken.delete(slot.token);
    slot.metrics = undefined;
    slot.context = undefined;
    const done = slot.worker
      .dispose()
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
    const token = randomBytes(24).toString('base64url');
    const workDir = join(this.opts.workRoot, sessionId);
    const runtimesDir = this.opts.runtimesDir ?? defaultRuntimesDir();
    const nodeBin = this.opts.nodeBin ?? process.execPath;
    const maxResultBytes = this.opts.maxResultBytes ?? this.opts.maxOutputBytes;
    const runner = runnerCommand(spec.language, {
      runtimesDir, nodeBin, entry: entryPath(spec.language, spec.algoName),
      pythonBin: this.opts.pythonBin, rscriptBin: this.opts.rscriptBin,
      memoryLimitMb: this.opts.memoryLimitMb, maxResultBytes,
    });
    // A clean environment: nothing of the service's own (secrets, keys) reaches algorithm code.
    const env = {
      PATH: [...new Set([dirname(nodeBin), '/usr/local/bin', '/usr/bin', '/bin'])].join(':'),
      HOME: workDir,
      LANG: 'C.UTF-8',
      ALGORITHMIA_API: `${this.opts.callbackBaseUrl().replace(/\/+$/, '')}/worker/${token}`,
      ...runner.env,
    };
    const worker = new WorkerProcess({
      sessionId, workDir, files: spec.files, command: runner.command, args: runner.args, env, uid,
      maxStdoutBytes: this.opts.maxOutputBytes, maxReplyBytes: maxResultBytes,
    });
    const slot: Slot = { worker, key: spec.key, sessionId, token, uid, state: 'reserved' };
    worker.onExit = () => {
      // An idle worker that died is replaced on demand; a busy one is handled by its call.
      if (slot.state === 'idle') this.discard(slot);
    };
    this.slots.add(slot);
    this.byToken.set(token, slot);
    return slot;
  }

  private async prepareRoot(): Promise<void> {
    await mkdir(this.opts.workRoot, { recursive: true, mode: 0o711 });
    // Workers must reach their own directory but not list their neighbours.
    if (this.runAsUid) await chmod(this.opts.workRoot, 0o711);
  }
}
