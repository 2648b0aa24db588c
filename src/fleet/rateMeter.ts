// A rate over a sliding window, from samples of a growing total (transactions accepted, blocks cut).
import { RATE_WINDOW_MS } from './timings.js';

interface Sample {
  atMs: number;
  total: number;
}

export class RateMeter {
  private readonly samples: Sample[] = [];

  constructor(private readonly windowMs: number = RATE_WINDOW_MS) {}

  /** Records the total as of `atMs`; samples older than the window (but the one that spans it) are dropped. */
  sample(total: number, atMs: number): void {
    this.samples.push({ atMs, total });
    while (this.samples.length > 2 && this.samples[1]!.atMs <= atMs - this.windowMs) this.samples.shift();
  }

  /** Per second, over the samples in the window; 0 until two samples are apart in time. */
  perSecond(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.atMs <= first.atMs) return 0;
    return ((last.total - first.total) * 1000) / (last.atMs - first.atMs);
  }
}
