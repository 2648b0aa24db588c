/** Fabric's deliver-client backoff: min(maxDelayMs, 2^attempt * baseDelayMs). */
export function backoffDelayMs(attempt: number, baseDelayMs: number, maxDelayMs: number): number {
  return Math.min(maxDelayMs, 2 ** Math.min(attempt, 30) * baseDelayMs);
}
