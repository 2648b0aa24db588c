// The packet-size guard follows MQTT framing across any chunking and names an oversized packet from its
// header alone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PacketSizeGuard } from '../../../../src/transport/mqtt/packetSizeGuard.js';
import { remainingLength } from '../../../helpers/mqttPackets.js';

const packet = (body: number): Uint8Array => Uint8Array.from([0x30, ...remainingLength(body), ...new Uint8Array(body)]);

test('packets at and under the limit pass in any chunking; the first one over it is named from its header', () => {
  const limit = 20_000;
  const fine = [packet(0), packet(127), packet(128), packet(16_383), packet(16_384), packet(limit - 3 - 1)];
  const stream = Buffer.concat(fine);
  for (const chunkBytes of [1, 2, 3, 7, 1000, stream.length]) {
    const guard = new PacketSizeGuard(limit);
    for (let i = 0; i < stream.length; i += chunkBytes) {
      assert.deepEqual(guard.feed(stream.subarray(i, i + chunkBytes)), { kind: 'ok' }, `chunks of ${chunkBytes}`);
    }
  }
  const guard = new PacketSizeGuard(limit);
  assert.equal(guard.feed(packet(100)).kind, 'ok');
  // 200 MB announced: refused on the header's five bytes, whatever follows.
  const header = Uint8Array.from([0x30, ...remainingLength(200 * 1024 * 1024)]);
  assert.deepEqual(guard.feed(header), { kind: 'too-large', packetBytes: header.length + 200 * 1024 * 1024 });
  assert.equal(guard.feed(packet(1)).kind, 'too-large', 'the verdict stays');
});

test('a remaining length of more than four bytes is malformed', () => {
  const guard = new PacketSizeGuard(1 << 30);
  assert.deepEqual(guard.feed(Uint8Array.of(0x30, 0xff, 0xff, 0xff, 0xff, 0x01)), { kind: 'malformed', reason: 'remaining length longer than 4 bytes' });
});
