// The in-order commit loop (Fabric's deliverPayloads): drains contiguous runs from the payload buffer
// into the ledger, one LMDB transaction per run, block and height together. Runs at most once per
// event-loop turn however many blocks arrived in it.
import type { BlockLedger } from '../ledger/ledger.js';
import type { PayloadBuffer } from './payloadBuffer.js';

export interface CommitterEvents {
  /** After each committed run: the new height and how many blocks the run held. */
  committed(height: number, blocks: number): void;
  /** The ledger refused a verified run: the channel stops committing (it must never skip a block). */
  failed(err: Error): void;
}

const EMPTY = new Uint8Array(0);

export class Committer {
  private readonly stagedBlocks: Uint8Array[];
  private readonly stagedHashes: Uint8Array[];
  private scheduled = false;
  private failedWith: Error | null = null;
  private readonly drainBound = (): void => {
    this.scheduled = false;
    this.drain();
  };

  constructor(
    private readonly ledger: BlockLedger,
    private readonly buffer: PayloadBuffer,
    private readonly maxRunBlocks: number,
    private readonly events: CommitterEvents,
  ) {
    this.stagedBlocks = new Array<Uint8Array>(maxRunBlocks).fill(EMPTY);
    this.stagedHashes = new Array<Uint8Array>(maxRunBlocks).fill(EMPTY);
  }

  get failure(): Error | null {
    return this.failedWith;
  }

  /** Asks for a drain on the next turn of the event loop (cheap to call once per arriving batch). */
  schedule(): void {
    if (this.scheduled || this.failedWith !== null) return;
    this.scheduled = true;
    setImmediate(this.drainBound);
  }

  /** Commits every contiguous ready block now. Returns how many were committed. */
  drain(): number {
    let total = 0;
    while (this.failedWith === null) {
      const n = this.buffer.readyCount(this.maxRunBlocks);
      if (n === 0) break;
      this.buffer.stage(n, this.stagedBlocks, this.stagedHashes);
      try {
        this.ledger.append(this.stagedBlocks, this.stagedHashes, 0, n);
      } catch (err) {
        this.failedWith = err as Error;
        this.events.failed(err as Error);
        break;
      }
      this.buffer.release(n);
      for (let i = 0; i < n; i++) this.stagedBlocks[i] = EMPTY;
      total += n;
      this.events.committed(this.ledger.height(), n);
    }
    return total;
  }
}
