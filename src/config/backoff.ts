// The one retry policy of every reconnecting part (the deliver client, serial ports, MQTT links, gossip
// connections): exponential backoff with decorrelated jitter (each wait drawn uniformly between the base
// and three times the previous wait, capped). Jitter matters at fleet scale: with a fixed sequence every
// board that lost the orderer at the same moment (an orderer restart) comes back at the same moments,
// in lock-step, and the orderer takes all of them at once, each time. A wait is never below the base, so a
// part that is refused at once cannot spin. Randomness is injected (src/config/random.ts), so tests and
// fleet runs repeat from a seed.

export interface BackoffPolicy {
  /** The shortest wait, and the first wait's lower bound. */
  baseDelayMs: number;
  /** No wait is longer (a cap below the base is taken as the base: every wait is then the base). */
  maxDelayMs: number;
}

/** How far each wait may grow past the previous one (AWS's "decorrelated jitter" uses 3). */
const GROWTH_FACTOR = 3;

export class Backoff {
  private previousMs: number;
  private count = 0;
  private readonly policy: BackoffPolicy;

  /** `random` gives [0, 1): Math.random on boards, a seeded generator in tests. */
  constructor(policy: BackoffPolicy, private readonly random: () => number = Math.random) {
    if (!(policy.baseDelayMs >= 0)) throw new RangeError(`backoff: baseDelayMs must be 0 or more (got ${policy.baseDelayMs})`);
    // An operator's cap below the base (--max-retry-delay-ms 50 with a 100 ms base) means "retry often":
    // the base, every time, rather than a refusal to start.
    this.policy = { baseDelayMs: policy.baseDelayMs, maxDelayMs: Math.max(policy.baseDelayMs, policy.maxDelayMs) };
    this.previousMs = policy.baseDelayMs;
  }

  /** Waits handed out since the last reset. */
  get attempts(): number {
    return this.count;
  }

  /** The next wait, in ms: uniform in [base, min(max, 3 × previous)], whole milliseconds. */
  next(): number {
    const { baseDelayMs: base, maxDelayMs: max } = this.policy;
    const ceiling = Math.min(max, this.previousMs * GROWTH_FACTOR);
    const wait = Math.min(max, Math.floor(base + this.random() * (Math.max(ceiling, base) - base)));
    this.previousMs = Math.max(wait, base);
    this.count += 1;
    return wait;
  }

  /** After a success: the next wait starts from the base again. */
  reset(): void {
    this.previousMs = this.policy.baseDelayMs;
    this.count = 0;
  }
}
