// Where the deliver client keeps Deliver responses while their blocks wait to be committed: one
// preallocated ring of bytes, each response copied in as it arrives and its blocks used in place.
// Without it each block is a view that pins its whole message (about 256 KiB) until commit, long enough
// for V8 to move the message to the old generation, where it is freed only at a full GC: tens of MiB of
// dead messages on a board between two GCs. A response too large for the ring's free space is copied
// into a buffer of its own (as before), so a slow ledger or a huge block costs memory, never a block.

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
  private readonly ring: Uint8Array;
  /** Regions in the ring, oldest first. */
  private readonly regions: IngressRegion[] = [];
  private writePos = 0;
  /** Responses copied into the ring, and those that did not fit its free space. */
  inRing = 0;
  outsideRing = 0;

  constructor(readonly capacityBytes: number) {
    if (!Number.isSafeInteger(capacityBytes) || capacityBytes < 0) throw new RangeError(`ingress ring size must be a byte count, got ${capacityBytes}`);
    // Zero-filled and large, so mapped fresh by the allocator: pages become resident only once used. A
    // Buffer, as the links' messages are, so the blocks the hot path sees are of one kind.
    this.ring = Buffer.alloc(capacityBytes);
  }

  /** Bytes of the ring between the oldest region still in use and the write position. */
  get usedBytes(): number {
    if (this.regions.length === 0) return 0;
    const oldest = this.regions[0]!.start;
    return this.writePos > oldest ? this.writePos - oldest : this.ring.length - oldest + this.writePos;
  }

  /** Copies `message` into the ring (or, when it does not fit, into a buffer of its own). */
  copy(message: Uint8Array): IngressCopy {
    const size = message.length;
    const at = this.place(size);
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
    this.writePos = at + size;
    const bytes = this.ring.subarray(at, at + size);
    bytes.set(message);
    return { bytes, region };
  }

  /** Frees, oldest first, the regions no longer held whose blocks are all below `committedHeight`. */
  release(committedHeight: number): void {
    const r = this.regions;
    let n = 0;
    while (n < r.length && !r[n]!.held && r[n]!.lastTaken < committedHeight) n++;
    if (n > 0) r.splice(0, n);
    // Empty again: start over at the front, so that a ring that keeps up touches only its first pages.
    if (r.length === 0) this.writePos = 0;
  }

  private place(size: number): number {
    if (size === 0 || size > this.ring.length) return -1;
    if (this.regions.length === 0) return 0;
    const oldest = this.regions[0]!.start;
    if (this.writePos > oldest) {
      if (this.ring.length - this.writePos >= size) return this.writePos;
      return oldest >= size ? 0 : -1;
    }
    return oldest - this.writePos >= size ? this.writePos : -1;
  }
}
