// Runs one `/v1/algo` call: finds the algorithm, resolves the version, asks the worker pool, and for
// Insights-enabled versions hands one record to the sink before the caller gets an answer.
//
// Resolution is cached for `resolutionCacheMs` (1 s by default): a publish or delete becomes visible
// within that time. A cached answer that would refuse the call (404/403) is re-checked against the
// database first, so a new algorithm, version or build is callable as soon as it exists. Builds are
// immutable, so their files are cached without expiry (bounded by count).
import type { InsightsRecord, InsightsSink } from '../insights/insights-sink';
import { aclAllows, type Principal } from '../platform/auth';
import { ApiError, ErrorCode, badRequest, forbidden, tooManyRequests } from '../platform/errors';
import { newSessionId, UUID_PATTERN } from '../platform/ids';
import type { Logger } from '../platform/logger';
import type { CallContext, NestedCallTiming } from './call-context';
import type { ExecutionInput } from './execution-input';
import type { ExecutionError } from './error-log-store';
import type { AlgorithmSnapshot, BuildFiles, ExecutionStore } from './execution-store';
import { normaliseLanguage } from '../platform/language-catalogue';
import { parseVersionSpec, resolveVersion, VERSION_FORMS, type ResolvedVersion } from './version-resolver';
import type { CallOutcome, WorkerPool } from './worker-pool';

export type AlgorithmRef = { owner: string; name: string; version?: string } | { algorithmId: string; version?: string };

export interface ExecutionTarget {
  algorithmId: string;
  owner: string;
  name: string;
  language: string;
  isOwner: boolean;
  networkAccess: 'isolated' | 'full';
  /** settings.pipeline_enabled of the algorithm: may its code call other algorithms? */
  pipelineEnabled: boolean;
  version: ResolvedVersion;
}

export interface RunOptions {
  timeoutMs: number;
  requestId: string;
  /** The authenticated principal of the top-level caller: nested calls made by the algorithm act for it. */
  caller: Principal;
  /** Set for a nested call: the call whose algorithm made it. */
  parent?: CallContext;
}

/** A call's outcome plus the nested calls its algorithm made (metadata.nested_calls). */
export type RunOutcome = CallOutcome & { nested: NestedCallTiming[] };

export type ExecutionOutcomeLabel = 'success' | 'error' | 'timeout';

export interface ExecutionServiceDeps {
  store: Pick<ExecutionStore, 'findAlgorithm' | 'findAlgorithmById' | 'findBuildByHash' | 'findBuildFiles'>;
  pool: Pick<WorkerPool, 'call'>;
  sink: InsightsSink;
  logger: Pick<Logger, 'warn' | 'error'>;
  counters: {
    executions: { inc(labels: { algorithm: string; outcome: ExecutionOutcomeLabel }): void };
    insightsLost: { inc(): void };
  };
  resolutionCacheMs?: number;
  /** output=void runs held at once, per caller and in all; beyond them a 429. */
  backgroundLimits?: { perCaller: number; total: number };
  /** Where failed executions are kept for the errors endpoints (absent in unit tests that don't care). */
  errors?: { record(e: ExecutionError): Promise<void> };
}

const MAX_CACHED_BUILDS = 256;
const MAX_CACHED_SNAPSHOTS = 10_000;

interface Cached {
  value: Promise<AlgorithmSnapshot | undefined>;
  expires: number;
}

const label = (ref: AlgorithmRef): string => {
  const base = 'algorithmId' in ref ? ref.algorithmId : `${ref.owner}/${ref.name}`;
  return `algo://${base}${ref.version ? `/${ref.version}` : ''}`;
};

export function outcomeLabel(o: CallOutcome): ExecutionOutcomeLabel {
  if (o.kind === 'result') return 'success';
  if (o.kind !== 'error') return 'error';
  return o.error.error_type === 'TimeoutError' ? 'timeout' : 'error';
}

export class ExecutionService {
  private readonly snapshots = new Map<string, Cached>();
  private readonly builds = new Map<string, Promise<BuildFiles | undefined>>();
  private readonly background = new Set<Promise<void>>();
  private readonly backgroundBy = new Map<string, number>();
  private readonly cacheMs: number;

  constructor(private readonly deps: ExecutionServiceDeps) {
    this.cacheMs = deps.resolutionCacheMs ?? 1000;
  }

