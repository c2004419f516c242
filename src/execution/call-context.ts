// One context per running call, keyed by a random token minted for that call alone. The worker's
// ALGORITHMIA_API carries the token only while the call runs (the runner sets it per request), so
// a callback (an Insights report today, a nested algorithm call later) is attributed to exactly
// one call, and anything posted before, between or after calls, or with a stale token, is refused.
import { randomBytes } from 'node:crypto';
import type { ReportedMetrics } from '../insights/reported-metrics';
import type { Principal } from '../platform/auth';

export interface CallContext {
  token: string;
  requestId: string;
  sessionId: string;
  /** The authenticated principal of the top-level caller (absent for calls made by Beacon itself). */
  caller?: Principal;
  /** 0 for a call from outside; n for a call made by an algorithm n levels down. */
  depth: number;
  /** The algorithms of the call chain, outermost first, ending with this call's ("owner/name"). */
  chain: string[];
  metrics: ReportedMetrics;
}

export class CallContexts {
  private readonly open = new Map<string, CallContext>();

  start(fields: Omit<CallContext, 'token' | 'metrics'>): CallContext {
    const ctx: CallContext = { ...fields, token: randomBytes(24).toString('base64url'), metrics: {} };
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
