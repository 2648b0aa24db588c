// A ring of bytes handed out as regions and given back oldest first: where the MQTT stream assembles
// packets and the deliver client keeps responses, so that neither makes an ArrayBuffer per message.
// A region is contiguous: one that does not fit the free space at the end of the ring wraps to the front
// when the oldest region leaves room there; otherwise reserve() says no and the caller copies elsewhere.

export class ByteRing {
  /** Zero-filled and large, so mapped fresh by the allocator: pages become resident only once used. */
  readonly buffer: Buffer;
  /** Start offsets of the regions handed out and not given back, oldest first. */
  private readonly starts: number[] = [];
  private writePos = 0;

  constructor(capacityBytes: number) {
    if (!Number.isSafeInteger(capacityBytes) || capacityBytes < 0) throw new RangeError(`ring size must be a byte count, got ${capacityBytes}`);
    this.buffer = Buffer.alloc(capacityBytes);
  }

  /** Regions handed out and not given back. */
  get regions(): number {
    return this.starts.length;
  }

  /** Bytes between the oldest region still out and the write position. */
  get usedBytes(): number {
    if (this.starts.length === 0) return 0;
    const oldest = this.starts[0]!;
    return this.writePos > oldest ? this.writePos - oldest : this.buffer.length - oldest + this.writePos;
  }

  /** Offset of a new region of `size` bytes, or -1 when it does not fit the free space. */
  reserve(size: number): number {
    const at = this.place(size);
    if (at < 0) return -1;
    this.starts.push(at);
    this.writePos = at + size;
    return at;
  }

  /** Gives back the `count` oldest regions. */
  releaseOldest(count = 1): void {
    this.starts.splice(0, count);
    // Empty again: start over at the front, so that a ring that keeps up touches only its first pages.
    if (this.starts.length === 0) this.writePos = 0;
  }

  private place(size: number): number {
    if (size === 0 || size > this.buffer.length) return -1;
    if (this.starts.length === 0) return 0;
    const oldest = this.starts[0]!;
    if (this.writePos > oldest) {
      if (this.buffer.length - this.writePos >= size) return this.writePos;
      return oldest >= size ? 0 : -1;
    }
    return oldest - this.writePos >= size ? this.writePos : -1;
  }
}
