// The whole environment of a worker process: nothing is inherited from the service.
import { dirname } from 'node:path';

export interface WorkerEnvironmentOptions {
  nodeBin: string;
  home: string; // the working directory as the algorithm sees it
  api: string; // where callbacks go (the in-sandbox forwarder, or Beacon's port when unsandboxed)
  runnerEnv: Record<string, string>;
  maxInputBytes?: number; // the runners' JSON size limit (default 10 MiB)
  maxInputDepth?: number; // the runners' JSON nesting limit (default 512)
}

/**
 * A clean environment: nothing of the service's own (secrets, keys) reaches algorithm code.
 * ALGORITHMIA_API carries a call's token only during that call (the runner sets it per call).
 */
export function workerEnvironment(o: WorkerEnvironmentOptions): Record<string, string> {
  return {
    PATH: [...new Set([dirname(o.nodeBin), '/usr/local/bin', '/usr/bin', '/bin'])].join(':'),
    HOME: o.home,
    LANG: 'C.UTF-8',
    ALGORITHMIA_API: `${o.api}/worker/outside-a-call`,
    // The limits the runner holds the caller's JSON to before the algorithm sees it.
    BEACON_MAX_INPUT_BYTES: String(o.maxInputBytes ?? 10 * 1024 * 1024),
    BEACON_MAX_INPUT_DEPTH: String(o.maxInputDepth ?? 512),
    ...o.runnerEnv,
  };
}
