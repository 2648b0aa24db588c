// The serial framing (COBS, header, CRC-32, delimiters) and its decoder: round trips, resynchronisation
// after noise, torn and oversized frames, and property-based runs on random and mutated byte streams.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { cobsDecodeInPlace, cobsEncode, cobsMaxEncodedLength } from '../../../../src/transport/serial/cobs.js';
import {
  MIN_FRAME_BYTES, SerialFrameKind, type SerialFrame, type SerialFrameKindCode, encodeSerialFrame, maxWireBytes, parseSerialFrame,
} from '../../../../src/transport/serial/frame.js';
import { SerialFrameDecoder } from '../../../../src/transport/serial/frameDecoder.js';
import { parsePortSpec, parseSerialEndpoint } from '../../../../src/transport/serial/serialEndpoint.js';
import { parseSerialReplyRoute, serialReplyRoute } from '../../../../src/transport/serial/routes.js';

const MAX_MESSAGE = 4096;

function decodeAll(chunks: readonly Uint8Array[], maxMessage = MAX_MESSAGE): { frames: SerialFrame[]; decoder: SerialFrameDecoder } {
  const frames: SerialFrame[] = [];
  const decoder = new SerialFrameDecoder(maxMessage, (f) => frames.push(f));
  for (const c of chunks) decoder.push(c);
  return { frames, decoder };
}

function cobsDecode(encoded: Uint8Array): Buffer | null {
  const buf = Buffer.from(encoded);
  const n = cobsDecodeInPlace(buf, buf.length);
  return n < 0 ? null : buf.subarray(0, n);
}

const plain = (f: SerialFrame): { kind: number; channel: string; message: string } =>
  ({ kind: f.kind, channel: f.channel, message: Buffer.from(f.message).toString('hex') });

test('COBS: known vectors from the paper and Wikipedia, and the run-length edges', () => {
  const vectors: [number[], number[]][] = [
    [[0x00], [0x01, 0x01]],
    [[0x00, 0x00], [0x01, 0x01, 0x01]],
    [[0x11, 0x22, 0x00, 0x33], [0x03, 0x11, 0x22, 0x02, 0x33]],
    [[0x11, 0x22, 0x33, 0x44], [0x05, 0x11, 0x22, 0x33, 0x44]],
    [[0x11, 0x00, 0x00, 0x00], [0x02, 0x11, 0x01, 0x01, 0x01]],
  ];
  for (const [raw, enc] of vectors) {
    assert.deepEqual([...cobsEncode(Uint8Array.from(raw))], enc, `encode ${raw}`);
    assert.deepEqual([...cobsDecode(Uint8Array.from(enc))!], raw, `decode ${enc}`);
  }
  for (const n of [0, 1, 253, 254, 255, 508, 509, 1000]) {
    const raw = Uint8Array.from({ length: n }, (_, i) => (i % 255) + 1);
    const enc = cobsEncode(raw);
    assert.ok(enc.length <= cobsMaxEncodedLength(n), `length bound for ${n}`);
    assert.equal(enc.indexOf(0), -1, `no zero in the encoding of ${n} bytes`);
    assert.deepEqual(cobsDecode(enc), Buffer.from(raw), `round trip of ${n} non-zero bytes`);
  }
  assert.equal(cobsDecode(Uint8Array.of(0x05, 0x11)), null, 'a code running past the end');
  assert.equal(cobsDecode(Uint8Array.of(0x02, 0x00)), null, 'a zero inside');
});

test('COBS: any bytes round-trip and the encoding never holds a zero (property)', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), (raw) => {
    const enc = cobsEncode(raw);
    assert.equal(enc.indexOf(0), -1);
    assert.ok(enc.length <= cobsMaxEncodedLength(raw.length));
    assert.deepEqual(cobsDecode(enc), Buffer.from(raw));
  }), { numRuns: 500 });
});

test('a frame is 0x00, COBS(version, kind, channel, message, CRC-32), 0x00 and decodes back whole', () => {
  const message = Buffer.from('a2646b696e64026773657373696f6e', 'hex');
  const wire = encodeSerialFrame(SerialFrameKind.DELIVER, 'ch1', message);
  assert.equal(wire[0], 0);
  assert.equal(wire.at(-1), 0);
  assert.equal(wire.subarray(1, -1).indexOf(0), -1);
  const inner = cobsDecode(wire.subarray(1, -1))!;
  assert.deepEqual([...inner.subarray(0, 6)], [1, SerialFrameKind.DELIVER, 3, 0x63, 0x68, 0x31]);
  assert.ok(wire.length <= maxWireBytes(message.length));
  const { frames } = decodeAll([wire]);
  assert.deepEqual(frames.map(plain), [{ kind: SerialFrameKind.DELIVER, channel: 'ch1', message: message.toString('hex') }]);
});

