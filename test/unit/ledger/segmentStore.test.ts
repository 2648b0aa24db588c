// The ledger's block store (src/ledger/segmentStore.ts) on a real LMDB file: runs written as segments of
// at most maxSegmentBytes, any block found from the segment at or below it (and nothing past the last
// one, or before the first), block views of exactly the block (lmdb hands out its whole shared buffer),
// reads bounded by bytes but never empty, segments visited in order, and damage reported, not read past.
// (forEach copies each segment; that lmdb would otherwise reuse the buffer is not seen here: no test.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LedgerCorruptError } from '../../../src/ledger/ledger.js';
import { SEGMENT_FIXED_BYTES, SEGMENT_PER_BLOCK_BYTES, segmentCount } from '../../../src/ledger/segment.js';
import { openLedgerEnv, testBlock, testHashes } from '../../helpers/ledgerEnv.js';

const BLOCK_BYTES = 100;
/** Room for three blocks of BLOCK_BYTES in a segment, not four. */
const THREE_BLOCKS_BYTES = SEGMENT_FIXED_BYTES + 3 * (SEGMENT_PER_BLOCK_BYTES + BLOCK_BYTES);

const blocks = (first: number, count: number, bytes = BLOCK_BYTES): Uint8Array[] => Array.from({ length: count }, (_, i) => testBlock(first + i, bytes));
const hex = (b: Uint8Array | undefined): string => (b === undefined ? 'undefined' : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex'));

test('putRun cuts a run into segments of at most maxSegmentBytes; a block larger than that gets one of its own', (t) => {
  const e = openLedgerEnv(t, THREE_BLOCKS_BYTES);
  assert.equal(e.store.isEmpty(), true);
  e.putRun(0, blocks(0, 7), testHashes(0, 7));
  // 7 blocks: 3 + 3 + 1, keyed by their first block.
  assert.deepEqual([...e.segments.getKeys({})], [0, 3, 6]);
  assert.equal(e.store.count(), 3);
  assert.equal(e.store.isEmpty(), false);
  // A block of its own when it alone is past the bound, between two ordinary ones.
  const run = [testBlock(7, BLOCK_BYTES), testBlock(8, 2 * THREE_BLOCKS_BYTES), testBlock(9, BLOCK_BYTES)];
  e.putRun(7, run, testHashes(7, 3));
  assert.deepEqual([...e.segments.getKeys({ start: 7 })], [7, 8, 9]);
  for (const [first, count] of [[0, 3], [3, 3], [6, 1], [7, 1], [8, 1], [9, 1]] as const) {
    const seg = e.segments.getBinary(first)!;
    assert.equal(segmentCount(seg, seg.length), count, `segment ${first}`);
    if (first !== 8) assert.ok(seg.length <= THREE_BLOCKS_BYTES, `segment ${first} is ${seg.length} bytes`);
  }
});

test('find and blockView: any block from the segment at or below it, exactly its bytes; nothing outside the stored blocks', (t) => {
  const e = openLedgerEnv(t, THREE_BLOCKS_BYTES);
  // Stored from block 5 on (as after a snapshot): 5..11 in segments 5, 8, 11.
  const stored = blocks(5, 7);
  e.putRun(5, stored, testHashes(5, 7));
  // Out of order, so that the remembered segment is wrong as often as right.
  for (const n of [9, 5, 11, 6, 10, 7, 8, 8, 5]) {
    const view = e.store.blockView(n);
    assert.equal(hex(view), hex(stored[n - 5]), `block ${n}`);
    // Exactly the block: lmdb's read buffer is 16 MiB with only its length patched.
    assert.equal(view!.byteLength, BLOCK_BYTES);
    assert.equal(e.store.foundFirst, 5 + 3 * Math.floor((n - 5) / 3));
    assert.equal(e.store.foundCount, n >= 11 ? 1 : 3);
  }
  for (const n of [0, 4, 12, 1_000, -1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1]) assert.equal(e.store.blockView(n), undefined, `block ${n}`);
  // The remembered segment does not answer for blocks outside it.
  assert.notEqual(e.store.blockView(7), undefined);
  assert.equal(e.store.find(12), undefined);
});

test('readBlocks: [from, to] across segments, cut before maxBytes is passed but never empty, stopping at the last stored block', (t) => {
  const e = openLedgerEnv(t, THREE_BLOCKS_BYTES);
  const stored = blocks(0, 8);
  e.putRun(0, stored, testHashes(0, 8));
  const read = (from: number, to: number, maxBytes: number): { n: number[]; visited: number } => {
    const n: number[] = [];
    const visited = e.store.readBlocks(from, to, maxBytes, (block, i) => {
      assert.equal(hex(block), hex(stored[i]), `block ${i}`);
      n.push(i);
    });
    return { n, visited };
  };
  assert.deepEqual(read(1, 6, Infinity), { n: [1, 2, 3, 4, 5, 6], visited: 6 });
  assert.deepEqual(read(2, 7, 3 * BLOCK_BYTES), { n: [2, 3, 4], visited: 3 });
  assert.deepEqual(read(2, 7, 3 * BLOCK_BYTES - 1), { n: [2, 3], visited: 2 });
  // One block larger than the bound is still read: a reader always moves.
  assert.deepEqual(read(4, 7, 1), { n: [4], visited: 1 });
  assert.deepEqual(read(6, 100, Infinity), { n: [6, 7], visited: 2 });
  assert.deepEqual(read(8, 100, Infinity), { n: [], visited: 0 });
  assert.deepEqual(read(-1, 3, Infinity), { n: [], visited: 0 });
});

test('forEach visits every segment in order, whole, and stops when told', (t) => {
  const e = openLedgerEnv(t, THREE_BLOCKS_BYTES);
  e.putRun(0, blocks(0, 7), testHashes(0, 7));
  const seen: number[] = [];
  const copies: Uint8Array[] = [];
  e.store.forEach((first, seg) => {
    seen.push(first);
    copies.push(seg);
    return true;
  });
  assert.deepEqual(seen, [0, 3, 6]);
  copies.forEach((seg, i) => assert.equal(hex(seg), hex(e.segments.getBinary(seen[i]!)), `segment ${seen[i]}`));
  const stopped: number[] = [];
  e.store.forEach((first) => {
    stopped.push(first);
    return first < 3;
  });
  assert.deepEqual(stopped, [0, 3]);
});

test('a damaged segment is reported as corruption naming the block and the segment, never read past', (t) => {
  const e = openLedgerEnv(t, THREE_BLOCKS_BYTES);
  e.putRun(0, blocks(0, 6), testHashes(0, 6));
  const corrupt = (n: number, first: number) => (err: unknown): boolean => err instanceof LedgerCorruptError && err.blockNumber === n
    && err.message === `ledger ${e.path}: block ${n}: the segment from block ${first} is damaged (run \`edgepeer ledger verify\`)`;
  // A count of zero.
  e.env.transactionSync(() => void e.segments.put(0, new Uint8Array(4)));
  assert.throws(() => e.store.blockView(1), corrupt(1, 0));
  // Offsets past the value's end: the segment cut short.
  const whole = e.segments.getBinary(3)!;
  e.env.transactionSync(() => void e.segments.put(3, whole.subarray(0, whole.length - 10)));
  assert.equal(hex(e.store.blockView(3)), hex(testBlock(3, BLOCK_BYTES)), 'a block before the cut still reads');
  assert.throws(() => e.store.blockView(5), corrupt(5, 3));
  assert.throws(() => e.store.readBlocks(3, 5, Infinity, () => {}), corrupt(5, 3));
});
