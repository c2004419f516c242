// The types of the worker protocol (worker-process.ts speaks it; runtimes/ implement the other side).
import { constants } from 'node:os';
export interface AlgoError {
  message: string;
  stacktrace?: string;
  error_type: string;
}
export interface WorkerLaunch {
  sessionId: string;
  workDir: string;
  files: Record<string, string>;
  command: string;
  args: string[];
  env: Record<string, string>; // the complete environment: nothing is inherited
  uid?: number; // set: run as this uid/gid and own the working directory
  /**
   * Set for a sandboxed worker: the command is bwrap (see sandbox-command.ts), which reports its
   * sandbox on fd 4 and waits on fd 5; attach(outerPid, sandboxPid1) prepares what lives outside
   * (forwarder, network) before the runner is let go. The uid switch is then the command's job.
   */
  sandbox?: { attach(outerPid: number, initPid: number): Promise<void> };
  visibleWorkDir?: string; // the working directory as the algorithm sees it (default workDir)
  maxStdoutBytes: number;
  maxReplyBytes: number;
}
export type StartResult = { ok: true } | { ok: false; error: AlgoError; stdout: string };
export type RunResult =
  | { kind: 'result'; contentType: 'text' | 'json' | 'binary'; result: unknown; stdout: string; durationMs: number }
  | { kind: 'error'; error: AlgoError; stdout: string; durationMs: number }
  | { kind: 'input-error'; reason: InputErrorReason; message: string; stdout: string; durationMs: number };
export type InputErrorReason = 'too_deep' | 'too_large' | 'malformed';
export interface RunRequest {
  contentType: 'text' | 'json' | 'binary';
  data: Buffer; // the caller's bytes; text and json as UTF-8
  /** ALGORITHMIA_API for this call alone (it carries the call's token); the runner sets it. */
  api?: string;
}

export function timeoutError(timeoutLabel: string): AlgoError {
  return { message: `algorithm timed out after ${timeoutLabel}`, error_type: 'TimeoutError' };
}

export function describeExit(code: number | null, rawSignal: NodeJS.Signals | null): AlgoError {
  // A sandboxed runner is a child of bwrap's init, which exits with 128 + the signal that killed it.
  const signal = rawSignal ?? (code !== null && code > 128 && code < 160 ? signalNamed(code - 128) : null);
  if (signal === 'SIGKILL') {
    return { message: 'algorithm process was killed (SIGKILL), possibly for exceeding its memory limit', error_type: 'AlgorithmError' };
  }
  if (signal) return { message: `algorithm process died with signal ${signal}`, error_type: 'AlgorithmError' };
  return { message: `algorithm process exited with code ${code}`, error_type: 'SystemExit' };
}

function signalNamed(n: number): NodeJS.Signals | null {
  const found = Object.entries(constants.signals).find(([, v]) => v === n);
  return found ? (found[0] as NodeJS.Signals) : null;
}
