// One algorithm worker process: prepares its working directory, spawns the language runner,
// speaks the line protocol and kills the process tree.
//
// Protocol (the runners under runtimes/ implement the other side):
//   stdin  one JSON request per line: {"id", "content_type": "text"|"json"|"binary", "data"}
//          (binary data is base64)
//   fd 3   one JSON reply per line: first {"ready": true} or {"ready": false, "error"}, then one
//          {"id", "content_type", "result"} or {"id", "error": {"message","stacktrace","error_type"}}
//          per request. A separate descriptor, so whatever the algorithm prints cannot corrupt it.
//   fd 1/2 the algorithm's own output. After each call the runner writes "\x1ebeacon-end:<id>\x1e"
//          on both, because data on different pipes arrives in no fixed order: the call's output
//          is what came before the two markers.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, chown, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSourceTree } from './languages';
import { attachOverFds } from './worker-sandbox';
import { BoundedOutput, LineReader, MarkerScanner, toBuffer } from './worker-streams';

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
  | { kind: 'error'; error: AlgoError; stdout: string; durationMs: number };
export interface RunRequest {
  contentType: 'text' | 'json' | 'binary';
  data: unknown;
  /** ALGORITHMIA_API for this call alone (it carries the call's token); the runner sets it. */
  api?: string;
}

type Reply = Record<string, unknown>;
interface Waiting {
  onReply(msg: Reply): void;
  onMarkers(): void;
  onExit(error: AlgoError): void;
}

const MARKER_GRACE_MS = 1000; // how long to wait for output markers once the reply is in

export function timeoutError(timeoutLabel: string): AlgoError {
  return { message: `algorithm timed out after ${timeoutLabel}`, error_type: 'TimeoutError' };
}

export class WorkerProcess {
  state: 'new' | 'starting' | 'ready' | 'busy' | 'dead' = 'new';
  /** Called once when the process ends, expectedly or not. */
  onExit?: () => void;
  private child?: ChildProcess;
  private waiting?: Waiting;
  private output = new BoundedOutput(0);
  private readonly scanners = [new MarkerScanner(), new MarkerScanner()];
  private exitError?: AlgoError;
  private respawned = false;

  constructor(private readonly launch: WorkerLaunch) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Resolves once the runner has loaded the algorithm (or failed to). */
  async start(deadline: number, timeoutLabel: string): Promise<StartResult> {
    this.state = 'starting';
    this.output = new BoundedOutput(this.launch.maxStdoutBytes);
    try {
      await this.prepareWorkDir();
    } catch (e) {
      this.state = 'dead';
      return { ok: false, error: { message: `could not prepare the worker: ${(e as Error).message}`, error_type: 'SystemError' }, stdout: '' };
    }
    return new Promise((resolve) => {
      const done = (r: StartResult) => {
        clearTimeout(timer);
        this.waiting = undefined;
        resolve(r);
      };
      const timer = setTimeout(() => {
        this.kill();
        done({ ok: false, error: timeoutError(timeoutLabel), stdout: this.output.text() });
      }, Math.max(0, deadline - Date.now()));
      const waiting: Waiting = {
        onReply: (msg) => {
          if (msg.ready === true) {
            this.state = 'ready';
            done({ ok: true });
            return;
          }
          const error = this.relativePaths((msg.error as AlgoError | undefined) ?? { message: 'the runner failed to start', error_type: 'LoadingError' });
          this.kill();
          done({ ok: false, error, stdout: this.output.text() });
        },
        onMarkers: () => {},
        onExit: (error) => {
          // Dying before "ready" is a load failure; the output usually says why (missing
          // interpreter, quit() at top level...).
          const stdout = this.output.text();
          // bwrap itself failed to build the sandbox (seen under load: "loopback: Failed
          // RTM_NEWADDR"): one fresh attempt before the call is failed.
          if (this.launch.sandbox && !this.respawned && /^bwrap: /.test(stdout)) {
            this.respawned = true;
            this.state = 'starting';
            this.exitError = undefined;
            this.output = new BoundedOutput(this.launch.maxStdoutBytes);
            this.waiting = waiting;
            return this.spawnChild();
          }
          const died = error.error_type === 'SystemExit' || error.error_type === 'AlgorithmError';
          const message = died ? `${error.message} while loading the algorithm` : error.message;
          done({ ok: false, error: { message, error_type: died ? 'LoadingError' : error.error_type, stacktrace: stdout.slice(-4096) }, stdout });
        },
      };
      this.waiting = waiting;
      this.spawnChild();
    });
  }

