// Discrete-event time for the gossip unit tests and the fleet simulator: every timer of every board and
// every message in flight is an event in one heap, ordered by (time, order of scheduling), and running
// the clock runs them in that order with `now()` set to each one's time. Nothing waits on the wall clock,
// so a thousand boards' minutes run as fast as their code does, and a run repeats exactly.
import type { Clock, TimerHandle } from '../../../src/config/clock.js';

interface SimEvent extends TimerHandle {
  at: number;
  order: number;
  fn: () => void | Promise<void>;
  cancelled: boolean;
}

/** A wall-clock-like origin, so timestamps and incarnations look like the real ones. */
export const SIM_EPOCH_MS = 1_700_000_000_000;

export class VirtualClock implements Clock {
  private t: number;
  private order = 0;
  private readonly heap: SimEvent[] = [];
  private ran = 0;

  constructor(startMs = SIM_EPOCH_MS) {
    this.t = startMs;
  }

  /** Whole milliseconds, as Date.now(): timestamps on the wire are integers. */
  now(): number {
    return Math.floor(this.t);
  }

  /** The exact time of the event running (links have fractional delays): for measuring latencies. */
  exactNow(): number {
    return this.t;
  }

  /** Events run since construction. */
  get eventsRun(): number {
    return this.ran;
  }

  /** Events waiting (cancelled ones included until they come up). */
  get pending(): number {
    return this.heap.length;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.schedule(this.t + Math.max(0, ms), fn);
  }

  clearTimeout(handle: TimerHandle): void {
    (handle as SimEvent).cancelled = true;
  }

  /**
   * Runs `fn` at `atMs` (not before now). A returned promise is awaited by run() before the next event,
   * with the clock stopped: a board's start or stop, whose awaits resolve at once here, takes no time.
   */
  schedule(atMs: number, fn: () => void | Promise<void>): TimerHandle {
    const e: SimEvent = { at: Math.max(atMs, this.t), order: this.order++, fn, cancelled: false };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(e, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = e;
    return e;
  }

  /** Runs every event due up to `untilMs` (then now = untilMs), or until `stop()` holds after an event. */
  async run(untilMs: number, stop?: () => boolean): Promise<boolean> {
    for (;;) {
      const e = this.heap[0];
      if (e === undefined || e.at > untilMs) break;
      this.pop();
      if (e.cancelled) continue;
      this.t = e.at;
      this.ran++;
      const r = e.fn();
      if (r !== undefined) await r;
      if (stop?.() === true) return true;
    }
    this.t = Math.max(this.t, untilMs);
    return stop?.() === true;
  }

  /** Runs for `ms` of virtual time from now. */
  runFor(ms: number): Promise<boolean> {
    return this.run(this.t + ms);
  }

  /** Runs until `done()` holds (checked after every event) or `withinMs` pass; true when it held. */
  runUntil(done: () => boolean, withinMs: number): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return this.run(this.t + withinMs, done);
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && before(h[r]!, h[l]!) ? r : l;
      if (!before(h[c]!, last)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order);
}
