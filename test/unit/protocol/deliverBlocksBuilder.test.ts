// src/protocol/frames.ts DeliverBlocksBuilder: the orderer's DeliverBlocks built as its blocks are read is
// the very frame encodeDeliverBlocks makes of the same response, for any session, seq, blocks (every CBOR
// head length among them), MAC and ReplyKey, also when the blocks outgrow the capacity it was given.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DeliverBlocksBuilder, decodeDeliverResponse, encodeDeliverBlocks } from '../../../src/protocol/frames.js';
import { MAC_BYTES } from '../../../src/protocol/messageAuth.js';

/** Block lengths on each side of every CBOR head size (1, 2, 3 and 5 bytes). */
const EDGE_LENGTHS = [0, 1, 23, 24, 255, 256, 65_535, 65_536];

const block = fc.oneof(
  fc.uint8Array({ maxLength: 600 }),
  fc.constantFrom(...EDGE_LENGTHS).map((n) => new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff)),
);

const replyKey = fc.option(fc.record({
  org: fc.string({ maxLength: 40 }),
  key: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  notAfter: fc.nat(),
  certificate: fc.uint8Array({ maxLength: 300 }),
}), { nil: undefined });

test('property: the built frame is byte for byte encodeDeliverBlocks, and decodes to the blocks it was given', () => {
  fc.assert(fc.property(
    fc.string({ maxLength: 128 }), fc.oneof(fc.integer({ min: 1, max: 0xffff_ffff }), fc.integer({ min: 2 ** 32, max: Number.MAX_SAFE_INTEGER })),
    fc.array(block, { maxLength: 30 }), fc.uint8Array({ minLength: MAC_BYTES, maxLength: MAC_BYTES }), replyKey, fc.nat({ max: 4_096 }),
    (session, seq, blocks, mac, key, capacity) => {
      const b = new DeliverBlocksBuilder(session, seq, capacity);
      // Each block from a buffer that is overwritten after the call, as readBlocks' views are.
      const scratch = new Uint8Array(70_000);
      for (const x of blocks) {
        scratch.set(x);
        b.add(scratch.subarray(0, x.length));
        scratch.fill(0xee);
      }
      assert.equal(b.count, blocks.length);
      assert.deepEqual(b.blocks().map((v) => Buffer.from(v)), blocks.map((x) => Buffer.from(x)));
      const frame = b.finish(mac, key);
      assert.deepEqual(Buffer.from(frame), Buffer.from(encodeDeliverBlocks(session, seq, blocks, mac, key)));
      // The ReplyKey here is a stand-in map (the byte comparison covers it): a real one is decoded too.
      if (key === undefined) {
        const r = decodeDeliverResponse(frame);
        assert.ok('blocks' in r);
        assert.deepEqual(r.blocks.map((v) => Buffer.from(v)), blocks.map((x) => Buffer.from(x)));
      }
    },
  ), { numRuns: 200 });
});

test('a response of more than 65,535 blocks gets the five-byte array head', () => {
  const blocks = Array.from({ length: 65_536 }, (_, i) => Uint8Array.of(i & 0xff));
  const mac = new Uint8Array(MAC_BYTES).fill(3);
  const b = new DeliverBlocksBuilder('s', 7, 16);
  for (const x of blocks) b.add(x);
  assert.deepEqual(Buffer.from(b.finish(mac)), Buffer.from(encodeDeliverBlocks('s', 7, blocks, mac)));
});
