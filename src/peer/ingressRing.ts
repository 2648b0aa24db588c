// Where the deliver client keeps Deliver responses while their blocks wait to be committed: one
// preallocated ring of bytes, each response copied in as it arrives and its blocks used in place.
// Without it each block is a view that pins its whole message (about 256 KiB) until commit, long enough
// for V8 to move the message to the old generation, where it is freed only at a full GC: tens of MiB of
// dead messages on a board between two GCs. A response too large for the ring's free space is copied
// into a buffer of its own (as before), so a slow ledger or a huge block costs memory, never a block.
import { ByteRing } from '../transport/byteRing.js';

/** One response's bytes in the ring. */
export class IngressRegion {
  /** Highest block number the sink may hold from the response (its tip when the client let go); -1 while none. */
  lastTaken = -1;
  /** While the deliver client holds the response (some of its blocks not offered yet). */
  held = true;
  constructor(readonly start: number) {}
}

export interface IngressCopy {
  bytes: Uint8Array;
  /** null when the response did not fit and got a buffer of its own. */
  region: IngressRegion | null;
}

export class IngressRing {
  private readonly ring: ByteRing;
  /** What each region of the ring holds, oldest first (one entry per region the ring has out). */
  private readonly regions: IngressRegion[] = [];
  /** Responses copied into the ring, and those that did not fit its free space. */
  inRing = 0;
  outsideRing = 0;

  constructor(readonly capacityBytes: number) {
    this.ring = new ByteRing(capacityBytes);
  }

  /** Bytes of the ring between the oldest region still in use and the write position. */
  get usedBytes(): number {
    return this.ring.usedBytes;
  }

  /** Copies `message` into the ring (or, when it does not fit, into a buffer of its own). */
  copy(message: Uint8Array): IngressCopy {
    const size = message.length;
    const at = this.ring.reserve(size);
    if (at < 0) {
      this.outsideRing++;
      // Not message.slice(): on a Buffer that is a view, not a copy.
      const own = Buffer.allocUnsafeSlow(size);
      own.set(message);
      return { bytes: own, region: null };
    }
    this.inRing++;
    const region = new IngressRegion(at);
    this.regions.push(region);
    // A Buffer view, as the links' messages are, so the blocks the hot path sees are of one kind.
    const bytes = this.ring.buffer.subarray(at, at + size);
    bytes.set(message);
    return { bytes, region };
  }

  /** Frees, oldest first, the regions no longer held whose blocks are all below `committedHeight`. */
  release(committedHeight: number): void {
    const r = this.regions;
    let n = 0;
    while (n < r.length && !r[n]!.held && r[n]!.lastTaken < committedHeight) n++;
    if (n === 0) return;
    r.splice(0, n);
    this.ring.releaseOldest(n);
  }
}
