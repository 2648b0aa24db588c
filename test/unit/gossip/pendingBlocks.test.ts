import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PendingBlocks } from '../../../src/gossip/pendingBlocks.js';

const block = (n: number): Uint8Array => Uint8Array.of(n);

test('pushed blocks are bounded, requested ones are always held; runs start at the next number', () => {
  const p = new PendingBlocks(2);
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
