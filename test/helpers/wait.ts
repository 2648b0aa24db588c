// The test suite's waits, one way each, all with the same argument order (subject, what, timeoutMs):
// - withTimeout: an event the test awaits (a promise), failing with `what` after a deadline;
// - pollUntil: a condition no event announces, re-checked every POLL_INTERVAL_MS until a deadline.
// Deadlines are derived from the limits in use where a test knows them; a wait never passes by sleeping.
/** A wait gives up after this long unless the test passes a deadline derived from its own limits. */
export const WAIT_TIMEOUT_MS = 20_000;

/** `promise`, or a failure naming `what` after `timeoutMs` (for events a test awaits in its own process). */
export async function withTimeout<T>(promise: Promise<T>, what: string, timeoutMs = WAIT_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms awaiting ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** How often pollUntil re-checks its condition. */
export const POLL_INTERVAL_MS = 50;

/**
 * Re-checks `check` every POLL_INTERVAL_MS until it returns a value other than null, and returns that;
 * fails after `timeoutMs` naming `what` (and `explain()`, e.g. the processes' recent output). For a
 * condition no event announces (several processes' status lines, a log, a metric, a state read by polling).
 */
export async function pollUntil<T>(check: () => T | null | Promise<T | null>, what: string, timeoutMs: number, explain?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms awaiting ${what}${explain === undefined ? '' : `\n${explain()}`}`);
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  }
}
