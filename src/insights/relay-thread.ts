import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../platform/logger';
import type { RelayState } from './relay';

// Runs the relay (relay.ts, unchanged) in a worker thread when INSIGHTS_RELAY_THREAD=true. The
// service's main thread is what saturates first under load, and a relay sharing it takes ~0.15 ms
// of CPU per payload from the request path; in its own thread the relay can use another core, like
// a separate relay replica does. Off by default: on the 2-vCPU project machine there is no spare
// core, execution throughput measured the same and the backlog drain ~18 % slower
// (docs/benchmarks.md). The service talks to it with messages: new rows, connection changed, stop;
// the thread answers with counts, its state and its log lines.

export interface RelayWorkerData {
  /** The service's database (the thread opens its own small pool). */
  connectionString: string;
  secretKey: Uint8Array;
  batchSize: number;
  idleMs: number;
  lingerMs: number;
  logLevel: string;
}

export type ToRelayWorker = { type: 'rows' } | { type: 'connectionChanged' } | { type: 'stop' };
export type FromRelayWorker =
  | { type: 'state'; state: RelayState }
  | { type: 'count'; stage: 'delivered' | 'failed' | 'dropped'; n: number }
  | { type: 'log'; line: string }
  | { type: 'stopped' };

export interface RelayThreadDeps {
  data: RelayWorkerData;
  logger: Logger;
  onDelivered(n: number): void;
  onFailed(n: number): void;
  onDropped(n: number): void;
}

const RESTART_DELAY_MS = 1_000;
const LEVELS: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

export class RelayThread {
  private worker: Worker | undefined;
  private exited: Promise<void> | undefined;
  private stopping = false;
  private rowsAnnounced = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private current: RelayState = { running: false, connected: false, lastError: undefined, lastErrorAt: undefined };

  constructor(private readonly deps: RelayThreadDeps) {}

  start(): void {
    if (this.worker) return;
    this.stopping = false;
    const worker = spawn(this.deps.data);
    this.worker = worker;
    this.current = { ...this.current, running: true };
    worker.on('message', (m: FromRelayWorker) => this.onMessage(m));
    worker.on('error', (err) => this.deps.logger.error({ err: err.message }, 'insights relay thread failed'));
    this.exited = new Promise((resolve) => {
      worker.once('exit', () => {
        if (this.worker === worker) this.worker = undefined;
        this.current = { ...this.current, running: false, connected: false };
        if (!this.stopping) {
          // The relay never lets an error escape, so this is a bug or an out-of-memory: start again.
          this.deps.logger.error('insights relay thread exited unexpectedly; restarting it');
          this.restartTimer = setTimeout(() => this.start(), RESTART_DELAY_MS).unref();
        }
        resolve();
      });
    });
  }

  /** Finishes the batch in flight, then stops the thread. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const worker = this.worker;
    if (!worker) return;
    const stopped = new Promise<void>((resolve) => {
      worker.on('message', (m: FromRelayWorker) => m.type === 'stopped' && resolve());
      worker.once('exit', () => resolve());
    });
    worker.postMessage({ type: 'stop' } satisfies ToRelayWorker);
    await stopped;
    await worker.terminate();
    await this.exited;
  }

  /** New rows were stored; one message per turn of the event loop, however many callers. */
  notifyNewRows(): void {
    if (!this.worker || this.rowsAnnounced) return;
    this.rowsAnnounced = true;
    setImmediate(() => {
      this.rowsAnnounced = false;
      this.worker?.postMessage({ type: 'rows' } satisfies ToRelayWorker);
    });
  }

  notifyConnectionChanged(): void {
    this.worker?.postMessage({ type: 'connectionChanged' } satisfies ToRelayWorker);
  }

  state(): RelayState {
    return this.current;
  }

  private onMessage(m: FromRelayWorker): void {
    if (m.type === 'state') this.current = { ...m.state, running: this.worker !== undefined };
    else if (m.type === 'count') {
      if (m.stage === 'delivered') this.deps.onDelivered(m.n);
      else if (m.stage === 'failed') this.deps.onFailed(m.n);
      else this.deps.onDropped(m.n);
    } else if (m.type === 'log') this.relog(m.line);
  }

  /** The thread's log lines go through the service's logger (same destination, same redaction). */
  private relog(line: string): void {
    try {
      const { level, time: _time, service: _service, msg, ...fields } = JSON.parse(line) as Record<string, unknown>;
      this.deps.logger[LEVELS[level as number] ?? 'info']({ ...fields, thread: 'relay' }, String(msg ?? ''));
    } catch {
      this.deps.logger.warn({ thread: 'relay' }, 'insights relay thread wrote an unreadable log line');
    }
  }
}

/** From src/ (tsx) the worker loads TypeScript through tsx's require hook; from dist/ it is plain JavaScript. */
function spawn(data: RelayWorkerData): Worker {
  const typescript = __filename.endsWith('.ts');
  const file = path.join(__dirname, typescript ? 'relay-worker.ts' : 'relay-worker.js');
  const options = { workerData: data };
  if (!typescript) return new Worker(file, options);
  const hook = require.resolve('tsx/cjs');
  return new Worker(`require(${JSON.stringify(hook)}); require(${JSON.stringify(file)});`, { ...options, eval: true });
}
