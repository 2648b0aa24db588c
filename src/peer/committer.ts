// The in-order commit loop (Fabric's deliverPayloads): drains contiguous runs from the payload buffer
// into the ledger, one LMDB transaction per run, block and height together. The commit and its fsync
// run on LMDB's writer thread (BlockLedger.appendAsync), so while one run is made durable this thread
// goes on receiving and verifying the next ones; the run is released from the payload buffer only once
// durable. One run in flight at a time: the next one is staged when the previous one has committed,
// and holds every block that became ready meanwhile (up to maxRunBlocks), so a slow disk makes runs
// longer rather than commits more.
//
//   idle ──ready blocks──> committing ──committed──> idle (and at once the next run, if any)
//                                     ──refused───> failed (for good: a channel never skips a block)
import type { BlockLedger } from '../ledger/ledger.js';
import type { PayloadBuffer } from './payloadBuffer.js';

export interface CommitterEvents {
  /** After each committed run: the new height and how many blocks the run held. */
  committed(height: number, blocks: number): void;
  /** The ledger refused a verified run: the channel stops committing (it must never skip a block). */
  failed(err: Error): void;
}

export type CommitterState = 'idle' | 'committing' | 'failed';

const EMPTY = new Uint8Array(0);

export class Committer {
  private readonly stagedBlocks: Uint8Array[];
  private readonly stagedHashes: Uint8Array[];
  private stateValue: CommitterState = 'idle';
  private stagedCount = 0;
  private scheduled = false;
  private failedWith: Error | null = null;
  /** Resolvers of flush() calls, settled when nothing is ready and nothing in flight. */
  private flushWaiters: (() => void)[] = [];
  private readonly drainBound = (): void => {
    this.scheduled = false;
    this.drain();
  };
  private readonly onCommittedBound = (): void => this.onCommitted();
  private readonly onFailedBound = (err: unknown): void => this.fail(err instanceof Error ? err : new Error(String(err)));

  constructor(
    private readonly ledger: BlockLedger,
    private readonly buffer: PayloadBuffer,
    private readonly maxRunBlocks: number,
    private readonly events: CommitterEvents,
  ) {
    this.stagedBlocks = new Array<Uint8Array>(maxRunBlocks).fill(EMPTY);
    this.stagedHashes = new Array<Uint8Array>(maxRunBlocks).fill(EMPTY);
  }

  get state(): CommitterState {
    return this.stateValue;
  }

  get failure(): Error | null {
    return this.failedWith;
  }

  /** Asks for a drain on the next turn of the event loop (cheap to call once per arriving batch). */
  schedule(): void {
    if (this.scheduled || this.stateValue !== 'idle') return;
    this.scheduled = true;
    setImmediate(this.drainBound);
  }

  /** Starts committing the contiguous ready blocks, unless a run is in flight (it takes them next). */
  drain(): void {
    if (this.stateValue !== 'idle') return;
    const n = this.buffer.readyCount(this.maxRunBlocks);
    if (n === 0) {
      this.settleFlushes();
      return;
    }
    this.buffer.stage(n, this.stagedBlocks, this.stagedHashes);
    this.stagedCount = n;
    this.stateValue = 'committing';
    let committed: Promise<void>;
    try {
      committed = this.ledger.appendAsync(this.stagedBlocks, this.stagedHashes, 0, n);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    committed.then(this.onCommittedBound, this.onFailedBound);
  }

  /** Resolves once every block ready now (and any that becomes ready meanwhile) is committed, or commits failed. */
  flush(): Promise<void> {
    if (this.stateValue === 'failed') return Promise.resolve();
    const done = new Promise<void>((resolve) => this.flushWaiters.push(resolve));
    this.drain();
    return done;
  }

  private onCommitted(): void {
    const n = this.stagedCount;
    this.buffer.release(n);
    for (let i = 0; i < n; i++) this.stagedBlocks[i] = EMPTY;
    this.stagedCount = 0;
    this.stateValue = 'idle';
    this.events.committed(this.ledger.height(), n);
    // Blocks that became ready during the commit go at once, as one run.
    this.drain();
  }

  private fail(err: Error): void {
    for (let i = 0; i < this.stagedCount; i++) this.stagedBlocks[i] = EMPTY;
    this.stagedCount = 0;
    this.stateValue = 'failed';
    this.failedWith = err;
    this.events.failed(err);
    this.settleFlushes();
  }

  private settleFlushes(): void {
    if (this.flushWaiters.length === 0) return;
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
