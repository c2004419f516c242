// One context per running call, keyed by a random token minted for that call alone. The worker's
// ALGORITHMIA_API carries the token only while the call runs (the runner sets it per request), so
// a callback (an Insights report, a nested algorithm call) is attributed to exactly one call, and
// anything posted before, between or after calls, or with a stale token, is refused. A nested call
// made from inside the worker acts for the same caller, through this context.
import { randomUUID } from 'node:crypto';
import type { ReportedMetrics } from '../insights/reported-metrics';
import type { Principal } from '../platform/auth';

export interface NestedCallTiming {
  request_id: string;
  algorithm: string; // owner/name/version as called
  duration: number; // seconds, as metadata.duration
}

export interface CallContext {
  token: string;
  requestId: string;
  sessionId: string;
  /** The authenticated principal of the top-level caller: every hop is checked against it (absent for calls made by Beacon itself). */
  caller?: Principal;
  /** 0 for a call from outside; n for a call made by an algorithm n levels down. */
  depth: number;
  /** The algorithms of the call chain, outermost first, ending with this call's ("owner/name"). */
  chain: string[];
  /** When this call's own timeout runs out (epoch ms); a nested call gets at most what is left. */
  deadline: number;
  /** The running algorithm's settings.pipeline_enabled: false means it may not call others. */
  pipelineEnabled: boolean;
  /** Nested calls started by this call so far (the fan-out limit counts these). */
  started: number;
  /** Finished nested calls, reported in this call's metadata. */
  nested: NestedCallTiming[];
  metrics: ReportedMetrics;
}

export type CallContextFields = Omit<CallContext, 'token' | 'metrics' | 'started'>;

/** The narrow interface the nested-call route needs: a call token to the context of its running call. */
export interface CallResolver {
  callContext(token: string): CallContext | undefined;
}

export class CallContexts {
  private readonly open = new Map<string, CallContext>();

  start(fields: CallContextFields): CallContext {
    const ctx: CallContext = { ...fields, token: newCallToken(), started: 0, metrics: {} };
    this.open.set(ctx.token, ctx);
    return ctx;
  }

  /** The context of a call still running, or undefined for an unknown or finished one. */
  get(token: string): CallContext | undefined {
    return this.open.get(token);
  }

  end(ctx: CallContext): void {
    this.open.delete(ctx.token);
  }

  get size(): number {
    return this.open.size;
  }
}

/**
 * 32 hex characters, 122 random bits (a v4 UUID without dashes): unguessable for the life of one
 * call. randomUUID draws from a buffered pool; randomBytes per call showed in the profile (~0.04 ms).
 */
function newCallToken(): string {
  return randomUUID().replace(/-/g, '');
}
