// The payload buffer ring: what it takes and refuses, contiguous readiness, staging and releasing across
// the ring's wrap-around, and the header hashes copied into the slot of their block.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PayloadBuffer } from '../../../src/peer/payloadBuffer.js';
import { HASH_BYTES } from '../../../src/protocol/block.js';

/** A stand-in block: its number in the first byte, so staged blocks can be told apart. */
function block(n: number): Uint8Array {
  return Uint8Array.of(n & 0xff, (n >> 8) & 0xff, 0xbb);
}

/** A recognisable 32-byte "hash" for block n. */
function hashOf(n: number): Uint8Array {
  return new Uint8Array(HASH_BYTES).map((_, i) => (n * 7 + i) & 0xff);
}

function push(buf: PayloadBuffer, n: number): string {
  return buf.push(n, block(n), hashOf(n), 0);
}

function stageAll(buf: PayloadBuffer, count: number): { blocks: Uint8Array[]; hashes: Uint8Array[] } {
  const blocks: Uint8Array[] = [];
  const hashes: Uint8Array[] = [];
  buf.stage(count, blocks, hashes);
  return { blocks, hashes };
}

test('in-order blocks are all ready', () => {
  const buf = new PayloadBuffer(8, 10);
  for (let n = 10; n < 14; n++) assert.equal(push(buf, n), 'added');
  assert.equal(buf.size, 4);
  assert.equal(buf.readyCount(100), 4);
  assert.equal(buf.readyCount(2), 2, 'readyCount honours its max');
});

test('out-of-order blocks wait for the gap; readyCount stops at it', () => {
  const buf = new PayloadBuffer(8, 10);
  assert.equal(push(buf, 12), 'added');
  assert.equal(push(buf, 13), 'added');
  assert.equal(buf.readyCount(100), 0, 'block 10 missing');
  assert.equal(push(buf, 10), 'added');
  assert.equal(buf.readyCount(100), 1, 'stops at the gap at 11');
  assert.ok(buf.has(12) && !buf.has(11));
  assert.equal(push(buf, 11), 'added');
  assert.equal(buf.readyCount(100), 4);
  const { blocks } = stageAll(buf, 4);
  assert.deepEqual(blocks.map((b) => b[0]), [10, 11, 12, 13]);
});

test('duplicates, old blocks and blocks beyond the ring are refused without changing anything', () => {
  const buf = new PayloadBuffer(8, 10);
  assert.equal(buf.limit, 17);
  assert.equal(push(buf, 10), 'added');
  assert.equal(buf.push(10, block(99), hashOf(99), 0), 'duplicate');
  assert.equal(push(buf, 9), 'old');
  assert.equal(push(buf, 18), 'too-far-ahead');
  assert.equal(push(buf, 17), 'added', 'the last slot of the ring fits');
  assert.equal(buf.size, 2);
  const { blocks, hashes } = stageAll(buf, 1);
  assert.equal(blocks[0]![0], 10, 'the duplicate did not replace the first copy');
  assert.deepEqual(hashes[0], hashOf(10));
});

test('release moves next on: freed numbers become old and the ring takes blocks further ahead', () => {
  const buf = new PayloadBuffer(4, 0);
  for (let n = 0; n < 4; n++) push(buf, n);
  assert.equal(push(buf, 4), 'too-far-ahead');
  buf.release(2);
  assert.equal(buf.next, 2);
  assert.equal(buf.size, 2);
  assert.equal(buf.limit, 5);
  assert.equal(push(buf, 1), 'old');
  assert.ok(!buf.has(0) && !buf.has(1) && buf.has(2));
  assert.equal(push(buf, 4), 'added', 'goes into the slot block 0 had');
  assert.equal(push(buf, 5), 'added');
  assert.equal(buf.readyCount(100), 4);
  const { blocks } = stageAll(buf, 4);
  assert.deepEqual(blocks.map((b) => b[0]), [2, 3, 4, 5]);
});

test('stage and release keep order through many wrap-arounds, with arrivals out of order', () => {
  const capacity = 5;
  const buf = new PayloadBuffer(capacity, 0);
  const total = 53;
  let committed = 0;
  let arrived = 0;
  // Arrive in reversed pairs (1,0,3,2,...), commit whatever is ready in chunks of at most 3.
  while (committed < total) {
    while (arrived < total && arrived + 1 <= buf.limit) {
      const pair = arrived + 1 < total ? [arrived + 1, arrived] : [arrived];
      for (const n of pair) assert.equal(push(buf, n), 'added', `block ${n}`);
      arrived += pair.length;
    }
    const n = buf.readyCount(3);
    assert.ok(n > 0, `stalled at ${committed}`);
    const { blocks, hashes } = stageAll(buf, n);
    for (let i = 0; i < n; i++) {
      const expected = committed + i;
      assert.equal(blocks[i]![0], expected & 0xff, `block ${expected}`);
      assert.deepEqual(hashes[i], hashOf(expected), `hash of block ${expected}`);
    }
    buf.release(n);
    committed += n;
    assert.equal(buf.next, committed);
  }
  assert.equal(buf.size, 0);
  assert.equal(buf.readyCount(100), 0);
});

test('hashes are copied from their source offset into the slot of their block', () => {
  const buf = new PayloadBuffer(4, 6);
  // One scratch buffer holding three hashes back to back, as the verifier writes them.
  const scratch = new Uint8Array(3 * HASH_BYTES);
  [6, 7, 8].forEach((n, i) => scratch.set(hashOf(n), i * HASH_BYTES));
  buf.push(8, block(8), scratch, 2 * HASH_BYTES);
  buf.push(6, block(6), scratch, 0);
  buf.push(7, block(7), scratch, HASH_BYTES);
  assert.deepEqual(buf.hashViews[6 % 4], hashOf(6));
  assert.deepEqual(buf.hashViews[7 % 4], hashOf(7));
  assert.deepEqual(buf.hashViews[8 % 4], hashOf(8));
  // A copy, not a view: the verifier reuses its scratch for the next run.
  scratch.fill(0);
  const { hashes } = stageAll(buf, 3);
  assert.deepEqual(hashes, [hashOf(6), hashOf(7), hashOf(8)]);
  assert.equal(hashes[0], buf.hashViews[6 % 4], 'staging hands out the slot view itself, no copy');
});

test('clear drops everything and re-anchors next', () => {
  const buf = new PayloadBuffer(4, 0);
  push(buf, 0);
  push(buf, 2);
  buf.clear(1);
  assert.equal(buf.next, 1);
  assert.equal(buf.size, 0);
  assert.equal(buf.readyCount(10), 0);
  assert.ok(!buf.has(2));
  assert.equal(push(buf, 0), 'old');
  assert.equal(push(buf, 2), 'added');
});

test('capacity must be a positive integer', () => {
  assert.throws(() => new PayloadBuffer(0, 0));
  assert.throws(() => new PayloadBuffer(1.5, 0));
});
