import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PendingBlocks, type PendingBlocksLimits } from '../../../src/gossip/pendingBlocks.js';

const block = (n: number, bytes = 1): Uint8Array => new Uint8Array(bytes).fill(n & 0xff);
const limits = (over: Partial<PendingBlocksLimits> = {}): PendingBlocksLimits => ({
  pendingBlocksMax: 2, pendingPushedBytesMax: 1_000_000, pendingPushedAheadMaxBlocks: 1_000, pullBlocksMax: 256, ...over,
});

test('pushed blocks are bounded, requested ones are always held; runs start at the next number', () => {
  const p = new PendingBlocks(limits());
  assert.equal(p.hold(10, 5, { block: block(10), from: 'a', origin: 'push' }), 'held');
  assert.equal(p.hold(11, 5, { block: block(11), from: 'a', origin: 'push' }), 'held');
  assert.equal(p.hold(12, 5, { block: block(12), from: 'a', origin: 'push' }), 'full', 'a third pushed block is not held');
  assert.equal(p.hold(5, 5, { block: block(5), from: 'b', origin: 'catchup' }), 'held', 'streamed blocks are not bounded by the push limit');
  assert.equal(p.hold(6, 5, { block: block(6), from: 'b', origin: 'pull' }), 'held');
  assert.equal(p.hold(4, 5, { block: block(4), from: 'b', origin: 'pull' }), 'duplicate', 'below next: the peer has it');
  assert.equal(p.hold(10, 5, { block: block(10), from: 'c', origin: 'push' }), 'duplicate');
  assert.deepEqual(p.run(5, 10).map((b) => b[0]), [5, 6]);
  p.delete(5);
  p.delete(6);
  p.dropBelow(11);
  assert.equal(p.has(10), false);
  assert.equal(p.hold(12, 11, { block: block(12), from: 'a', origin: 'push' }), 'held', 'dropping a pushed block frees its place');
  assert.deepEqual(p.run(11, 10).map((b) => b[0]), [11, 12]);
});

test('pushed blocks are bounded in bytes: a member parking large blocks fills a bounded set, and deleting frees the bytes', () => {
  const p = new PendingBlocks(limits({ pendingBlocksMax: 1_000, pendingPushedBytesMax: 10_000 }));
  let held = 0;
  for (let n = 1; n < 100; n++) if (p.hold(n, 0, { block: block(n, 3_000), from: 'forger', origin: 'push' }) === 'held') held++;
  assert.equal(held, 3, 'three blocks of 3,000 bytes fit 10,000');
  assert.deepEqual(p.pushedHeld, { blocks: 3, bytes: 9_000 });
  p.dropBelow(3);
  assert.deepEqual(p.pushedHeld, { blocks: 1, bytes: 3_000 });
});

test('pushed blocks far ahead of the next block are not held; pulled ones beyond pullBlocksMax neither; streamed ones are', () => {
  const p = new PendingBlocks(limits({ pendingBlocksMax: 10_000, pendingPushedAheadMaxBlocks: 100, pullBlocksMax: 50 }));
  assert.equal(p.hold(1_000_000, 5, { block: block(1), from: 'forger', origin: 'push' }), 'too-far', 'beyond the chain: it would never drain');
  assert.equal(p.hold(105, 5, { block: block(1), from: 'a', origin: 'push' }), 'too-far');
  assert.equal(p.hold(104, 5, { block: block(1), from: 'a', origin: 'push' }), 'held');
  assert.equal(p.hold(55, 5, { block: block(1), from: 'a', origin: 'pull' }), 'too-far');
  assert.equal(p.hold(54, 5, { block: block(1), from: 'a', origin: 'pull' }), 'held');
  assert.equal(p.hold(5_000, 5, { block: block(1), from: 'a', origin: 'catchup' }), 'held', 'a stream brings what this board asked for');
});

test('the next block is held even when junk further ahead fills the bounds: push goes on', () => {
  const p = new PendingBlocks(limits({ pendingBlocksMax: 2, pendingPushedBytesMax: 1_000_000 }));
  p.hold(20, 10, { block: block(20), from: 'forger', origin: 'push' });
  p.hold(21, 10, { block: block(21), from: 'forger', origin: 'push' });
  assert.equal(p.hold(11, 10, { block: block(11), from: 'a', origin: 'push' }), 'full');
  assert.equal(p.hold(10, 10, { block: block(10), from: 'a', origin: 'push' }), 'held', 'block 10 continues the chain now');
});