  /** Runs one call. Never rejects: faults, timeouts and deaths become error results. */
  run(req: RunRequest, deadline: number, timeoutLabel: string): Promise<RunResult> {
    if (this.state !== 'ready' || !this.child) {
      return Promise.resolve({ kind: 'error', error: { message: 'worker is not running', error_type: 'SystemError' }, stdout: '', durationMs: 0 });
    }
    this.state = 'busy';
    const id = randomUUID();
    this.output = new BoundedOutput(this.launch.maxStdoutBytes);
    for (const s of this.scanners) s.arm(`\x1ebeacon-end:${id}\x1e`);
    const data = req.contentType === 'binary' ? toBuffer(req.data).toString('base64') : req.data;
    const started = performance.now();

    return new Promise((resolve) => {
      let reply: Reply | undefined;
      let graceTimer: NodeJS.Timeout | undefined;
      const common = () => {
        for (const s of this.scanners) s.disarm(this.output);
        return { stdout: this.output.text(), durationMs: Math.round((performance.now() - started) * 1000) / 1000 };
      };
      const finish = (r: RunResult) => {
        clearTimeout(timer);
        clearTimeout(graceTimer);
        this.waiting = undefined;
        if (this.state === 'busy') this.state = 'ready';
        resolve(r);
      };
      const fromReply = () => {
        const msg = reply as Reply;
        if (msg.error) finish({ kind: 'error', error: this.relativePaths(msg.error as AlgoError), ...common() });
        else finish({ kind: 'result', contentType: msg.content_type as 'text' | 'json' | 'binary', result: msg.result, ...common() });
      };
      const timer = setTimeout(() => {
        this.kill();
        finish({ kind: 'error', error: timeoutError(timeoutLabel), ...common() });
      }, Math.max(0, deadline - Date.now()));
      this.waiting = {
        onReply: (msg) => {
          if (msg.id !== id) return; // a stale reply cannot belong to this call
          reply = msg;
          if (this.scanners.every((s) => s.seen)) fromReply();
          else graceTimer = setTimeout(fromReply, MARKER_GRACE_MS);
        },
        onMarkers: () => {
          if (reply) fromReply();
        },
        onExit: (error) => {
          const out = common();
          // V8 dies when it reaches --max-old-space-size (by signal or exit code, depending on where
          // the allocation failed); its fatal message says why, so say so rather than "SIGABRT".
          const oom = /heap out of memory|Fatal process out of memory|Reached heap limit/i.test(out.stdout);
          const e = oom ? { message: 'algorithm ran out of memory', error_type: 'OutOfMemoryError' } : error;
          finish({ kind: 'error', error: e, ...out });
        },
      };
      const line = JSON.stringify({ id, content_type: req.contentType, data: data ?? null, ...(req.api ? { algorithmia_api: req.api } : {}) });
      this.child?.stdin?.write(`${line}\n`);
    });
  }

