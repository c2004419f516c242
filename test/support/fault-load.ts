// Fault tier: a bounded load generator. A fixed number of calls, a fixed number in flight, and a
// client timeout on every call, so a fault shows up as a counted outcome, never as a hung test.

export type CallKind = 'ok' | 'algo_error' | 'http_error' | 'timeout' | 'connection';

export interface CallResult {
  index: number;
  startedAt: number; // Date.now() when the call was issued
  kind: CallKind;
  status: number; // 0 when no HTTP answer arrived
  /** metadata.request_id (== X-Request-Id) of an answered call. */
  requestId?: string;
  body?: any;
  detail?: string; // network error text
}

export interface LoadOptions {
  url: string;
  path: string;
  key: string;
  total: number;
  concurrency: number;
  timeoutMs: number;
  input: (index: number) => unknown;
  /** Stops issuing new calls once true (calls in flight still finish). */
  stop?: () => boolean;
}

export interface Load {
  results: CallResult[];
  /** Calls finished so far. */
  done(): number;
  finished: Promise<CallResult[]>;
}

/** Starts the load and returns at once; `finished` resolves when every issued call has an outcome. */
export function startLoad(o: LoadOptions): Load {
  const results: CallResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < o.total && !(o.stop?.() ?? false)) {
      const index = next++;
      results.push(await callOnce(o.url, o.path, o.key, o.input(index), o.timeoutMs, index));
    }
  };
  const finished = Promise.all(Array.from({ length: o.concurrency }, worker)).then(() => results);
  return { results, done: () => results.length, finished };
}

export interface FaultWindow {
  /** Calls finished before the fault is injected. */
  after: number;
  inject(): Promise<void>;
  /** How long the fault lasts: a time, or a number of calls finished meanwhile. */
  hold: { ms: number } | { calls: number };
  recover(): Promise<void>;
  /** Calls finished after the recovery before the load stops; unset: the load runs to `total`. */
  thenCalls?: number;
}

export interface FaultRun {
  /** In completion order: [0, atFault) before, [atFault, atRecovery) during, the rest after. */
  results: CallResult[];
  atFault: number;
  atRecovery: number;
}

/** Runs a load and injects one fault part-way, every wait bounded by `boundMs`. */
export async function loadThroughFault(o: LoadOptions, w: FaultWindow, boundMs = 120_000): Promise<FaultRun> {
  let atRecovery: number | undefined;
  let aborted = false;
  const load = startLoad({
    ...o,
    stop: () => aborted || (o.stop?.() ?? false) || (w.thenCalls !== undefined && atRecovery !== undefined && load.done() >= atRecovery + w.thenCalls),
  });
  try {
    if (!(await waitUntil(() => load.done() >= w.after, boundMs))) throw new Error(`the load did not reach ${w.after} calls`);
    await w.inject();
    const atFault = load.done();
    if ('ms' in w.hold) await sleep(w.hold.ms);
    else {
      const until = atFault + w.hold.calls;
      if (!(await waitUntil(() => load.done() >= until, boundMs))) throw new Error(`the load did not reach ${until} calls during the fault`);
    }
    await w.recover();
    atRecovery = load.done();
    return { results: await load.finished, atFault, atRecovery };
  } catch (err) {
    aborted = true; // no new calls; the ones in flight end by their own timeout
    await load.finished;
    throw err;
  }
}

export async function callOnce(url: string, path: string, key: string, input: unknown, timeoutMs: number, index = 0): Promise<CallResult> {
  const startedAt = Date.now();
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Simple ${key}` },
      body: JSON.stringify(input),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const kind: CallKind = e.name === 'TimeoutError' || e.name === 'AbortError' ? 'timeout' : 'connection';
    return { index, startedAt, kind, status: 0, detail: `${e.name}: ${e.cause?.code ?? e.cause?.message ?? e.message}` };
  }
  let body: any;
  const headerId = res.headers.get('x-request-id') ?? undefined;
  try {
    body = await res.json();
  } catch (err) {
    const e = err as Error;
    // Headers arrived but the body did not: a timeout here is still a hang.
    const kind: CallKind = e.name === 'TimeoutError' || e.name === 'AbortError' ? 'timeout' : 'http_error';
    return { index, startedAt, kind, status: res.status, requestId: headerId, detail: `${e.name}: ${e.message}` };
  }
  const requestId = (body?.metadata?.request_id as string | undefined) ?? headerId;
  if (res.status !== 200) return { index, startedAt, kind: 'http_error', status: res.status, requestId, body };
  return { index, startedAt, kind: body?.error ? 'algo_error' : 'ok', status: 200, requestId, body };
}

/** Counts outcomes by kind and by HTTP status, for assertion messages and the docs. */
export function tally(results: CallResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) {
    const k = r.kind === 'http_error' ? `http_${r.status}` : r.kind;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** A few calls that did not end with a result, for assertion messages. */
export function sampleFailures(results: CallResult[], n = 3): string {
  return JSON.stringify(results.filter((r) => r.kind !== 'ok').slice(0, n));
}

/** Polls `check` every `everyMs` until it is true; false once `timeoutMs` passed. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= end) return false;
    await sleep(everyMs);
  }
}

/** The promise's value, or `fallback` once `ms` passed (the timer never outlives the race). */
export async function within<T, F>(p: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<F>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