  /** Who may call what, and which build runs; throws 400/403/404 ApiErrors. */
  async resolve(principal: Principal, ref: AlgorithmRef): Promise<ExecutionTarget> {
    const spec = parseVersionSpec(ref.version);
    if (!spec) throw badRequest(`Invalid version '${ref.version}' in ${label(ref)}; use ${VERSION_FORMS}.`, ErrorCode.InvalidRequest);
    if ('owner' in ref && !aclAllows(principal, ref.owner, ref.name)) throw aclRefused(ref);

    const first = await this.snapshot(ref, false);
    let algo = first.algo;
    if (!algo) throw new ApiError(404, ErrorCode.AlgorithmNotFound, `algorithm ${label(ref)} not found`);
    if (!aclAllows(principal, algo.owner, algo.name)) throw aclRefused(ref);
    const isOwner = principal.userId === algo.ownerId;
    const build = spec.kind === 'hash' && isOwner ? await this.deps.store.findBuildByHash(algo.id, spec.hash) : undefined;
    let r = resolveVersion(spec, algo.versions, isOwner, build);
    if (!r.ok && first.cached) {
      // The cached snapshot may predate a publish: refusals are always checked against the database.
      algo = (await this.snapshot(ref, true)).algo ?? algo;
      r = resolveVersion(spec, algo.versions, isOwner, build);
    }
    if (!r.ok) {
      if (r.status === 403) throw forbidden(`Not allowed to call ${label(ref)}: ${r.reason}.`);
      throw new ApiError(404, ErrorCode.VersionDoesNotExist, `algorithm ${label(ref)} not found: ${r.reason}`);
    }
    return {
      algorithmId: algo.id, owner: algo.owner, name: algo.name, language: algo.language, isOwner,
      networkAccess: algo.networkAccess, pipelineEnabled: algo.pipelineEnabled !== false, version: r.version,
    };
  }

  /** Runs the call; for an Insights-enabled version the record is durable (or counted lost) on return. */
  async run(target: ExecutionTarget, input: ExecutionInput, opts: RunOptions): Promise<RunOutcome> {
    const files = await this.buildFiles(target.version.buildId);
    const language = normaliseLanguage(files.language) ?? normaliseLanguage(target.language);
    if (!language) throw new Error(`build ${target.version.buildId} has unknown language '${files.language}'`);
    const time = new Date();
    const nested: NestedCallTiming[] = [];
    // Workers are shared per build and network setting: a changed network_access gets new workers.
    const outcome = await this.deps.pool.call(
      { key: `${target.version.buildId}:${target.networkAccess}`, language, algoName: target.name, files: files.files, network: target.networkAccess },
      {
        contentType: input.contentType, data: input.data, timeoutMs: opts.timeoutMs, requestId: opts.requestId, caller: opts.caller,
        depth: opts.parent ? opts.parent.depth + 1 : 0, chain: [...(opts.parent?.chain ?? []), `${target.owner}/${target.name}`],
        pipelineEnabled: target.pipelineEnabled, nested,
      },
    );
    // Refused before any work (bad input, full queue): not an execution, nothing to record.
    if (outcome.kind === 'input-error' || outcome.kind === 'busy') return { ...outcome, nested };
    this.deps.counters.executions.inc({ algorithm: `${target.owner}/${target.name}`, outcome: outcomeLabel(outcome) });
    if (target.version.insightsEnabled) await this.record(target, outcome, time, opts.requestId, opts.parent?.requestId);
    if (outcome.kind === 'error') await this.logError(target, outcome, opts);
    return { ...outcome, nested };
  }

  /**
   * output=void: the caller gets its answer at once; the run (and its Insights record) continues
   * here. Held runs are bounded per caller and in all (each holds its input in memory): beyond the
   * bound this throws a 429 before anything starts.
   */
  runInBackground(target: ExecutionTarget, input: ExecutionInput, opts: RunOptions): void {
    const limits = this.deps.backgroundLimits ?? { perCaller: 16, total: 64 };
    const caller = opts.caller.userId; // background runs are bounded per user
    const mine = this.backgroundBy.get(caller) ?? 0;
    if (mine >= limits.perCaller) {
      throw tooManyRequests(`This caller already has ${mine} background (output=void) runs in progress, the limit; retry once some finish.`, 1);
    }
    if (this.background.size >= limits.total) {
      throw tooManyRequests(`The service already holds ${this.background.size} background (output=void) runs, the limit; retry later.`, 1);
    }
    this.backgroundBy.set(caller, mine + 1);
    const p: Promise<void> = this.run(target, input, opts)
      .then((o) => {
        if (o.kind === 'input-error' || o.kind === 'busy') this.deps.logger.warn({ requestId: opts.requestId, reason: o.message }, 'background execution refused');
      })
      .catch((err: unknown) => this.deps.logger.error({ err, requestId: opts.requestId }, 'background execution failed'))
      .finally(() => {
        this.background.delete(p);
        const left = (this.backgroundBy.get(caller) ?? 1) - 1;
        if (left <= 0) this.backgroundBy.delete(caller);
        else this.backgroundBy.set(caller, left);
      });
    this.background.add(p);
  }

