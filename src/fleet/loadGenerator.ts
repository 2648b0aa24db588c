// Submits transactions at a steady rate through a BroadcastClient, with a bound on the answers awaited.
// When the orderer falls behind, what is owed is carried for a while and then skipped, so the load
// stays steady instead of arriving in bursts.
import { randomBytes } from 'node:crypto';
import type { BroadcastClient, BroadcastResult } from '../client/broadcastClient.js';
import { Status } from '../protocol/status.js';
import { LOAD_BACKLOG_MAX_MS, LOAD_DRAIN_TIMEOUT_MS, LOAD_MAX_IN_FLIGHT, LOAD_TICK_MS } from './timings.js';

export interface LoadGeneratorOptions {
  client: Pick<BroadcastClient, 'submit'>;
  txPerSec: number;
  txSizeBytes: number;
  maxInFlight?: number;
  tickMs?: number;
  /** Clock in ms (tests). */
  now?: () => number;
  /** A failed transaction (not SUCCESS), for the log. */
  onFailure?: (result: BroadcastResult) => void;
}

export interface LoadStats {
  /** Sent to the orderer. */
  submitted: number;
  /** Answered SUCCESS. */
  accepted: number;
  /** Answered with anything else, or not answered in time. */
  failed: number;
  inFlight: number;
  /** Owed but never sent because too many were in flight for too long. */
  skipped: number;
}

export class LoadGenerator {
  private readonly stats_: LoadStats = { submitted: 0, accepted: 0, failed: 0, inFlight: 0, skipped: 0 };
  private timer: ReturnType<typeof setInterval> | null = null;
  private owed = 0;
  private lastTickMs = 0;
  private seq = 0;
  private drained: (() => void) | null = null;
  private readonly now: () => number;
  private readonly maxInFlight: number;

  constructor(private readonly o: LoadGeneratorOptions) {
    if (!(o.txPerSec >= 0) || !Number.isFinite(o.txPerSec)) throw new Error(`txPerSec must be 0 or more, got ${o.txPerSec}`);
    if (!Number.isSafeInteger(o.txSizeBytes) || o.txSizeBytes < 0) throw new Error(`txSizeBytes must be a whole number, got ${o.txSizeBytes}`);
    this.now = o.now ?? Date.now;
    this.maxInFlight = o.maxInFlight ?? LOAD_MAX_IN_FLIGHT;
  }

  stats(): LoadStats {
    return { ...this.stats_ };
  }

  start(): void {
    if (this.timer !== null || this.o.txPerSec === 0) return;
    this.lastTickMs = this.now();
    this.timer = setInterval(() => this.tick(), this.o.tickMs ?? LOAD_TICK_MS);
  }

  /** Sends what is due since the last tick. Public so tests can drive it with their own clock. */
  tick(): void {
    const now = this.now();
    const elapsedMs = Math.max(0, now - this.lastTickMs);
    this.lastTickMs = now;
    this.owed += (this.o.txPerSec * elapsedMs) / 1000;
    const room = this.maxInFlight - this.stats_.inFlight;
    const count = Math.max(0, Math.min(Math.floor(this.owed), room));
    this.owed -= count;
    const backlogMax = Math.max(1, (this.o.txPerSec * LOAD_BACKLOG_MAX_MS) / 1000);
    if (this.owed > backlogMax) {
      this.stats_.skipped += Math.floor(this.owed - backlogMax);
      this.owed -= Math.floor(this.owed - backlogMax);
    }
    for (let i = 0; i < count; i++) this.send();
  }

  /** Stops sending and waits (at most `drainTimeoutMs`) for the answers still due. */
  async stop(drainTimeoutMs: number = LOAD_DRAIN_TIMEOUT_MS): Promise<LoadStats> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.stats_.inFlight > 0) {
      let timeout: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((resolve) => { this.drained = resolve; }),
        new Promise<void>((resolve) => { timeout = setTimeout(resolve, drainTimeoutMs); }),
      ]);
      clearTimeout(timeout);
      this.drained = null;
    }
    return this.stats();
  }

  private send(): void {
    const s = this.stats_;
    s.submitted++;
    s.inFlight++;
    const body = randomBytes(this.o.txSizeBytes);
    void this.o.client.submit({ seq: this.seq++, body }).then(
      (r) => this.answered(r),
      (err: unknown) => this.answered({ txId: '', status: Status.INTERNAL_SERVER_ERROR, info: String(err) }),
    );
  }

  private answered(r: BroadcastResult): void {
    const s = this.stats_;
    s.inFlight--;
    if (r.status === Status.SUCCESS) {
      s.accepted++;
    } else {
      s.failed++;
      this.o.onFailure?.(r);
    }
    if (s.inFlight === 0) this.drained?.();
  }
}
