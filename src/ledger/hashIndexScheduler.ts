// When the hash index is caught up in the background: only after the ledger has been quiet (no append)
// for `idleMs`, then one slice per macrotask so other work runs between slices, and back to waiting as
// soon as an append comes. Appends are the hot path, so noting one costs a boolean store while a quiet
// period is being timed, and the timers are re-armed with refresh(), never re-created. Both timers are
// unref'd: a pending catch-up must not keep a process alive (numberOfHash catches up on demand anyway).
// Not setImmediate: an unref'd immediate waits until something else wakes the event loop.
//
//   idle ──append──> waiting ──quiet for idleMs──> indexing ──caught up──> idle
//                      ^  └─append during the wait: wait again┘   │
//                      └──────────────append between slices───────┘
//   any ──stop()──> stopped (also after a slice fails)

export type HashIndexSchedulerState = 'idle' | 'waiting' | 'indexing' | 'stopped';

export interface HashIndexSchedulerOptions {
  idleMs: number;
  /** Indexes one slice in one transaction; returns true while blocks remain unindexed. */
  runSlice(): boolean;
  /** A slice threw: the scheduler has stopped (the on-demand catch-up will report the same error). */
  failed(err: Error): void;
}

export class HashIndexScheduler {
  private stateValue: HashIndexSchedulerState = 'idle';
  private appendedWhileWaiting = false;
  private timer: NodeJS.Timeout | null = null;
  private sliceTimer: NodeJS.Timeout | null = null;
  private slicePending = false;
  private readonly onTimerBound = (): void => this.onTimer();
  private readonly stepBound = (): void => this.step();

  constructor(private readonly opts: HashIndexSchedulerOptions) {}

  get state(): HashIndexSchedulerState {
    return this.stateValue;
  }

  /** Something was appended (or the index is known to lag): index once the ledger has been quiet. */
  noteAppend(): void {
    switch (this.stateValue) {
      case 'stopped':
        return;
      case 'waiting':
        this.appendedWhileWaiting = true;
        return;
      case 'indexing':
        this.cancelSlice();
        this.arm();
        return;
      case 'idle':
        this.arm();
        return;
    }
  }

  stop(): void {
    this.stateValue = 'stopped';
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.cancelSlice();
  }

  private cancelSlice(): void {
    if (!this.slicePending) return;
    // A cleared timer cannot be refreshed: the next slice makes a new one (rare: an append came mid-catch-up).
    clearTimeout(this.sliceTimer!);
    this.sliceTimer = null;
    this.slicePending = false;
  }

  private arm(): void {
    this.stateValue = 'waiting';
    this.appendedWhileWaiting = false;
    if (this.timer === null) {
      this.timer = setTimeout(this.onTimerBound, this.opts.idleMs);
      this.timer.unref();
    } else {
      this.timer.refresh();
    }
  }

  private onTimer(): void {
    if (this.stateValue !== 'waiting') return;
    if (this.appendedWhileWaiting) {
      // The last append came at most idleMs ago: wait a full period from now, which covers it.
      this.appendedWhileWaiting = false;
      this.timer!.refresh();
      return;
    }
    this.stateValue = 'indexing';
    this.step();
  }

  private step(): void {
    this.slicePending = false;
    if (this.stateValue !== 'indexing') return;
    let more: boolean;
    try {
      more = this.opts.runSlice();
    } catch (err) {
      this.stop();
      this.opts.failed(err as Error);
      return;
    }
    // The slice's progress hook may have appended or stopped: then that decided what comes next.
    if (this.stateValue !== 'indexing') return;
    if (!more) {
      this.stateValue = 'idle';
      return;
    }
    this.slicePending = true;
    if (this.sliceTimer === null) {
      this.sliceTimer = setTimeout(this.stepBound, 0);
      this.sliceTimer.unref();
    } else {
      this.sliceTimer.refresh();
    }
  }
}
