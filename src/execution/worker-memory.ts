// Out-of-memory detection for sandboxed workers without a cgroup read on every call.
//
// Each worker's cgroup is set up so that running out of memory cannot go unnoticed by a call that
// ends normally:
// - cgroup v1: `memory.oom_control` oom_kill_disable=1. A process that reaches the limit is not
//   killed by the kernel: it waits (`under_oom 1`). A call whose processes wait never ends on its
//   own; the shared poll below finds it (every 100 ms, only calls running 100 ms or more), kills
//   the worker and the call gets OutOfMemoryError. A call that does end while a child waits leaves
//   that child behind: the between-call sweep sees a process other than the runner and reads the
//   group's memory state then.
// - cgroup v2: `memory.oom.group` 1. The kernel kills every process of the worker, the runner
//   too, so the call ends with the worker gone and the group's `memory.events` is read then.
// So a call that ends with the worker alive and nothing but the runner in it did not run out of
// memory, and costs no read (measured: four cgroup and tmpfs syscalls per call were the sandbox's
// whole warm-call cost, see docs/benchmarks.md).

export const MEMORY_POLL_MS = 100;

export interface MemoryState {
  /** True when a process of the worker waits at the memory limit or was killed for memory. */
  memoryExhausted(): boolean;
  /** v1: true (over-limit processes wait, a poll finds them); v2: false (the kernel kills the worker). */
  readonly stallsAtLimit: boolean;
}

/** One running call's memory watch; end() says whether the poll found the worker out of memory. */
export interface CallMemoryWatch {
  end(): boolean;
}

// A class rather than closures: one allocation per call on the hot path.
class Watched implements CallMemoryWatch {
  readonly since = performance.now();
  fired = false;

  constructor(
    readonly state: MemoryState,
    readonly worker: { kill(): void },
  ) {}

  end(): boolean {
    watched.delete(this);
    return this.fired;
  }
}

const NOT_WATCHED: CallMemoryWatch = Object.freeze({ end: () => false });
const watched = new Set<Watched>();
let timer: NodeJS.Timeout | undefined;

function tick(): void {
  const now = performance.now();
  for (const w of watched) {
    if (w.fired || now - w.since < MEMORY_POLL_MS) continue;
    if (w.state.memoryExhausted()) {
      w.fired = true;
      w.worker.kill();
    }
  }
  if (watched.size === 0 && timer) {
    clearInterval(timer);
    timer = undefined;
  }
}

/** Watches one running call (only where over-limit processes wait: cgroup v1). */
export function watchCall(state: MemoryState, worker: { kill(): void }): CallMemoryWatch {
  if (!state.stallsAtLimit) return NOT_WATCHED;
  const w = new Watched(state, worker);
  watched.add(w);
  timer ??= setInterval(tick, MEMORY_POLL_MS).unref();
  return w;
}
