// The deliver client's ingress ring (src/peer/ingressRing.ts): responses are copied in, their regions
// reused only once let go and committed, oldest first; what does not fit gets a buffer of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IngressRing } from '../../../src/peer/ingressRing.js';

const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);

test('a copy is independent of the message it came from', () => {
  const ring = new IngressRing(64);
  const msg = Buffer.from(bytes(10, 7));
  const c = ring.copy(msg);
  msg.fill(0);
  assert.deepEqual([...c.bytes], Array(10).fill(7));
  assert.notEqual(c.region, null);
  assert.equal(ring.outsideRing, 0);
});

test('regions are reused only once let go and below the committed height, oldest first', () => {
  const ring = new IngressRing(30);
  const a = ring.copy(bytes(10, 1));
  const b = ring.copy(bytes(10, 2));
  const c = ring.copy(bytes(10, 3));
  assert.equal(ring.usedBytes, 30);
  // Full: the next one goes outside, and the ring's contents stay as they were.
  const d = ring.copy(bytes(10, 4));
  assert.equal(d.region, null);
  assert.equal(ring.outsideRing, 1);
  // b is done, but a (older) is still held: nothing is freed.
  b.region!.held = false;
  b.region!.lastTaken = 19;
  ring.release(100);
  assert.equal(ring.copy(bytes(10, 5)).region, null);
  // a let go, its blocks committed up to 9 but b's not yet (height 15): only a's space comes back.
  a.region!.held = false;
  a.region!.lastTaken = 9;
  ring.release(15);
  const e = ring.copy(bytes(10, 6));
  assert.notEqual(e.region, null, 'a\'s region is reused');
  assert.deepEqual([...b.bytes], Array(10).fill(2), 'b untouched');
  assert.deepEqual([...c.bytes], Array(10).fill(3), 'c untouched');
  assert.deepEqual([...e.bytes], Array(10).fill(6));
  assert.equal(ring.copy(bytes(1, 7)).region, null, 'b is not committed yet');
});

test('a region whose blocks are not all committed keeps its bytes', () => {
  const ring = new IngressRing(20);
  const a = ring.copy(bytes(20, 1));
  a.region!.held = false;
  a.region!.lastTaken = 41;
  ring.release(41);
  assert.equal(ring.copy(bytes(5, 2)).region, null);
  ring.release(42);
  assert.notEqual(ring.copy(bytes(5, 2)).region, null);
});

test('an empty ring starts again at the front; a message larger than the ring goes outside', () => {
  const ring = new IngressRing(16);
  const a = ring.copy(bytes(12, 1));
  a.region!.held = false;
  ring.release(0);
  assert.equal(ring.usedBytes, 0);
  // 12 bytes would not fit after the first 12 without wrapping; from the front they do.
  const b = ring.copy(bytes(12, 2));
  assert.notEqual(b.region, null);
  assert.equal(b.region!.start, 0);
  assert.equal(ring.copy(bytes(17, 3)).region, null);
  const big = Buffer.from(bytes(17, 3));
  const outside = ring.copy(big);
  big.fill(0);
  assert.deepEqual([...outside.bytes], Array(17).fill(3), 'a copy of its own, even of a Buffer');
  assert.equal(new IngressRing(0).copy(bytes(1, 1)).region, null, 'a ring of 0 bytes copies everything outside');
});

test('wraps around when the front is free', () => {
  const ring = new IngressRing(30);
  const a = ring.copy(bytes(12, 1));
  ring.copy(bytes(12, 2));
  a.region!.held = false;
  ring.release(0);
  const c = ring.copy(bytes(10, 3));
  assert.equal(c.region!.start, 0, 'only 6 bytes at the end: wrapped to the front');
  assert.equal(ring.copy(bytes(3, 4)).region, null, 'front full up to the held region');
});