  backgroundCount(): number {
    return this.background.size;
  }

  /** Resolves once every background run has finished. */
  async drain(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  // The caller has a result either way: a payload the sink cannot take is logged and counted, not
  // turned into a failed call (the algorithm did run; failing it would invite a retry that runs it twice).
  private async record(target: ExecutionTarget, outcome: CallOutcome, time: Date, requestId: string, parentRequestId?: string): Promise<void> {
    const record: InsightsRecord = {
      requestId,
      // A call that timed out while queued never had a worker: it gets a session of its own.
      sessionId: outcome.sessionId || newSessionId(),
      time,
      durationMs: outcome.durationMs,
      owner: target.owner,
      name: target.name,
      version: target.version.semanticVersion ?? target.version.commitSha,
      metrics: outcome.metrics,
      ...(parentRequestId === undefined ? {} : { extra: { parent_request_id: parentRequestId } }),
    };
    try {
      await this.deps.sink.accept(record);
    } catch (err) {
      this.deps.counters.insightsLost.inc();
      this.deps.logger.warn({ err, requestId }, 'insights record could not be stored; the payload of this execution is lost');
    }
  }

  // Best effort: the caller gets the algorithm's error whether or not it could be kept.
  private async logError(target: ExecutionTarget, outcome: Extract<CallOutcome, { kind: 'error' }>, opts: RunOptions): Promise<void> {
    if (!this.deps.errors) return;
    try {
      await this.deps.errors.record({
        algorithmId: target.algorithmId, requestId: opts.requestId, version: target.version.semanticVersion ?? target.version.commitSha,
        caller: opts.caller?.username ?? '', errorType: outcome.error.error_type, message: outcome.error.message,
        stacktrace: outcome.error.stacktrace, sessionId: outcome.sessionId,
      });
    } catch (err) {
      this.deps.logger.warn({ err, requestId: opts.requestId }, 'the execution error could not be logged');
    }
  }

  private async snapshot(ref: AlgorithmRef, fresh: boolean): Promise<{ algo: AlgorithmSnapshot | undefined; cached: boolean }> {
    if ('algorithmId' in ref && !UUID_PATTERN.test(ref.algorithmId)) return { algo: undefined, cached: false };
    const key = 'algorithmId' in ref ? `id:${ref.algorithmId.toLowerCase()}` : `name:${ref.owner.toLowerCase()}/${ref.name.toLowerCase()}`;
    const now = Date.now();
    const hit = this.snapshots.get(key);
    if (hit && !fresh && hit.expires > now) return { algo: await hit.value, cached: true };
    const value = 'algorithmId' in ref ? this.deps.store.findAlgorithmById(ref.algorithmId) : this.deps.store.findAlgorithm(ref.owner, ref.name);
    if (this.cacheMs <= 0) return { algo: await value, cached: false };
    if (this.snapshots.size >= MAX_CACHED_SNAPSHOTS) this.snapshots.clear();
    const entry: Cached = { value, expires: now + this.cacheMs };
    this.snapshots.set(key, entry);
    // Failures and unknown algorithms are not remembered.
    value.then(
      (v) => v === undefined && this.snapshots.get(key) === entry && this.snapshots.delete(key),
      () => this.snapshots.get(key) === entry && this.snapshots.delete(key),
    );
    return { algo: await value, cached: false };
  }

  private async buildFiles(buildId: string): Promise<BuildFiles> {
    let p = this.builds.get(buildId);
    if (!p) {
      p = this.deps.store.findBuildFiles(buildId);
      if (this.builds.size >= MAX_CACHED_BUILDS) this.builds.delete(this.builds.keys().next().value as string);
      this.builds.set(buildId, p);
      p.then(
        (v) => v === undefined && this.builds.delete(buildId),
        () => this.builds.delete(buildId),
      );
    }
    const files = await p;
    if (!files) throw new ApiError(404, ErrorCode.AlgorithmBuildNotFound, `build ${buildId} no longer exists`);
    return files;
  }
}

function aclRefused(ref: AlgorithmRef): ApiError {
  return forbidden(`This API key may not call ${label({ ...ref, version: undefined })} (algo_acl).`);
}
