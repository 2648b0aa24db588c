// Hashes of the blocks this handle appended and the index has not caught up with yet, kept so that the
// index catch-up need not read them back from the segments. Reading a segment copies all of it out of
// the map (LMDB has no partial reads), which faults every page of the segment into the process
// (file-backed RSS), only to use its hash table; the appender had those hashes in hand anyway.
//
// Covers the blocks [from, from + count), a prefix of the unindexed blocks: once `maxBlocks` are held,
// later runs are not added and the catch-up reads their hashes from the segments as after a restart.
import { HASH_BYTES } from '../protocol/block.js';

/** Capacity the table starts with; it doubles from here up to maxBlocks as runs come. */
const INITIAL_BLOCKS = 1024;

export class RecentHashes {
  private table = new Uint8Array(0);
  private fromValue = 0;
  private countValue = 0;

  constructor(private readonly maxBlocks: number) {}

  get from(): number {
    return this.fromValue;
  }

  /** One past the last block held (== from when empty). */
  get end(): number {
    return this.fromValue + this.countValue;
  }

  /**
   * Takes the hashes of the committed run [first, first + count) from `hashes` (32 bytes each, from
   * offset 0). A run that does not follow the blocks held, or does not fit, is left out.
   */
  add(first: number, hashes: Uint8Array, count: number): void {
    if (this.countValue === 0) this.fromValue = first;
    else if (first !== this.end) return;
    const needed = this.countValue + count;
    if (needed > this.maxBlocks) return;
    if (this.table.length < needed * HASH_BYTES) {
      let blocks = Math.max(INITIAL_BLOCKS, this.table.length / HASH_BYTES);
      while (blocks < needed) blocks *= 2;
      const grown = new Uint8Array(Math.min(blocks, this.maxBlocks) * HASH_BYTES);
      grown.set(this.table.subarray(0, this.countValue * HASH_BYTES));
      this.table = grown;
    }
    this.table.set(hashes.subarray(0, count * HASH_BYTES), this.countValue * HASH_BYTES);
    this.countValue = needed;
  }

  /** Copies block n's hash (from <= n < end) into out[0..32). */
  copyHash(n: number, out: Uint8Array): void {
    const at = (n - this.fromValue) * HASH_BYTES;
    for (let b = 0; b < HASH_BYTES; b++) out[b] = this.table[at + b]!;
  }

  /** Forgets the blocks below n (they are indexed now). */
  dropBelow(n: number): void {
    if (n <= this.fromValue) return;
    if (n >= this.end) {
      this.countValue = 0;
      this.fromValue = n;
      return;
    }
    const drop = n - this.fromValue;
    this.table.copyWithin(0, drop * HASH_BYTES, this.countValue * HASH_BYTES);
    this.countValue -= drop;
    this.fromValue = n;
  }
}
