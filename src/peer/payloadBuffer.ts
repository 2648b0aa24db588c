// The payload buffer (Fabric's gossip/state payloads_buffer): verified blocks waiting for their turn to
// be committed, keyed by number in a fixed ring of preallocated slots. Out-of-order and duplicate
// arrivals are absorbed; a block too far ahead for the ring is refused (the caller re-requests it
// later instead of the buffer growing).
import { HASH_BYTES } from '../protocol/block.js';

export type PushOutcome = 'added' | 'duplicate' | 'old' | 'too-far-ahead';

export class PayloadBuffer {
  private readonly blocks: (Uint8Array | null)[];
  private readonly numbers: Float64Array;
  /** Header hash of the block in each slot (32 bytes a slot), so the ledger does not hash again. */
  private readonly hashes: Uint8Array;
  /** One view per slot over `hashes`, made once. */
  readonly hashViews: Uint8Array[];
  private nextValue: number;
  private count = 0;

  constructor(readonly capacity: number, next: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error('payload buffer capacity must be a positive integer');
    this.blocks = new Array<Uint8Array | null>(capacity).fill(null);
    this.numbers = new Float64Array(capacity).fill(-1);
    this.hashes = new Uint8Array(capacity * HASH_BYTES);
    this.hashViews = Array.from({ length: capacity }, (_, i) => this.hashes.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES));
    this.nextValue = next;
  }

  /** The next number to commit (the ledger height). */
  get next(): number {
    return this.nextValue;
  }

  get size(): number {
    return this.count;
  }

  /** Highest number that fits in the ring now. */
  get limit(): number {
    return this.nextValue + this.capacity - 1;
  }

  /** Stores a verified block and its header hash (hashSrc at hashOff). */
  push(number: number, block: Uint8Array, hashSrc: Uint8Array, hashOff: number): PushOutcome {
    if (number < this.nextValue) return 'old';
    if (number > this.limit) return 'too-far-ahead';
    const slot = number % this.capacity;
    if (this.numbers[slot] === number) return 'duplicate';
    this.blocks[slot] = block;
    this.numbers[slot] = number;
    const h = this.hashViews[slot]!;
    for (let k = 0; k < HASH_BYTES; k++) h[k] = hashSrc[hashOff + k]!;
    this.count++;
    return 'added';
  }

  has(number: number): boolean {
    return number >= this.nextValue && number <= this.limit && this.numbers[number % this.capacity] === number;
  }

  /** How many blocks are present contiguously from `next`, at most `max`. */
  readyCount(max: number): number {
    let n = 0;
    while (n < max && n < this.capacity && this.numbers[(this.nextValue + n) % this.capacity] === this.nextValue + n) n++;
    return n;
  }

  /** Copies references to the next `count` ready blocks and their hash views into the staging arrays. */
  stage(count: number, blocksOut: Uint8Array[], hashesOut: Uint8Array[]): void {
    for (let i = 0; i < count; i++) {
      const slot = (this.nextValue + i) % this.capacity;
      blocksOut[i] = this.blocks[slot]!;
      hashesOut[i] = this.hashViews[slot]!;
    }
  }

  /** Frees the next `count` slots after they were committed. */
  release(count: number): void {
    for (let i = 0; i < count; i++) {
      const slot = (this.nextValue + i) % this.capacity;
      this.blocks[slot] = null;
      this.numbers[slot] = -1;
    }
    this.nextValue += count;
    this.count -= count;
  }

  /** Drops everything above the committed height (after a rejected run, the verified tip is re-anchored). */
  clear(next: number): void {
    this.blocks.fill(null);
    this.numbers.fill(-1);
    this.count = 0;
    this.nextValue = next;
  }
}