  /**
   * SIGKILL to the whole process group: the runner, the sh wrapper and anything they started.
   * Not once dead: the group id could by then belong to someone else.
   */
  kill(): void {
    const pid = this.child?.pid;
    if (pid !== undefined && this.state !== 'dead') {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.state = 'dead';
  }

  /** Kills the process tree and removes the working directory. */
  async dispose(): Promise<void> {
    this.kill();
    await rm(this.launch.workDir, { recursive: true, force: true, maxRetries: 3 });
  }

  /** Errors name src/x.py, as the author knows it, rather than the host's worker directory. */
  private relativePaths(error: AlgoError): AlgoError {
    const dir = this.launch.visibleWorkDir ?? this.launch.workDir;
    const strip = (t: unknown) => (typeof t === 'string' ? t.split(`${dir}/`).join('') : t);
    return { ...error, message: String(strip(error.message)), stacktrace: strip(error.stacktrace) as string | undefined };
  }

  private async prepareWorkDir(): Promise<void> {
    const { workDir, files, uid } = this.launch;
    await mkdir(workDir, { mode: 0o700 });
    await writeSourceTree(workDir, files);
    await chmod(workDir, 0o700);
    if (uid !== undefined) {
      await chownTree(workDir, uid);
      await sweepUid(uid); // nothing may already run as this uid (e.g. left by a crashed service)
    }
  }

  private spawnChild(): void {
    const { command, args, env, workDir, uid, sandbox } = this.launch;
    const ids = uid !== undefined && !sandbox ? { uid, gid: uid } : {};
    const stdio: ('pipe' | 'ignore')[] = sandbox ? ['pipe', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe', 'pipe'];
    // detached: a new process group, so kill() reaches grandchildren too.
    const child = spawn(command, args, { cwd: workDir, env, stdio, detached: true, ...ids });
    this.child = child;
    if (sandbox) attachOverFds(child, sandbox, (e) => this.fail({ message: `could not set up the worker sandbox: ${e.message}`, error_type: 'SystemError' }));
    const replies = new LineReader(this.launch.maxReplyBytes + 64 * 1024);
    child.stdin?.on('error', () => {}); // EPIPE when the runner died: the exit handler reports it
    child.stdout?.on('data', (d: Buffer) => this.onOutput(0, d));
    child.stderr?.on('data', (d: Buffer) => this.onOutput(1, d));
    child.stdio[3]?.on('data', (d: Buffer) => {
      const lines = replies.push(d);
      if (lines === undefined) return this.fail({ message: `the result is larger than the limit of ${this.launch.maxReplyBytes} bytes`, error_type: 'TooLargeError' });
      for (const line of lines) this.onReplyLine(line);
    });
    child.on('error', (e) => this.fail({ message: `could not start the worker (${command}): ${e.message}`, error_type: 'SystemError' }));
    child.on('exit', (code, signal) => {
      this.kill(); // leftover children of the group
      this.exitError ??= describeExit(code, signal);
      // Report once the pipes have delivered their last bytes ('close'): a load error written
      // just before exiting may still be in flight on fd 3 when 'exit' fires.
      const report = () => {
        clearTimeout(fallback);
        child.off('close', report); // once: a respawned start must not get this child's exit
        const w = this.waiting;
        this.waiting = undefined;
        w?.onExit(this.exitError as AlgoError);
      };
      const fallback = setTimeout(report, 500); // a leaked descriptor must not hang the call
      child.once('close', report);
      this.onExit?.();
    });
  }

  private onOutput(stream: 0 | 1, chunk: Buffer): void {
    const scanner = this.scanners[stream];
    const wasSeen = scanner.seen;
    // Output counts while someone waits for the process (start-up or a call), including the last
    // words of a process that is dying; between calls it belongs to no one.
    if (this.waiting) scanner.feed(chunk, this.output);
    if (!wasSeen && scanner.seen && this.scanners.every((s) => s.seen)) this.waiting?.onMarkers();
  }

  private onReplyLine(line: string): void {
    let msg: Reply;
    try {
      msg = JSON.parse(line) as Reply;
    } catch {
      return this.fail({ message: 'the worker sent an invalid protocol line', error_type: 'SystemError' });
    }
    this.waiting?.onReply(msg);
  }

  private fail(error: AlgoError): void {
    this.exitError ??= error;
    const w = this.waiting;
    this.waiting = undefined;
    this.kill();
    w?.onExit(error);
  }
}

/**
 * Kills every process running as a worker uid, e.g. a daemon that left the process group with
 * setsid: kill(-1) sent from that uid reaches exactly the processes of that uid. Run before a uid
 * is first used and after its worker is gone.
 */
export function sweepUid(uid: number): Promise<void> {
  if (uid <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', 'kill -9 -1 2>/dev/null; exit 0'], { uid, gid: uid, env: {}, stdio: 'ignore', cwd: '/' });
    child.on('error', () => resolve());
    child.on('close', () => resolve());
  });
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): AlgoError {
  if (signal === 'SIGKILL') {
    return { message: 'algorithm process was killed (SIGKILL), possibly for exceeding its memory limit', error_type: 'AlgorithmError' };
  }
  if (signal) return { message: `algorithm process died with signal ${signal}`, error_type: 'AlgorithmError' };
  return { message: `algorithm process exited with code ${code}`, error_type: 'SystemExit' };
}

async function chownTree(dir: string, uid: number): Promise<void> {
  await chown(dir, uid, uid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(path, uid);
    else await chown(path, uid, uid);
  }
}