test('the decoder refuses a bad CRC, an unknown version or kind, a bad channel and a frame too short', () => {
  const good = cobsDecode(encodeSerialFrame(SerialFrameKind.REPLY, 'ch1', Buffer.from([0xa0])).subarray(1, -1))!;
  assert.equal(good.length, MIN_FRAME_BYTES + 2);
  assert.equal(typeof parseSerialFrame(good, good.length), 'object');
  const flipped = Buffer.from(good);
  flipped[4] = flipped[4]! ^ 0x01;
  assert.equal(parseSerialFrame(flipped, flipped.length), 'crc');
  assert.equal(parseSerialFrame(good, 5), 'malformed');
  // Frames that carry a good CRC over bad content: built by hand.
  const withCrc = (body: number[]): Buffer => {
    const b = Buffer.from(body);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(b) >>> 0);
    return Buffer.concat([b, crc]);
  };
  const v2 = withCrc([2, 3, 1, 0x61, 0xa0]);
  assert.equal(parseSerialFrame(v2, v2.length), 'version');
  const kind9 = withCrc([1, 9, 1, 0x61, 0xa0]);
  assert.equal(parseSerialFrame(kind9, kind9.length), 'malformed');
  const slash = withCrc([1, 3, 1, 0x2f, 0xa0]);
  assert.equal(parseSerialFrame(slash, slash.length), 'malformed');
  const noMessage = withCrc([1, 3, 2, 0x61, 0x62]);
  assert.equal(parseSerialFrame(noMessage, noMessage.length), 'malformed');
});

test('noise before, between and inside frames costs only the frames it touches', () => {
  const a = encodeSerialFrame(SerialFrameKind.REPLY, 'ch1', Buffer.from('first'));
  const b = encodeSerialFrame(SerialFrameKind.REPLY, 'ch1', Buffer.from('second'));
  const c = encodeSerialFrame(SerialFrameKind.REPLY, 'ch1', Buffer.from('third'));
  const torn = b.subarray(0, b.length - 4);
  const { frames, decoder } = decodeAll([Buffer.from('boot noise\r\n'), a, torn, Buffer.from([0x13, 0x37]), c]);
  assert.deepEqual(frames.map((f) => Buffer.from(f.message).toString()), ['first', 'third']);
  // The noise before `a` ends at a's leading delimiter; the torn `b` plus noise end at c's.
  const dropped = decoder.counters.dropped;
  assert.equal(dropped.crc + dropped.cobs + dropped.malformed, 2, JSON.stringify(dropped));
});

test('a frame split into single bytes decodes the same', () => {
  const wire = encodeSerialFrame(SerialFrameKind.BROADCAST, 'fleet', Buffer.alloc(1000, 0x5a));
  const { frames } = decodeAll([...wire].map((x) => Uint8Array.of(x)));
  assert.equal(frames.length, 1);
  assert.equal(frames[0]!.message.length, 1000);
});

test('a run longer than the largest frame is skipped without being buffered, and the next frame is read', () => {
  const limit = 256;
  const frames: SerialFrame[] = [];
  const decoder = new SerialFrameDecoder(limit, (f) => frames.push(f));
  let maxPending = 0;
  for (let i = 0; i < 100; i++) {
    decoder.push(Buffer.alloc(1000, 0x41));
    maxPending = Math.max(maxPending, decoder.pendingBytes);
  }
  assert.ok(maxPending <= maxWireBytes(limit), `held ${maxPending} bytes of a run without delimiter`);
  decoder.push(encodeSerialFrame(SerialFrameKind.REPLY, 'ch1', Buffer.alloc(limit, 1)));
  // The limit is on the whole frame (the largest header included): well past it.
  decoder.push(encodeSerialFrame(SerialFrameKind.REPLY, 'ch1', Buffer.alloc(maxWireBytes(limit), 1)));
  decoder.push(encodeSerialFrame(SerialFrameKind.REPLY, 'ch1', Buffer.from('ok')));
  assert.deepEqual(frames.map((f) => f.message.length), [limit, 2]);
  assert.equal(decoder.counters.dropped.oversize, 2);
});

