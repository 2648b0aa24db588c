// The hashes of appended blocks the hash index has not caught up with (src/ledger/recentHashes.ts): a
// contiguous prefix of the unindexed blocks, grown as runs come, bounded by maxBlocks, dropped from below
// as the index catches up. A hash handed back must be the one added for that block number.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { RecentHashes } from '../../../src/ledger/recentHashes.js';
import { HASH_BYTES } from '../../../src/protocol/block.js';

/** A distinct stand-in hash per block number. */
const hashOf = (n: number): Uint8Array => Uint8Array.from(createHash('sha256').update(`block ${n}`).digest());

/** The hashes of [first, first + count), concatenated as an appender hands them over. */
function run(first: number, count: number): Uint8Array {
  const out = new Uint8Array(count * HASH_BYTES);
  for (let i = 0; i < count; i++) out.set(hashOf(first + i), i * HASH_BYTES);
  return out;
}

function assertHolds(h: RecentHashes, from: number, end: number): void {
  assert.equal(h.from, from);
  assert.equal(h.end, end);
  const out = new Uint8Array(HASH_BYTES);
  for (let n = from; n < end; n++) {
    h.copyHash(n, out);
    assert.deepEqual(out, hashOf(n), `block ${n}`);
  }
}

test('runs that follow each other are held, each block\'s hash where its number says, across growth', () => {
  const h = new RecentHashes(10_000);
  assertHolds(h, 0, 0);
  // The first run sets where the table starts; runs of 700 take it past its first capacity twice.
  let next = 500;
  for (let i = 0; i < 5; i++) {
    h.add(next, run(next, 700), 700);
    next += 700;
  }
  assertHolds(h, 500, 4_000);
});

test('a run that does not follow the blocks held is left out', () => {
  const h = new RecentHashes(100);
  h.add(10, run(10, 5), 5);
  h.add(16, run(16, 5), 5);
  h.add(12, run(12, 5), 5);
  assertHolds(h, 10, 15);
  h.add(15, run(15, 5), 5);
  assertHolds(h, 10, 20);
});

test('a run that does not fit under maxBlocks is left out, and the runs after it too (they no longer follow)', () => {
  const h = new RecentHashes(50);
  h.add(0, run(0, 40), 40);
  h.add(40, run(40, 20), 20);
  assertHolds(h, 0, 40);
  h.add(60, run(60, 5), 5);
  assertHolds(h, 0, 40);
  h.add(40, run(40, 10), 10);
  assertHolds(h, 0, 50);
});

test('only `count` hashes are taken from a longer buffer', () => {
  const h = new RecentHashes(100);
  h.add(0, run(0, 10), 3);
  assertHolds(h, 0, 3);
  h.add(3, run(3, 10), 10);
  assertHolds(h, 0, 13);
});

test('dropBelow forgets what the index has: part of the blocks, all of them, or nothing', () => {
  const h = new RecentHashes(5_000);
  h.add(100, run(100, 2_000), 2_000);
  h.dropBelow(50);
  assertHolds(h, 100, 2_100);
  h.dropBelow(1_337);
  assertHolds(h, 1_337, 2_100);
  // Room freed below is room for more above.
  h.add(2_100, run(2_100, 4_000), 4_000);
  assertHolds(h, 1_337, 6_100);
  h.dropBelow(7_000);
  assertHolds(h, 7_000, 7_000);
  // Empty: the next run starts the table wherever it is.
  h.add(9_000, run(9_000, 3), 3);
  assertHolds(h, 9_000, 9_003);
});
