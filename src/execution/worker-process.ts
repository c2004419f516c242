// One algorithm worker process: prepares its working directory, spawns the language runner,
// speaks the line protocol and kills the process tree.
//
// Protocol (the runners under runtimes/ implement the other side):
//   stdin  per request a header line {"id", "content_type": "text"|"json"|"binary", "length": n}
//          followed by exactly n bytes: the caller's input as it arrived (text and json as UTF-8).
//          Beacon never parses the caller's JSON: the runner does, with depth and size limits, and
//          answers {"id", "input_error": {"message", "reason": "too_deep"|"too_large"|"malformed"}}
//          before calling the algorithm when the input breaks them.
//   fd 3   one JSON reply per line: first {"ready": true} or {"ready": false, "error"}, then one
//          {"id", "content_type", "result"} or {"id", "error": {"message","stacktrace","error_type"}}
//          per request. A separate descriptor, so whatever the algorithm prints cannot corrupt it.
//   fd 1/2 the algorithm's own output. After each call the runner writes "\x1ebeacon-end:<id>\x1e"
//          on both, because data on different pipes arrives in no fixed order: the call's output
//          is what came before the two markers.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSourceTree } from '../platform/source-tree';
import { isJsonValueAsync, RawJson } from './raw-json';
import type { AlgoError, RunRequest, RunResult, StartResult, WorkerLaunch } from './worker-protocol';
import { describeExit, timeoutError } from './worker-protocol';
import { chownTree, sweepUid } from './worker-uids';
import { attachOverFds } from './worker-sandbox';
import { BoundedOutput, LineReader, MarkerScanner, toBuffer } from './worker-streams';

export type { AlgoError, InputErrorReason, RunRequest, RunResult, StartResult, WorkerLaunch } from './worker-protocol';
export { timeoutError } from './worker-protocol';
export { sweepUid } from './worker-uids';

type Reply = Record<string, unknown>;
interface Waiting {
  onReply(msg: Reply): void;
  onMarkers(): void;
  onExit(error: AlgoError): void;
}

const MARKER_GRACE_MS = 1000; // how long to wait for output markers once the reply is in
// The runners write a JSON result as {"id": "<uuid>", "content_type": "json", "result": <value>}.
const JSON_RESULT_HEAD = /^\{"id": ?"([0-9a-f-]{36})", ?"content_type": ?"json", ?"result": ?/;
const RAW_RESULT_MIN_CHARS = 64 * 1024; // smaller results are parsed: cheap, and simpler for callers

export class WorkerProcess {
  state: 'new' | 'starting' | 'ready' | 'busy' | 'dead' = 'new';
  /** Called once when the process ends, expectedly or not. */
  onExit?: () => void;
  private child?: ChildProcess;
  private waiting?: Waiting;
  private output = new BoundedOutput(0);
  // During a call stderr is kept apart: metadata.stdout is stdout only (as Algorithmia's). At
  // start-up both go to `output`, because a load failure is explained on either.
  private stderr?: BoundedOutput;
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
    this.stderr = undefined;
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
    const stderr = new BoundedOutput(this.launch.maxStdoutBytes);
    this.stderr = stderr;
    for (const s of this.scanners) s.arm(`\x1ebeacon-end:${id}\x1e`);
    const started = performance.now();

    return new Promise((resolve) => {
      let reply: Reply | undefined;
      let graceTimer: NodeJS.Timeout | undefined;
      const common = () => {
        this.scanners[0].disarm(this.output);
        this.scanners[1].disarm(stderr);
        return { stdout: this.output.text(), stderr: stderr.text(), durationMs: Math.round((performance.now() - started) * 1000) / 1000 };
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
        const { stdout, durationMs } = common();
        const inputError = msg.input_error as { message?: unknown; reason?: unknown } | undefined;
        if (inputError) {
          const reason = (['too_deep', 'too_large', 'malformed'] as const).find((r) => r === inputError.reason) ?? 'malformed';
          finish({ kind: 'input-error', reason, message: String(inputError.message ?? 'invalid input'), stdout, durationMs });
        } else if (msg.error) finish({ kind: 'error', error: this.relativePaths(msg.error as AlgoError), stdout, durationMs });
        else finish({ kind: 'result', contentType: msg.content_type as 'text' | 'json' | 'binary', result: msg.result, stdout, durationMs });
      };
      const timer = setTimeout(() => {
        this.kill();
        const { stdout, durationMs } = common();
        finish({ kind: 'error', error: timeoutError(timeoutLabel), stdout, durationMs });
      }, Math.max(0, deadline - Date.now()));
      this.waiting = {
        onReply: (msg) => {
          // Nothing but this call's reply is expected: a worker that writes anything else is broken
          // or hostile, and ends before it can cost Beacon a parse per line.
          if (msg.id !== id || reply) return this.fail({ message: 'the worker sent a reply that belongs to no call', error_type: 'SystemError' });
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
          const oom = /heap out of memory|Fatal process out of memory|Reached heap limit/i.test(`${out.stdout}\n${out.stderr}`);
          const e = oom ? { message: 'algorithm ran out of memory', error_type: 'OutOfMemoryError' } : error;
          finish({ kind: 'error', error: e, stdout: out.stdout, durationMs: out.durationMs });
        },
      };
      try {
        const data = toBuffer(req.data);
        const head = JSON.stringify({ id, content_type: req.contentType, length: data.length, ...(req.api ? { algorithmia_api: req.api } : {}) });
        this.child?.stdin?.write(`${head}\n`);
        this.child?.stdin?.write(data);
      } catch (e) {
        // Whatever cannot be sent ends this call and this worker (it may hold half a request).
        this.kill();
        finish({ kind: 'error', error: { message: `could not send the input to the worker: ${(e as Error).message}`, error_type: 'SystemError' }, ...common() });
      }
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
    if (this.waiting) scanner.feed(chunk, stream === 1 && this.stderr ? this.stderr : this.output);
    if (!wasSeen && scanner.seen && this.scanners.every((s) => s.seen)) this.waiting?.onMarkers();
  }

  private onReplyLine(line: string): void {
    // A large JSON result is validated and kept as text (raw-json.ts), never parsed here.
    const head = line.length > RAW_RESULT_MIN_CHARS ? JSON_RESULT_HEAD.exec(line.slice(0, 160)) : null;
    if (head) {
      const end = line.trimEnd().length - 1; // the reply's closing brace
      const waiting = this.waiting;
      // Checked in slices: the event loop serves other calls meanwhile.
      void isJsonValueAsync(line, head[0].length, end).then((valid) => {
        if (this.waiting !== waiting) return; // the call ended meanwhile (timeout, exit)
        if (!valid || line.charCodeAt(end) !== 0x7d) return this.fail({ message: 'the worker sent an invalid protocol line', error_type: 'SystemError' });
        waiting?.onReply({ id: head[1], content_type: 'json', result: new RawJson(line.slice(head[0].length, end)) });
      });
      return;
    }
    let msg: Reply;
    try {
      msg = JSON.parse(line) as Reply;
    } catch {
      return this.fail({ message: 'the worker sent an invalid protocol line', error_type: 'SystemError' });
    }
    if (this.waiting) this.waiting.onReply(msg);
    else if (this.state === 'ready') this.fail({ message: 'the worker wrote a reply between calls', error_type: 'SystemError' });
  }

  private fail(error: AlgoError): void {
    this.exitError ??= error;
    const w = this.waiting;
    this.waiting = undefined;
    this.kill();
    w?.onExit(error);
  }
}
