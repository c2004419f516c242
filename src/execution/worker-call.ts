// What a worker pool is asked to run and what it answers (worker-pool.ts runs it).
import type { ReportedMetrics } from '../insights/reported-metrics';
import type { Principal } from '../platform/auth';
import type { NestedCallTiming } from './call-context';
import type { Language } from '../platform/language-catalogue';
import type { AlgoError, InputErrorReason } from './worker-protocol';
import type { NetworkAccess, PoolSandbox } from './worker-sandbox';

export interface WorkerSpec {
  key: string; // build id
  language: Language;
  algoName: string;
  files: Record<string, string>;
  network?: NetworkAccess; // default isolated; only applies to sandboxed workers
}
export interface CallRequest {
  contentType: 'text' | 'json' | 'binary';
  data: Buffer; // the caller's bytes (text and json as UTF-8): the runner parses them, not Beacon
  timeoutMs: number;
  requestId: string;
  caller?: Principal; // the authenticated top-level caller; its userId is the unit of fair share
  depth?: number;
  chain?: string[];
  pipelineEnabled?: boolean; // settings.pipeline_enabled of the algorithm: may its code call others (default true)
  nested?: NestedCallTiming[]; // where the call's nested calls are listed (metadata.nested_calls)
}
export type Common = { stdout: string; durationMs: number; sessionId: string; metrics: ReportedMetrics };
export type CallOutcome =
  | ({ kind: 'result'; contentType: 'text' | 'json' | 'binary'; result: unknown } & Common)
  | ({ kind: 'error'; error: AlgoError } & Common)
  // The runner refused the input before calling the algorithm (a 400 for the caller).
  | ({ kind: 'input-error'; reason: InputErrorReason; message: string } & Common)
  // Too many calls already wait for this version's workers (a 429 for the caller).
  | ({ kind: 'busy'; message: string; retryAfterSeconds: number } & Common);
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
  maxWaitingPerKey?: number; // calls queued per version beyond its workers (default 64); more get 'busy'
  maxBusyPerCaller?: number; // workers one caller may hold at once (default: all of maxWorkersTotal)
  maxInputBytes?: number; // the runners' JSON size limit (default 10 MiB)
  maxInputDepth?: number; // the runners' JSON nesting limit (default 512)
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
