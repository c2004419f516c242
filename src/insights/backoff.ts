// Exponential back-off with "equal jitter": the delay is at least half the exponential step, so
// retries never bunch up at zero, and the random half spreads several Beacon instances apart.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  random?: () => number; // injectable for tests
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 30_000 };

export class Backoff {
  private failures = 0;

  constructor(private readonly opts: BackoffOptions = DEFAULT_BACKOFF) {}

  /** Delay before the next attempt after one more failure: ~200 ms, 400, 800, ... up to 30 s. */
  next(): number {
    this.failures += 1;
    const step = Math.min(this.opts.maxMs, this.opts.initialMs * 2 ** Math.min(this.failures - 1, 30));
    const random = this.opts.random ?? Math.random;
    return Math.round(step / 2 + random() * (step / 2));
  }

  reset(): void {
    this.failures = 0;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }
}
