// Warnings about what other boards send, at most one per key per interval: a forger that sends a
// thousand bad messages a second makes one line every interval, not a thousand.
import type { Clock } from '../config/clock.js';
import type { Logger } from '../observability/logger.js';

export class RateLimitedLog {
  private readonly lastAt = new Map<string, number>();

  constructor(private readonly log: Logger, private readonly clock: Clock, private readonly intervalMs: number, private readonly keysMax: number) {}

  /** Keys tracked now (for tests). */
  get size(): number {
    return this.lastAt.size;
  }

  warn(key: string, fields: Record<string, unknown>, msg: string): void {
    const now = this.clock.now();
    const last = this.lastAt.get(key);
    if (last !== undefined && now - last < this.intervalMs) return;
    // Keys carry what a sender chose (block numbers, error text): a forger must not grow the map forever.
    if (this.lastAt.size >= this.keysMax) {
      for (const [k, at] of this.lastAt) if (now - at >= this.intervalMs) this.lastAt.delete(k);
      if (this.lastAt.size >= this.keysMax) this.lastAt.clear();
    }
    this.lastAt.set(key, now);
    this.log.warn(fields, msg);
  }
}
