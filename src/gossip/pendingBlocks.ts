// Gossiped blocks waiting for the gap before them to fill. Pushed blocks are bounded (pendingBlocksMax):
// anyone may push, so what they can make a board hold is capped; pulled and streamed blocks are bounded by
// what this board asked for (pullBlocksMax, the catch-up window) and are always held.
import type { GossipBlockOrigin } from './seams.js';

export type GossipedOrigin = Exclude<GossipBlockOrigin, 'orderer'>;

export interface PendingBlock {
  block: Uint8Array;
  from: string;
  origin: GossipedOrigin;
}

export type HoldOutcome = 'held' | 'duplicate' | 'full';

export class PendingBlocks {
  private readonly blocks = new Map<number, PendingBlock>();
  private pushed = 0;

  constructor(private readonly pushedMax: number) {}

  has(n: number): boolean {
    return this.blocks.has(n);
  }

  get(n: number): PendingBlock | undefined {
    return this.blocks.get(n);
  }

  /** Holds block n unless it is below `next`, already held, or a pushed block beyond the bound. */
  hold(n: number, next: number, p: PendingBlock): HoldOutcome {
    if (n < next || this.blocks.has(n)) return 'duplicate';
    if (p.origin === 'push') {
      if (this.pushed >= this.pushedMax) return 'full';
      this.pushed++;
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
    if (p.origin === 'push') this.pushed--;
    return p;
  }

  /** Drops what the peer has taken by other means. */
  dropBelow(next: number): void {
    for (const n of this.blocks.keys()) if (n < next) this.delete(n);
  }
}
