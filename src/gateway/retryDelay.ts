// The follow loop's wait before its next attempt: exponential in the failures in a row, capped, with
// "equal jitter" (half the delay fixed, half random): never zero, so a refused gateway cannot spin, and
// spread, so gateways refused together by a restarting orderer do not come back in lock-step.

export interface RetryDelayPolicy {
  /** Delay after the first failure. */
  baseDelayMs: number;
  /** The delay grows by this factor per failure in a row... */
  factor: number;
  /** ...up to this. */
  maxDelayMs: number;
  /** The share of each delay that is random, in [0, 1]. */
  jitterRatio: number;
}

/** Delay after `failures` (>= 1) failures in a row; `random` gives [0, 1). */
export function retryDelayMs(failures: number, p: RetryDelayPolicy, random: () => number): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 64);
  const full = Math.min(p.maxDelayMs, p.baseDelayMs * p.factor ** exponent);
  const jitter = full * Math.min(Math.max(p.jitterRatio, 0), 1);
  return Math.round(full - jitter + jitter * random());
}
