// Algorithms calling algorithms. A nested call runs for the original caller (its principal decides
// what may be called at every hop), inside what is left of the calling call's timeout, and stops
// at the depth and fan-out limits with an error that names the chain.
import type { Principal } from '../platform/auth';
import { ApiError, ErrorCode } from '../platform/errors';
import type { CallContext } from './call-context';
import type { ExecutionInput } from './execution-input';
import type { AlgorithmRef, ExecutionService, ExecutionTarget, RunOutcome } from './execution-service';

export interface NestedCallLimits {
  maxDepth: number;
  maxFanout: number;
}

const refLabel = (ref: AlgorithmRef): string =>
  ('algorithmId' in ref ? ref.algorithmId : `${ref.owner}/${ref.name}`) + (ref.version ? `/${ref.version}` : '');

function callerOf(parent: CallContext): Principal {
  if (!parent.caller) throw new ApiError(403, ErrorCode.NotAuthorized, 'this call has no caller to act for: it may not call other algorithms');
  return parent.caller;
}

export class NestedCallService {
  constructor(
    private readonly execution: Pick<ExecutionService, 'resolve' | 'run' | 'runInBackground'>,
    private readonly limits: NestedCallLimits,
  ) {}

  /** Checks the limits and the caller's rights; the target and the time the call may take. */
  async prepare(parent: CallContext, ref: AlgorithmRef, requestedMs: number): Promise<{ target: ExecutionTarget; timeoutMs: number }> {
    const chain = [...parent.chain, refLabel(ref)].join(' -> ');
    if (!parent.pipelineEnabled) {
      throw new ApiError(403, ErrorCode.NotAuthorized, `${parent.chain[parent.chain.length - 1]} may not call other algorithms (its settings.pipeline_enabled is false): ${chain}`);
    }
    if (parent.depth + 1 > this.limits.maxDepth) {
      throw new ApiError(400, ErrorCode.InvalidRequest, `nested call depth limit (${this.limits.maxDepth}) reached: ${chain}`);
    }
    parent.started += 1;
    if (parent.started > this.limits.maxFanout) {
      throw new ApiError(429, ErrorCode.InvalidRequest, `nested call limit (${this.limits.maxFanout} calls per call) reached by ${parent.chain.join(' -> ')}`);
    }
    const left = parent.deadline - Date.now();
    if (left <= 0) throw new ApiError(400, ErrorCode.InvalidRequest, `the calling algorithm's time is up; no nested call to ${chain}`);
    // The original caller's principal: an algorithm cannot call what its caller could not.
    const target = await this.execution.resolve(callerOf(parent), ref);
    return { target, timeoutMs: Math.min(requestedMs, left) };
  }

  async run(parent: CallContext, target: ExecutionTarget, input: ExecutionInput, timeoutMs: number, requestId: string): Promise<RunOutcome> {
    const outcome = await this.execution.run(target, input, { timeoutMs, requestId, caller: callerOf(parent), parent });
    parent.nested.push({
      request_id: requestId,
      algorithm: `${target.owner}/${target.name}/${target.version.semanticVersion ?? target.version.commitSha}`,
      duration: Number((outcome.durationMs / 1000).toFixed(6)),
    });
    return outcome;
  }

  runInBackground(parent: CallContext, target: ExecutionTarget, input: ExecutionInput, timeoutMs: number, requestId: string): void {
    this.execution.runInBackground(target, input, { timeoutMs, requestId, caller: callerOf(parent), parent });
  }
}
