// What the Deliver service serves a channel from: the orderer's own Chain (src/orderer/chain.ts), or a
// chain followed from elsewhere and stored as it came (the Fabric gateway, src/fabricGateway/). Deliver reads
// blocks from the ledger whatever their format, and judges requesters under `state`.
import type { ChannelState } from '../channel/channelState.js';
import type { BlockLedger } from '../ledger/ledger.js';

export interface ServedChain {
  readonly channel: string;
  /**
   * Who may read, and the keys requests are checked with: the channel's configuration for an edgepeer
   * chain; for a followed Fabric channel, its edge access configuration (docs/design.md, "Fabric channels").
   * A new object whenever it changes, so sessions know to check their requester again.
   */
  readonly state: ChannelState;
  readonly ledger: BlockLedger;
  height(): number;
  /** Resolves once the chain holds block `number` (height > number), or when the chain closes. */
  waitForBlock(number: number): Promise<void>;
  readonly isClosed: boolean;
}

type HeightWaiter = { above: number; resolve: () => void };

/** The waits of Deliver sessions for blocks not yet stored, woken as the height moves. */
export class HeightSignal {
  private waiters: HeightWaiter[] = [];

  /** A promise that resolves once `height()` is above `number` (the caller has checked it is not yet). */
  wait(number: number): Promise<void> {
    return new Promise((resolve) => this.waiters.push({ above: number, resolve }));
  }

  /** Wakes the waits the new height satisfies. */
  wake(height: number): void {
    if (this.waiters.length === 0) return;
    const still: HeightWaiter[] = [];
    for (const w of this.waiters) {
      if (w.above < height) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  /** Wakes every wait (the chain closes). */
  wakeAll(): void {
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
  }
}
