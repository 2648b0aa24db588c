// The ledger's blocks as stored: the 'segments' database of an LMDB environment, first block number ->
// segment (src/ledger/segment.ts). Finds the segment that holds a block (remembering the last one found,
// so consecutive reads skip the range lookup), reads blocks in place, and writes a run as segments.
// Segments are never rewritten, so a remembered segment stays right.
import type { Database } from 'lmdb';
import type { BlockVisitor } from './ledger.js';
import { LedgerCorruptError } from './ledger.js';
import {
  SEGMENT_FIXED_BYTES, SEGMENT_PER_BLOCK_BYTES, SegmentSlot, locateInSegment, segmentCount, writeSegment,
} from './segment.js';

/** First size of the segment scratch; it doubles from here as larger runs come. */
const MIN_SEGMENT_SCRATCH_BYTES = 64 * 1024;

export class SegmentStore {
  /** First number and block count of the segment the last lookup found. */
  foundFirst = -1;
  foundCount = 0;
  /** Bounds of the block the last lookup found, inside that segment. */
  readonly slot = new SegmentSlot();
  private scratch = new Uint8Array(0);

  constructor(private readonly db: Database<Uint8Array, number>, private readonly path: string, private readonly maxSegmentBytes: number) {}

  /** Stored segments. */
  count(): number {
    // lmdb's typings leave getStats() untyped; mdb_stat's entry count is what it returns.
    const { entryCount } = this.db.getStats() as { entryCount?: unknown };
    return typeof entryCount === 'number' ? entryCount : this.db.getKeysCount();
  }

  /** Whether any segment is stored. */
  isEmpty(): boolean {
    return this.db.getKeysCount({ limit: 1 }) === 0;
  }

  /**
   * The segment holding block n, in lmdb's read buffer, with n's bounds in `slot` and the segment's
   * first number and count in foundFirst/foundCount; undefined when no stored segment holds n.
   */
  find(n: number): Uint8Array | undefined {
    let first: number;
    let seg: Uint8Array | undefined;
    if (n >= this.foundFirst && n < this.foundFirst + this.foundCount) {
      first = this.foundFirst;
      seg = this.db.getBinaryFast(first);
    } else {
      // The orderer stores one block per segment, so its reads hit here at once.
      first = n;
      seg = this.db.getBinaryFast(n);
      if (seg === undefined) {
        const below = this.keyAtOrBelow(n);
        if (below === undefined) return undefined;
        first = below;
        seg = this.db.getBinaryFast(first);
      }
    }
    if (seg === undefined) return undefined;
    const count = segmentCount(seg, seg.length);
    if (count === 0) throw this.damaged(n, first);
    if (n >= first + count) return undefined;
    if (!locateInSegment(seg, seg.length, count, n - first, this.slot)) throw this.damaged(n, first);
    this.foundFirst = first;
    this.foundCount = count;
    return seg;
  }

  private keyAtOrBelow(n: number): number | undefined {
    for (const key of this.db.getKeys({ start: n, reverse: true, limit: 1 })) return key;
    return undefined;
  }

  damaged(n: number, first: number): LedgerCorruptError {
    return new LedgerCorruptError(`ledger ${this.path}: block ${n}: the segment from block ${first} is damaged (run \`edgepeer ledger verify\`)`, n);
  }

  /** Block n as a view into lmdb's read buffer (see BlockLedger.getBlockUnsafe), or undefined. */
  blockView(n: number): Uint8Array | undefined {
    if (!Number.isSafeInteger(n) || n < 0) return undefined;
    const seg = this.find(n);
    if (seg === undefined) return undefined;
    // lmdb hands back its whole 16 MiB shared buffer with only `length` patched; byteLength, slice()
    // and socket writes would see all of it. A view of exactly the block costs an object, not a copy.
    return seg.subarray(this.slot.start, this.slot.end);
  }

  /** BlockLedger.readBlocks over the stored segments. */
  readBlocks(from: number, toInclusive: number, maxBytes: number, visit: BlockVisitor): number {
    if (!Number.isSafeInteger(from) || from < 0) return 0;
    let n = from;
    let bytes = 0;
    let visited = 0;
    while (n <= toInclusive) {
      const seg = this.find(n);
      if (seg === undefined) break;
      const first = this.foundFirst;
      const count = this.foundCount;
      const end = Math.min(toInclusive + 1, first + count);
      for (; n < end; n++) {
        if (!locateInSegment(seg, seg.length, count, n - first, this.slot)) throw this.damaged(n, first);
        const length = this.slot.end - this.slot.start;
        if (visited > 0 && bytes + length > maxBytes) return visited;
        visit(seg.subarray(this.slot.start, this.slot.end), n);
        bytes += length;
        visited++;
      }
    }
    return visited;
  }

  /** Every stored segment in order of its first block, each a copy; stops when `visit` returns false. */
  forEach(visit: (first: number, segment: Uint8Array) => boolean): void {
    for (const { key, value } of this.db.getRange({})) {
      if (!visit(key, Buffer.from(value))) return;
    }
  }

  /**
   * Puts blocks[start .. start+count), numbered from `first`, as segments of at most maxSegmentBytes
   * (a larger block gets one of its own), block i's hash taken from `hashes` at i * 32. Inside a write
   * transaction: lmdb copies a value during the put, so the one scratch is refilled for the next segment.
   */
  putRun(first: number, blocks: ArrayLike<Uint8Array>, start: number, count: number, hashes: Uint8Array): void {
    let i = 0;
    while (i < count) {
      let bytes = SEGMENT_FIXED_BYTES + SEGMENT_PER_BLOCK_BYTES + blocks[start + i]!.length;
      let j = i + 1;
      for (; j < count; j++) {
        const more = SEGMENT_PER_BLOCK_BYTES + blocks[start + j]!.length;
        if (bytes + more > this.maxSegmentBytes) break;
        bytes += more;
      }
      const scratch = this.scratchOf(bytes);
      writeSegment(scratch, blocks, start + i, j - i, hashes, i);
      void this.db.put(first + i, scratch.subarray(0, bytes));
      i = j;
    }
  }

  private scratchOf(bytes: number): Uint8Array {
    if (this.scratch.length < bytes) {
      this.scratch = new Uint8Array(Math.max(bytes, MIN_SEGMENT_SCRATCH_BYTES, 2 * this.scratch.length));
    }
    return this.scratch;
  }
}
