// Warnings at most one per key per interval, saying how many were not logged in between: a forger that
// sends a thousand bad messages a second, a GPIO tool that fails on every LED write, or a network that
// refuses every multicast send makes one line per interval, not a thousand. The one class for it (gossip,
// multicast discovery, the LED driver).
import type { Clock } from '../config/clock.js';
import type { Logger } from './logger.js';

/** Keys a log tracks at most unless told otherwise: enough for the few fixed kinds of trouble a part has. */
const DEFAULT_KEYS_MAX = 64;

export class RateLimitedLog {
  private readonly last = new Map<string, { atMs: number; suppressed: number }>();

  /** `keysMax` bounds the key table: keys may carry sender-chosen text (block numbers, error text). */
  constructor(
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly keysMax: number = DEFAULT_KEYS_MAX,
  ) {}

  /** Keys tracked now (for tests). */
  get size(): number {
    return this.last.size;
  }

  /** Logs `msg` unless `key` was logged within the interval; the next line says how many were held back (`notLoggedSince`). */
  warn(key: string, fields: Record<string, unknown>, msg: string): void {
    const now = this.clock.now();
    const l = this.last.get(key);
    if (l !== undefined && now - l.atMs < this.intervalMs) {
      l.suppressed++;
      return;
    }
    // A forger must not grow the table forever: forget keys whose interval is over, then everything.
    if (l === undefined && this.last.size >= this.keysMax) {
      for (const [k, v] of this.last) if (now - v.atMs >= this.intervalMs) this.last.delete(k);
      if (this.last.size >= this.keysMax) this.last.clear();
    }
    this.last.set(key, { atMs: now, suppressed: 0 });
    this.log.warn(l !== undefined && l.suppressed > 0 ? { ...fields, notLoggedSince: l.suppressed } : fields, msg);
  }
}
