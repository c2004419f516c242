// What a running call knows about itself, so that a nested call made from inside its worker can
// act for the same caller. The worker holds only a token; the token resolves to this context while
// the call runs and to nothing before or after it.
import type { Principal } from '../platform/auth';

export interface NestedCallTiming {
  request_id: string;
  algorithm: string; // owner/name/version as called
  duration: number; // seconds, as metadata.duration
}

export interface CallContext {
  requestId: string;
  /** The principal of the original (top-level) caller: every hop is checked against it. */
  caller: Principal;
  /** 0 for a call from outside, 1 for a call made by that call's algorithm, and so on. */
  depth: number;
  /** owner/name of every hop so far, outermost first, this call's algorithm last. */
  chain: string[];
  /** When this call's own timeout runs out (epoch ms); a nested call gets at most what is left. */
  deadline: number;
  /** The running algorithm's settings.pipeline_enabled: false means it may not call others. */
  pipelineEnabled: boolean;
  /** Nested calls started by this call so far (the fan-out limit counts these). */
  started: number;
  /** Finished nested calls, reported in this call's metadata. */
  nested: NestedCallTiming[];
}

/** The narrow interface the nested-call route needs: a worker's token to the context of its running call. */
export interface CallResolver {
  resolveCall(token: string): CallContext | undefined;
}
