// Whether the board has caught up with the orderer. The Deliver stream never states the orderer's height,
// so this is inferred from what the orderer does, which the protocol pins down (docs/protocol.md §9.2):
//
// - A session that has sent every block cut so far waits, and sends a heartbeat (an empty response)
//   every heartbeatMs. A heartbeat therefore proves that the board had been sent everything: in sync.
// - Otherwise the orderer packs consecutive blocks greedily into a response, up to its packing limit.
//   If response k carried T bytes and the first block of response k+1 is b bytes with T + b within the
//   limit, the orderer would have packed that block into response k had it existed: response k ended at
//   the orderer's height. So a board that follows the tip under steady load is judged in sync one
//   response later, and one that receives full responses (catch-up, or a burst it lags behind) syncing.
//
// The judgement is only as good as the packing limit it assumes: it must not exceed the orderer's for the
// link (a smaller assumed limit only makes the board say "syncing" more often). Blocks larger than half the
// limit make every response look full, so under steady load with such blocks only heartbeats say in sync.
// Blocks received are not yet committed, but committing takes milliseconds: the LED shows "has been sent
// everything", not "has written everything".
//
// A fork (the orderer signed a block that conflicts with the board's chain, src/peer/peer.ts) ends the
// judgement for good: 'forked' is terminal, and no stream opened or closed afterwards changes it.
//
//   offline ──streamOpened──> syncing <──full response──> in-sync ──streamClosed──> offline
//   any ──forked──> forked (terminal)

import type { SyncState } from '../observability/statusReport.js';

export type { SyncState } from '../observability/statusReport.js';

export class SyncTracker {
  private stateValue: SyncState = 'offline';
  /** Bytes of blocks in the previous non-empty response of the current stream; -1 when there is none to judge. */
  private previousBytes = -1;
  private limitBytes = 0;

  get state(): SyncState {
    return this.stateValue;
  }

  /** A new stream opened; `packingLimitBytes` is the orderer's response packing limit on its link. */
  streamOpened(packingLimitBytes: number): void {
    if (this.stateValue === 'forked') return;
    this.limitBytes = packingLimitBytes;
    this.previousBytes = -1;
    this.stateValue = 'syncing';
  }

  streamClosed(): void {
    this.previousBytes = -1;
    if (this.stateValue !== 'forked') this.stateValue = 'offline';
  }

  /** The board's chain conflicts with one the orderer signed: no judgement applies any more. */
  forked(): void {
    this.previousBytes = -1;
    this.stateValue = 'forked';
  }

  /** One response of the current stream, in arrival order (a heartbeat has no blocks). */
  response(blocks: readonly Uint8Array[]): void {
    if (this.stateValue === 'offline' || this.stateValue === 'forked') return;
    if (blocks.length === 0) {
      this.stateValue = 'in-sync';
      this.previousBytes = -1;
      return;
    }
    if (this.previousBytes >= 0) {
      this.stateValue = this.previousBytes + blocks[0]!.length <= this.limitBytes ? 'in-sync' : 'syncing';
    }
    let bytes = 0;
    for (const b of blocks) bytes += b.length;
    this.previousBytes = bytes;
  }
}
