// Gossiped blocks waiting for the gap before them to fill. Anyone who is a member may push, so what pushes
// can make a board hold is bounded three ways: blocks (pendingBlocksMax), bytes (pendingPushedBytesMax) and
// distance ahead of the next block the peer needs (pendingPushedAheadMaxBlocks): a block further ahead
// than that cannot be reached soon, so holding it would only keep room from blocks that can (a member
// parking thousands of large blocks numbered beyond the chain filled the set for good). Pulled blocks are
// held up to pullBlocksMax ahead (what a DIGEST asks for); streamed ones are bounded by the stream's
// window (what this board asked for), and always held.
import type { GossipBlockOrigin } from './seams.js';

export type GossipedOrigin = Exclude<GossipBlockOrigin, 'orderer'>;

export interface PendingBlock {
  block: Uint8Array;
  from: string;
  origin: GossipedOrigin;
}

export interface PendingBlocksLimits {
  /** Pushed blocks held at most. */
  pendingBlocksMax: number;
  /** Bytes of pushed blocks held at most. */
  pendingPushedBytesMax: number;
  /** A pushed block numbered this far or further above the next block needed is not held. */
  pendingPushedAheadMaxBlocks: number;
  /** A pulled block this far or further above the next block needed is not held (a DIGEST asks for no more). */
  pullBlocksMax: number;
}

/** full: the count or bytes of pushed blocks are at their bound · too-far: beyond the distance bound. */
export type HoldOutcome = 'held' | 'duplicate' | 'full' | 'too-far';

export class PendingBlocks {
  private readonly blocks = new Map<number, PendingBlock>();
  private pushed = 0;
  private pushedBytesHeld = 0;

  constructor(private readonly limits: PendingBlocksLimits) {}

  /** Pushed blocks held now, and their bytes. */
  get pushedHeld(): { blocks: number; bytes: number } {
    return { blocks: this.pushed, bytes: this.pushedBytesHeld };
  }

  has(n: number): boolean {
    return this.blocks.has(n);
  }

  get(n: number): PendingBlock | undefined {
    return this.blocks.get(n);
  }

  /** Holds block n unless it is below `next`, already held, or beyond what its origin may make this board hold. */
  hold(n: number, next: number, p: PendingBlock): HoldOutcome {
    if (n < next || this.blocks.has(n)) return 'duplicate';
    const l = this.limits;
    if (p.origin === 'push') {
      if (n - next >= l.pendingPushedAheadMaxBlocks) return 'too-far';
      // The next block is offered to the peer at once: junk held further ahead must not keep it out.
      const atBound = this.pushed >= l.pendingBlocksMax || this.pushedBytesHeld + p.block.length > l.pendingPushedBytesMax;
      if (atBound && n !== next) return 'full';
      this.pushed++;
      this.pushedBytesHeld += p.block.length;
    } else if (p.origin === 'pull' && n - next >= l.pullBlocksMax) {
      return 'too-far';
    }
    this.blocks.set(n, p);
    return 'held';
  }

  /** The held run starting at `next`, at most `max` blocks. */
  run(next: number, max: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let n = next; out.length < max; n++) {
      const p = this.blocks.get(n);
      if (p === undefined) break;
      out.push(p.block);
    }
    return out;
  }

  delete(n: number): PendingBlock | undefined {
    const p = this.blocks.get(n);
    if (p === undefined) return undefined;
    this.blocks.delete(n);
    if (p.origin === 'push') {
      this.pushed--;
      this.pushedBytesHeld -= p.block.length;
    }
    return p;
  }

  /** Drops what the peer has taken by other means. */
  dropBelow(next: number): void {
    for (const n of this.blocks.keys()) if (n < next) this.delete(n);
  }
}
