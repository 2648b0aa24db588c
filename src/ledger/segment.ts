// The segment: the unit in which the ledger stores blocks (ledger format 2). A run of consecutive blocks
// goes into one LMDB value, so a run costs one put instead of one per block, and a large value lives in
// overflow pages that LMDB writes with pwrite and never faults into the map.
//
//   segment = count u32 BE | count x 32-byte block hash | (count+1) x u32 BE offset | block bytes
//
// Offsets are relative to the start of the block area: block i is area[offset[i], offset[i+1]),
// offset[0] = 0 and offset[count] = the area's length. The hashes are the block hashes (header and
// signatures, src/protocol/blockHash.ts), so the hash index is rebuilt from segments without re-hashing.
//
// Every reader here takes the value's length explicitly: lmdb's getBinaryFast hands back a 16 MiB shared
// buffer whose `length` is patched, so neither `byteLength` nor the buffer's end says where a value ends.
import { HASH_BYTES } from '../protocol/block.js';

export const SEGMENT_COUNT_BYTES = 4;
export const SEGMENT_OFFSET_BYTES = 4;
/** Per block, besides its bytes: a hash and an offset. */
export const SEGMENT_PER_BLOCK_BYTES = HASH_BYTES + SEGMENT_OFFSET_BYTES;
/** Per segment, besides its blocks: the count and the closing offset. */
export const SEGMENT_FIXED_BYTES = SEGMENT_COUNT_BYTES + SEGMENT_OFFSET_BYTES;

function readU32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) >>> 0) + ((b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!);
}

function writeU32(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

/** Bytes before the block area of a segment of `count` blocks. */
export function segmentHeaderBytes(count: number): number {
  return SEGMENT_COUNT_BYTES + count * HASH_BYTES + (count + 1) * SEGMENT_OFFSET_BYTES;
}

/**
 * Writes a segment of blocks[from .. from+count) into `out` at 0, taking block i's hash from
 * `hashes` at (hashFrom + i) * 32. `out` must hold segmentHeaderBytes(count) + the blocks' bytes.
 * Returns the segment's length. Allocates nothing.
 */
export function writeSegment(
  out: Uint8Array, blocks: ArrayLike<Uint8Array>, from: number, count: number, hashes: Uint8Array, hashFrom: number,
): number {
  writeU32(out, 0, count);
  const hashesAt = SEGMENT_COUNT_BYTES;
  out.set(hashes.subarray(hashFrom * HASH_BYTES, (hashFrom + count) * HASH_BYTES), hashesAt);
  const offsetsAt = hashesAt + count * HASH_BYTES;
  const areaAt = offsetsAt + (count + 1) * SEGMENT_OFFSET_BYTES;
  let rel = 0;
  for (let i = 0; i < count; i++) {
    const block = blocks[from + i]!;
    writeU32(out, offsetsAt + i * SEGMENT_OFFSET_BYTES, rel);
    out.set(block, areaAt + rel);
    rel += block.length;
  }
  writeU32(out, offsetsAt + count * SEGMENT_OFFSET_BYTES, rel);
  return areaAt + rel;
}

/** Number of blocks in a segment; 0 when not even the count fits. */
export function segmentCount(seg: Uint8Array, segLength: number): number {
  return segLength < SEGMENT_COUNT_BYTES ? 0 : readU32(seg, 0);
}

/** Byte offset, inside the segment, of block i's hash. */
export function segmentHashAt(i: number): number {
  return SEGMENT_COUNT_BYTES + i * HASH_BYTES;
}

/** Where block i lies inside a segment (absolute offsets); refilled by `locateInSegment`. */
export class SegmentSlot {
  start = 0;
  end = 0;
}

/**
 * Fills `slot` with the bounds of block i of a segment of `count` blocks (count as read from it), after
 * checking that those bounds lie inside the value and are in order. Returns false when they do not:
 * the segment is damaged. Checks only block i, so a read costs O(1), not O(count).
 */
export function locateInSegment(seg: Uint8Array, segLength: number, count: number, i: number, slot: SegmentSlot): boolean {
  const header = segmentHeaderBytes(count);
  if (i < 0 || i >= count || header > segLength) return false;
  const offsetsAt = SEGMENT_COUNT_BYTES + count * HASH_BYTES;
  const start = header + readU32(seg, offsetsAt + i * SEGMENT_OFFSET_BYTES);
  const end = header + readU32(seg, offsetsAt + (i + 1) * SEGMENT_OFFSET_BYTES);
  if (start >= end || end > segLength) return false;
  slot.start = start;
  slot.end = end;
  return true;
}

/**
 * Why a segment's structure is unsound, or null. `badIndex` receives the index of the first block the
 * defect concerns. This is the cheap check readers run before trusting offsets; the audit
 * (verifyChain) runs it too, then checks every block and hash.
 */
export function segmentDefect(seg: Uint8Array, segLength: number, badIndex: { i: number }): string | null {
  badIndex.i = 0;
  if (segLength < SEGMENT_COUNT_BYTES) return `segment is ${segLength} bytes, too short for its block count`;
  const count = readU32(seg, 0);
  if (count === 0) return 'segment holds no blocks';
  const header = segmentHeaderBytes(count);
  if (header > segLength) return `segment claims ${count} blocks, but its ${segLength} bytes cannot hold their hashes and offsets`;
  const area = segLength - header;
  const offsetsAt = SEGMENT_COUNT_BYTES + count * HASH_BYTES;
  if (readU32(seg, offsetsAt) !== 0) return 'segment offsets table does not start at 0';
  let previous = 0;
  for (let i = 1; i <= count; i++) {
    const off = readU32(seg, offsetsAt + i * SEGMENT_OFFSET_BYTES);
    if (off <= previous || off > area) {
      badIndex.i = i - 1;
      return `segment offsets table puts block bytes at [${previous}, ${off}), outside the ${area}-byte block area or empty`;
    }
    previous = off;
  }
  if (previous !== area) {
    badIndex.i = count - 1;
    return `segment offsets table ends at ${previous}, but the block area is ${area} bytes`;
  }
  return null;
}