// ---- Property-based: random and mutated streams ----

const kindArb = fc.constantFrom<SerialFrameKindCode>(SerialFrameKind.DELIVER, SerialFrameKind.BROADCAST, SerialFrameKind.REPLY);
const channelArb = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,12}$/);
const frameArb = fc.record({ kind: kindArb, channel: channelArb, message: fc.uint8Array({ minLength: 1, maxLength: 600 }) });

type Mutation = { op: 'flip'; at: number; bit: number } | { op: 'drop'; at: number } | { op: 'insert'; at: number; bytes: Uint8Array };
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
);

function mutate(wire: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let b = Buffer.from(wire);
  for (const m of mutations) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    if (m.op === 'flip') b[at] = b[at]! ^ (1 << m.bit);
    else if (m.op === 'drop') b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
    else b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
  }
  return b;
}

function chunked(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((x, y) => x - y);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    if (p > prev) out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

test('property: the decoder never throws on random bytes, and anything it returns passed its CRC', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 5000 }), fc.array(fc.nat(), { maxLength: 20 }), (bytes, cuts) => {
    const { frames } = decodeAll(chunked(bytes, cuts));
    for (const f of frames) {
      // A returned frame re-encodes to bytes whose CRC checks out: parse them again.
      const inner = cobsDecode(encodeSerialFrame(f.kind, f.channel, f.message).subarray(1, -1))!;
      assert.equal(typeof parseSerialFrame(inner, inner.length), 'object');
    }
  }), { numRuns: 300 });
});

test('property: on a mutated stream, every frame returned is an original, in order, and every untouched frame arrives', () => {
  fc.assert(fc.property(
    fc.array(fc.record({ frame: frameArb, mutations: fc.array(mutationArb, { maxLength: 3 }) }), { minLength: 1, maxLength: 12 }),
    fc.array(fc.nat(), { maxLength: 30 }),
    (items, cuts) => {
      const originals = items.map((i) => plain({ ...i.frame, message: i.frame.message }));
      const stream = Buffer.concat(items.map((i) => mutate(encodeSerialFrame(i.frame.kind, i.frame.channel, i.frame.message), i.mutations)));
      const { frames } = decodeAll(chunked(stream, cuts), 1024);
      // Every frame received is one of the originals, in their order (a subsequence).
      let next = 0;
      const receivedIndexes: number[] = [];
      for (const f of frames.map(plain)) {
        while (next < originals.length && JSON.stringify(originals[next]) !== JSON.stringify(f)) next++;
        assert.ok(next < originals.length, `a frame that was never sent came out: ${JSON.stringify(f)}`);
        receivedIndexes.push(next++);
      }
      // Frames whose bytes (delimiters included) were left alone all arrive.
      items.forEach((item, i) => {
        if (item.mutations.length === 0) assert.ok(receivedIndexes.includes(i), `untouched frame ${i} was lost`);
      });
    },
  ), { numRuns: 300 });
});

// ---- Names ----

test('port specs and serial endpoints', () => {
  assert.deepEqual(parsePortSpec('/dev/ttyUSB0'), { path: '/dev/ttyUSB0', baudRate: 115200 });
  assert.deepEqual(parsePortSpec('/dev/ttyAMA0@9600'), { path: '/dev/ttyAMA0', baudRate: 9600 });
  assert.deepEqual(parsePortSpec('/tmp/odd@name'), { path: '/tmp/odd@name', baudRate: 115200 });
  assert.deepEqual(parseSerialEndpoint('serial:/dev/serial0@115200'), { path: '/dev/serial0', baudRate: 115200 });
  assert.throws(() => parsePortSpec('/dev/ttyS0@'), /without a baud rate/);
  assert.throws(() => parsePortSpec('/dev/ttyS0@0'), /outside/);
  assert.throws(() => parsePortSpec('@9600'), /no device path/);
  assert.throws(() => parseSerialEndpoint('mqtt://x'), /not a serial endpoint/);
  assert.equal(serialReplyRoute('ch1'), 'serial/ch1');
  assert.equal(parseSerialReplyRoute('serial/ch1'), 'ch1');
  assert.equal(parseSerialReplyRoute('serial/ch1/x'), undefined);
  assert.equal(parseSerialReplyRoute('edgepeer/v1/ch1/reply/b'), undefined);
});
