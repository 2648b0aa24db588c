// Properties over the decoders that take untrusted bytes, for `npm run fuzz` (many runs, a seed of its
// own) and test/unit/fuzzShort.test.ts (a few hundred runs each, inside `npm test`): both run these same
// definitions. Each property throws (an assertion) on a violation; fast-check shrinks it to a small
// counterexample.
//
// Untrusted bytes reach: gossip envelopes (openGossip) and the gossip TCP frame decoder from any board on
// the LAN, the serial frame decoder from a serial line, the CBOR Deliver/Broadcast request decoders at the
// orderer (any MQTT client), the Deliver/Broadcast response decoders and the block layout parser at a
// board (a broker or a neighbour in the middle), the Fabric block reader at a gateway or a board of a
// Fabric channel, the MQTT fixed-header reader of the embedded broker's size guard and the board's packet
// assembler (any TCP client), and the channel configuration and certificate decoders inside blocks and
// envelopes.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CertificateError } from '../../src/protocol/certificate.js';
import { FRAME_HEADER_BYTES, GossipFrameDecoder, encodeFrame } from '../../src/gossip/frameCodec.js';
import { MAC_BYTES } from '../../src/protocol/messageAuth.js';
import {
  BlocksKind, type GossipBody, GossipType, decodeGossip, openGossip, signGossip,
} from '../../src/gossip/messages.js';
import {
  BlockLayout, HEADER_BYTES, LayoutError, SIGNATURE_BYTES, blockEnvelopes, blockNumber, dataBytes, encodeBlock, encodeHeader,
  headerBytes, locateBlock, readHeader, signatureEntries,
} from '../../src/protocol/block.js';
import { WireError, encodeCbor } from '../../src/protocol/cbor.js';
import { MessageType, decodeEnvelope, signEnvelope } from '../../src/protocol/envelope.js';
import {
  FrameKind, decodeBroadcastResponse, decodeDeliverRequestFrame, decodeDeliverResponse, decodeSubmitFrame, encodeAckFrame,
  encodeBroadcastResponse, encodeCancelFrame, encodeDeliverBlocks, encodeDeliverStatus, encodeSeekFrame, encodeSubmitFrame,
} from '../../src/protocol/frames.js';
import { type SeekInfo, SeekType, seekInfoFromWire, seekInfoToWire } from '../../src/protocol/seek.js';
import { Status } from '../../src/protocol/status.js';
import {
  SerialFrameKind, type SerialFrame, type SerialFrameKindCode, encodeSerialFrame, maxWireBytes,
} from '../../src/transport/serial/frame.js';
import { type SerialFrameDecoderCounters, SerialFrameDecoder } from '../../src/transport/serial/frameDecoder.js';
import { type TestChannel, makeTestChannel } from './testChannel.js';
import { FabricBlockReader } from '../../src/fabric/fabricFormat.js';
import { FIXED_HEADER_MAX_BYTES, FixedHeaderReader, HEADER_INCOMPLETE, HEADER_MALFORMED } from '../../src/transport/mqtt/fixedHeader.js';
import { channelConfigFromWire } from '../../src/protocol/channelConfig.js';
import { certificateFromWire } from '../../src/protocol/certificate.js';
import { clusterBlock3, clusterMychannelBlock, sampleProdBlocks } from './fabric/realData.js';

export interface FuzzProperty {
  name: string;
  /** Built on first use: some need keys and a channel, made once per process. */
  make: () => fc.IRawProperty<unknown>;
}

/** Gossip messages are opened with this window around the time they were signed. */
const GOSSIP_WINDOW_MS = 60_000;
/** Largest gossip frame for the TCP decoder properties: small, so that oversize lengths are common. */
const GOSSIP_MAX_FRAME_BYTES = 256;
/** Largest serial message for the serial decoder properties. */
const SERIAL_MAX_MESSAGE_BYTES = 1024;
/** Random byte strings up to this long (a few frames' worth, so that parsers go deep). */
const MAX_RANDOM_BYTES = 3_000;
/** Chunk boundaries per stream. */
const MAX_CUTS = 30;

let channel: TestChannel | null = null;
const testChannel = (): TestChannel => (channel ??= makeTestChannel({ txDataBytes: 32 }));

// ---- Arbitraries ----

/** Map keys the decoders look for, so that random CBOR often has the right shape one level down. */
const PROTOCOL_KEYS = [
  'kind', 'envelope', 'session', 'seq', 'payload', 'signature', 'type', 'channel', 'txId', 'timestamp', 'creator', 'nonce',
  'data', 'replyTo', 'body', 'sender', 'blocks', 'status', 'info', 'start', 'stop', 'behavior', 'window', 'number', 'id',
  'org', 'role', 'publicKey', 'notBefore', 'notAfter', 'height', 'incarnation', 'endpoint', 'leader', 'last', 'end', 'cancel',
  // Keys that mean something to JavaScript objects, which cbor-x decodes maps into.
  '__proto__', 'constructor', 'toString', 'length',
] as const;

const cborLeaf = fc.oneof(
  fc.nat(), fc.constantFrom(0, 1, 2, 3, 4, 5, 200, 0xffffffff, Number.MAX_SAFE_INTEGER),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.integer({ min: -1_000_000, max: -1 }), fc.double(),
  fc.string({ maxLength: 24 }), fc.uint8Array({ maxLength: 96 }), fc.boolean(), fc.constant(null),
);

/** Random CBOR values (maps, arrays, integers of every size, strings, bytes). */
export const cborValueArb: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    cborLeaf,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...PROTOCOL_KEYS), fc.string({ maxLength: 8 })), tie('value'), { maxKeys: 6, noNullPrototype: true }),
  ),
})).value;

/** Random bytes, short ones (fast-check's default size) and long ones. */
const randomBytesArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: MAX_RANDOM_BYTES }), fc.uint8Array({ maxLength: MAX_RANDOM_BYTES, size: 'max' }),
);

/** Bytes that are CBOR (a random value encoded) or not at all. */
const untrustedBytesArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  randomBytesArb,
  cborValueArb.map((v) => encodeCbor(v)),
);

/**
 * Damage to a byte string: bit flips, overwritten, deleted and inserted bytes, truncation, trailing
 * bytes, and CBOR heads put in (tags, indefinite-length starts, breaks, non-minimal integer heads) that
 * random bytes would seldom hit.
 */
export type ByteMutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'delete'; at: number; count: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'truncate'; at: number }
  | { op: 'append'; bytes: Uint8Array };

const cborHeadArb = fc.constantFrom(
  Uint8Array.of(0xd8, 0x40), Uint8Array.of(0xc0), Uint8Array.of(0xc2), Uint8Array.of(0xd9, 0xff, 0xff), Uint8Array.of(0xbf),
  Uint8Array.of(0x9f), Uint8Array.of(0xff), Uint8Array.of(0x5f), Uint8Array.of(0x7f), Uint8Array.of(0x18), Uint8Array.of(0x1b),
  Uint8Array.of(0xf6), Uint8Array.of(0xf7), Uint8Array.of(0xfb),
);

export const byteMutationArb: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 8 }), cborHeadArb) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('append' as const), bytes: fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 8 }), cborHeadArb) }),
);

export function mutate(bytes: Uint8Array, mutations: readonly ByteMutation[]): Buffer {
  let b = Buffer.from(bytes);
  for (const m of mutations) {
    if (m.op === 'append') {
      b = Buffer.concat([b, m.bytes]);
      continue;
    }
    if (b.length === 0) continue;
    const at = m.at % b.length;
    if (m.op === 'flip') b[at] = b[at]! ^ (1 << m.bit);
    else if (m.op === 'set') b[at] = m.value;
    else if (m.op === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.count)]);
    else if (m.op === 'insert') b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
    else b = b.subarray(0, at);
  }
  return b;
}

/** `bytes` cut at `cuts` (taken modulo its length + 1) into consecutive chunks. */
export function chunked(bytes: Uint8Array, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    if (p > prev) out.push(Buffer.from(bytes.subarray(prev, p)));
    prev = p;
  }
  return out;
}

const cutsArb = fc.array(fc.nat(), { maxLength: MAX_CUTS });

/** Runs `fn`; a throw is allowed only as the decoders' own refusal (WireError, CertificateError). */
function refusesOnlyWithWireError(what: string, fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (err instanceof WireError || err instanceof CertificateError) return;
    throw new Error(`${what} threw ${(err as Error)?.name ?? typeof err} instead of refusing: ${(err as Error)?.stack ?? String(err)}`);
  }
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/**
 * Byte equality that builds its hex message only on failure: the properties run 10^6 times, and hex
 * strings of 64 KiB blocks (or messages formatted eagerly on every run) were most of their cost.
 */
function sameBytes(actual: Uint8Array, expected: Uint8Array, message: () => string = () => ''): void {
  if (Buffer.compare(actual, expected) !== 0) assert.equal(hex(actual), hex(expected), message());
}

/** Byte strings as hex, so that values compare whatever Uint8Array subclass a decoder returned. */
function plainValue(v: unknown): unknown {
  if (v instanceof Uint8Array) return hex(v);
  if (Array.isArray(v)) return v.map(plainValue);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainValue(x)]));
  return v;
}

// ---- Gossip envelopes ----

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const uintArb = fc.oneof(fc.nat(), u32, fc.constant(Number.MAX_SAFE_INTEGER));

/** Every gossip message type, with bodies a board of the test channel may sign. */
function gossipBodyArb(): fc.Arbitrary<GossipBody> {
  const c = testChannel().boardSigner.certificate;
  return fc.oneof(
    fc.record({
      type: fc.constant(GossipType.ALIVE),
      alive: fc.record({
        id: fc.constant(c.id), org: fc.constant(c.org), height: uintArb, incarnation: uintArb, seq: uintArb,
        endpoint: fc.string({ maxLength: 64 }), leader: fc.boolean(),
      }),
    }),
    fc.record({ type: fc.constant(GossipType.BLOCKS), blocks: fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 4 }), kind: fc.constantFrom(BlocksKind.PUSH, BlocksKind.PULL) }),
    fc.record({
      type: fc.constant(GossipType.BLOCKS), blocks: fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 4 }), kind: fc.constant(BlocksKind.RANGE),
      range: fc.record({ session: uintArb, seq: fc.integer({ min: 1, max: 0xffffffff }), last: fc.boolean() }),
    }),
    fc.record({ type: fc.constant(GossipType.DIGEST), height: uintArb }),
    fc.tuple(uintArb, fc.nat({ max: 1_000_000 }), fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 1024 }))
      .map(([session, start, span, window]) => ({ type: GossipType.RANGE_REQUEST, request: { session, start, end: start + span, window } }) as GossipBody),
    fc.record({ type: fc.constant(GossipType.RANGE_ACK), ack: fc.record({ session: uintArb, seq: uintArb, cancel: fc.boolean() }) }),
  ) as fc.Arbitrary<GossipBody>;
}

const openGossipNeverThrowsOrOpensJunk: FuzzProperty = {
  name: 'openGossip: random bytes and random CBOR never throw and never open',
  make: () => {
    const tc = testChannel();
    const now = Date.now();
    return fc.property(untrustedBytesArb, (bytes) => {
      const r = openGossip(bytes, tc.state, now, GOSSIP_WINDOW_MS);
      if (r.ok) assert.fail(`junk opened: ${hex(bytes)}`);
    });
  },
};

const openGossipRejectsMutations: FuzzProperty = {
  name: 'openGossip: a signed message opens as signed; every mutation is refused unless it keeps the signed bytes',
  make: () => {
    const tc = testChannel();
    const now = Date.now();
    // Where the mutations go: the envelope's bytes (mostly refused as malformed CBOR), or inside the
    // signed payload or the signature with the envelope re-encoded around them (refused by the signature check).
    const whereArb = fc.constantFrom('envelope', 'payload', 'signature');
    return fc.property(gossipBodyArb(), whereArb, fc.array(byteMutationArb, { minLength: 1, maxLength: 4 }), (body, where, mutations) => {
      const bytes = signGossip(tc.config.channel, body, tc.boardSigner, now);
      const good = openGossip(bytes, tc.state, now, GOSSIP_WINDOW_MS);
      assert.ok(good.ok, `a signed message did not open: ${good.ok ? '' : good.reason}`);
      assert.deepEqual(plainValue(good.message.body), plainValue(body));
      const signed = decodeGossip(bytes);
      const bad = where === 'envelope' ? mutate(bytes, mutations)
        : where === 'payload' ? encodeCbor({ payload: mutate(signed.payload, mutations), signature: signed.signature })
          : encodeCbor({ payload: signed.payload, signature: mutate(signed.signature, mutations) });
      if (Buffer.compare(bad, Buffer.from(bytes)) === 0) return;
      const r = openGossip(bad, tc.state, now, GOSSIP_WINDOW_MS);
      if (!r.ok) return;
      // Accepted: only a re-encoding of the envelope map around the same signed payload and signature
      // may be (docs/protocol.md §2: "the maps around them may be re-encoded freely").
      const a = signed;
      const b = decodeGossip(bad);
      sameBytes(b.payload, a.payload, () => `a mutation changed the signed payload and opened: ${hex(bad)}`);
      sameBytes(b.signature, a.signature, () => `a mutation changed the signature and opened: ${hex(bad)}`);
    });
  },
};

// ---- Gossip TCP frames ----

/** A frame header with a length above the limit, where in the stream it comes, and bytes after it. */
const oversizeArb: fc.Arbitrary<{ at: number; length: number; tail: Uint8Array }> = fc.record({
  at: fc.nat(), length: fc.integer({ min: GOSSIP_MAX_FRAME_BYTES + 1, max: 0xffffffff }), tail: fc.uint8Array({ maxLength: 64 }),
});

const gossipFramesAnyChunking: FuzzProperty = {
  name: 'GossipFrameDecoder: frames come out whole and in order under any chunking; an oversize length throws once its header is in',
  make: () => fc.property(
    fc.array(fc.uint8Array({ maxLength: GOSSIP_MAX_FRAME_BYTES }), { maxLength: 12 }),
    fc.option(oversizeArb, { nil: null }),
    cutsArb,
    (messages, oversize, cuts) => {
      const frames = messages.map((m) => encodeFrame(m));
      let goodCount = messages.length;
      let oversizeEnd = -1;
      if (oversize !== null) {
        goodCount = oversize.at % (messages.length + 1);
        const head = Buffer.alloc(FRAME_HEADER_BYTES);
        head.writeUInt32BE(oversize.length, 0);
        oversizeEnd = frames.slice(0, goodCount).reduce((n, f) => n + f.length, 0) + FRAME_HEADER_BYTES;
        frames.splice(goodCount, 0, Buffer.concat([head, oversize.tail]));
      }
      const stream = Buffer.concat(frames);
      const d = new GossipFrameDecoder(GOSSIP_MAX_FRAME_BYTES);
      const out: Buffer[] = [];
      let pushed = 0;
      let lastChunk = 0;
      let threw: Error | null = null;
      for (const c of chunked(stream, cuts)) {
        pushed += c.length;
        lastChunk = c.length;
        try {
          out.push(...d.push(c));
        } catch (err) {
          threw = err as Error;
          break;
        }
      }
      const got = out.map(hex);
      if (oversize === null) {
        assert.equal(threw, null);
        assert.deepEqual(got, messages.map(hex));
        return;
      }
      assert.ok(threw !== null, 'an oversize length was buffered instead of refused');
      assert.match(threw.message, /exceeds the limit/);
      // Refused in the chunk that completed its header, not after buffering (part of) its body.
      assert.ok(pushed >= oversizeEnd && pushed - lastChunk < oversizeEnd, `refused after ${pushed} bytes, the oversize header ended at ${oversizeEnd}`);
      // What came out before is a prefix of the frames before it (the frames decoded in the throwing
      // push are lost with the connection that is dropped for it).
      assert.deepEqual(got, messages.slice(0, got.length).map(hex));
      assert.ok(got.length <= goodCount);
    },
  ),
};

const gossipFramesRandomBytes: FuzzProperty = {
  name: 'GossipFrameDecoder: random bytes give frames within the limit or the oversize error, nothing else',
  make: () => fc.property(randomBytesArb, cutsArb, (bytes, cuts) => {
    const d = new GossipFrameDecoder(GOSSIP_MAX_FRAME_BYTES);
    for (const c of chunked(bytes, cuts)) {
      let frames: Buffer[];
      try {
        frames = d.push(c);
      } catch (err) {
        assert.match((err as Error).message, /exceeds the limit/);
        return;
      }
      for (const f of frames) assert.ok(f.length <= GOSSIP_MAX_FRAME_BYTES);
    }
  }),
};

// ---- Serial frames ----

function decodeSerial(
  chunks: readonly Uint8Array[], maxMessage = SERIAL_MAX_MESSAGE_BYTES,
): { frames: SerialFrame[]; maxPending: number; counters: SerialFrameDecoderCounters } {
  const frames: SerialFrame[] = [];
  const d = new SerialFrameDecoder(maxMessage, (f) => frames.push(f));
  let maxPending = 0;
  for (const c of chunks) {
    d.push(c);
    maxPending = Math.max(maxPending, d.pendingBytes);
  }
  return { frames, maxPending, counters: d.counters };
}

/** Frame candidates in a stream: the non-empty runs of bytes that a 0x00 delimiter ends. */
function delimitedRuns(bytes: Uint8Array): number {
  let runs = 0;
  let inRun = false;
  for (const b of bytes) {
    if (b !== 0) inRun = true;
    else if (inRun) {
      runs++;
      inRun = false;
    }
  }
  return runs;
}

const serialKindArb = fc.constantFrom<SerialFrameKindCode>(SerialFrameKind.DELIVER, SerialFrameKind.BROADCAST, SerialFrameKind.REPLY);
const serialChannelArb = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,12}$/);
const serialFrameArb = fc.record({ kind: serialKindArb, channel: serialChannelArb, message: fc.uint8Array({ minLength: 1, maxLength: 600 }) });
const plainSerial = (f: SerialFrame): string => `${f.kind}/${f.channel}/${hex(f.message)}`;

// Random bytes: a run between delimiters is a frame only with the right version, a valid header and a
// CRC-32 over it that matches (about 2^-32 for random bytes, besides the header), so none comes out, and
// the decoder counts every candidate as dropped for some reason. A decoder that skipped the CRC check
// would let frames through here (and mutated frames in serialMutatedStream).
const serialRandomBytes: FuzzProperty = {
  name: 'SerialFrameDecoder: random bytes never throw, hold at most one largest frame, let no frame through and count every candidate as dropped',
  make: () => fc.property(randomBytesArb, cutsArb, (bytes, cuts) => {
    const { frames, maxPending, counters } = decodeSerial(chunked(bytes, cuts));
    assert.ok(maxPending <= maxWireBytes(SERIAL_MAX_MESSAGE_BYTES));
    assert.deepEqual(frames.map(plainSerial), [], 'a random run passed as a frame (version, header and CRC-32 all good)');
    assert.equal(counters.frames, 0);
    const dropped = Object.values(counters.dropped).reduce((a, b) => a + b, 0);
    assert.equal(dropped, delimitedRuns(bytes), `every delimited run is counted as dropped: ${JSON.stringify(counters.dropped)}`);
  }),
};

const serialMutatedStream: FuzzProperty = {
  name: 'SerialFrameDecoder: on a mutated stream every frame out is an original, in order, and every untouched frame arrives',
  make: () => fc.property(
    fc.array(fc.record({ frame: serialFrameArb, mutations: fc.array(byteMutationArb, { maxLength: 3 }) }), { minLength: 1, maxLength: 10 }),
    cutsArb,
    (items, cuts) => {
      const originals = items.map((i) => plainSerial(i.frame));
      const stream = Buffer.concat(items.map((i) => mutate(encodeSerialFrame(i.frame.kind, i.frame.channel, i.frame.message), i.mutations)));
      const { frames } = decodeSerial(chunked(stream, cuts));
      let next = 0;
      const received: number[] = [];
      for (const f of frames.map(plainSerial)) {
        while (next < originals.length && originals[next] !== f) next++;
        assert.ok(next < originals.length, `a frame that was never sent came out: ${f}`);
        received.push(next++);
      }
      items.forEach((item, i) => {
        if (item.mutations.length === 0) assert.ok(received.includes(i), `untouched frame ${i} was lost`);
      });
    },
  ),
};

// ---- Deliver and Broadcast requests and responses ----

const requestDecodersRefuseCleanly: FuzzProperty = {
  name: 'Deliver/Broadcast request and response decoders, seekInfo and envelopes: random input is refused with a WireError, never another throw',
  make: () => fc.property(untrustedBytesArb, cborValueArb, (bytes, value) => {
    refusesOnlyWithWireError('decodeDeliverRequestFrame', () => decodeDeliverRequestFrame(bytes));
    refusesOnlyWithWireError('decodeSubmitFrame', () => decodeSubmitFrame(bytes));
    refusesOnlyWithWireError('decodeDeliverResponse', () => decodeDeliverResponse(bytes));
    refusesOnlyWithWireError('decodeBroadcastResponse', () => decodeBroadcastResponse(bytes));
    refusesOnlyWithWireError('decodeEnvelope', () => decodeEnvelope(bytes));
    refusesOnlyWithWireError('seekInfoFromWire', () => seekInfoFromWire(value));
  }),
};

const seekPositionArb = fc.oneof(
  fc.constant({ type: SeekType.NEWEST }), fc.constant({ type: SeekType.OLDEST }), fc.constant({ type: SeekType.NEXT_COMMIT }),
  uintArb.map((number) => ({ type: SeekType.SPECIFIED, number })),
);
const seekInfoArb: fc.Arbitrary<SeekInfo> = fc.record(
  { start: seekPositionArb, stop: seekPositionArb, behavior: fc.constantFrom(0, 1), window: fc.integer({ min: 1, max: 1024 }) },
  { requiredKeys: ['start', 'stop', 'behavior'] },
) as fc.Arbitrary<SeekInfo>;
const sessionArb = fc.string({ minLength: 1, maxLength: 128 });

const requestsRoundTripAndMutate: FuzzProperty = {
  name: 'Deliver/Broadcast frames: SEEK, ACK, CANCEL, SUBMIT and the responses round-trip; their mutations are refused with a WireError or decode',
  make: () => {
    const tc = testChannel();
    return fc.property(
      seekInfoArb, sessionArb, uintArb, fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 4 }), fc.array(byteMutationArb, { minLength: 1, maxLength: 3 }),
      (seek, session, seq, blocks, mutations) => {
        const env = signEnvelope({ type: MessageType.DELIVER_SEEK, channel: tc.config.channel, data: seekInfoToWire(seek), session, replyTo: 'r' }, tc.boardSigner);
        const seekFrame = encodeSeekFrame(env.bytes);
        const d = decodeDeliverRequestFrame(seekFrame);
        assert.ok(d.kind === FrameKind.SEEK);
        sameBytes(d.envelope.payloadBytes, decodeEnvelope(env.bytes).payloadBytes);
        assert.deepEqual(plainValue(seekInfoFromWire(d.envelope.payload.data)), plainValue(seek));
        const mac = new Uint8Array(MAC_BYTES).fill(7);
        assert.deepEqual(plainValue(decodeDeliverRequestFrame(encodeAckFrame(session, seq, 1, mac))), plainValue({ kind: FrameKind.ACK, session, seq, n: 1, mac }));
        assert.deepEqual(plainValue(decodeDeliverRequestFrame(encodeCancelFrame(session, mac))), plainValue({ kind: FrameKind.CANCEL, session, mac }));
        const tx = signEnvelope({ type: MessageType.TRANSACTION, channel: tc.config.channel, data: { seq } }, tc.clientSigner);
        const submit = encodeSubmitFrame(tx.bytes);
        assert.equal(decodeSubmitFrame(submit).envelope.payload.txId, tx.txId);
        const blocksResponse = decodeDeliverResponse(encodeDeliverBlocks(session, seq, blocks));
        assert.ok('blocks' in blocksResponse);
        assert.deepEqual(blocksResponse.blocks.map(hex), blocks.map(hex));
        assert.deepEqual(decodeDeliverResponse(encodeDeliverStatus(session, seq, Status.NOT_FOUND)), { session, seq, status: Status.NOT_FOUND });
        assert.deepEqual(decodeBroadcastResponse(encodeBroadcastResponse({ session, txId: tx.txId, status: Status.SUCCESS })),
          { session, txId: tx.txId, status: Status.SUCCESS });
        for (const bytes of [seekFrame, submit, encodeAckFrame(session, seq, 1, mac), encodeDeliverBlocks(session, seq, blocks, mac)]) {
          const bad = mutate(bytes, mutations);
          refusesOnlyWithWireError('decodeDeliverRequestFrame', () => decodeDeliverRequestFrame(bad));
          refusesOnlyWithWireError('decodeSubmitFrame', () => decodeSubmitFrame(bad));
          refusesOnlyWithWireError('decodeDeliverResponse', () => decodeDeliverResponse(bad));
        }
      },
    );
  },
};

// ---- Block layout ----

/** When the layout is sound: its parts are inside the bytes and re-encode to exactly them (one block, one encoding). */
function checkLocated(block: Uint8Array): void {
  const layout = new BlockLayout();
  const code = locateBlock(block, layout);
  assert.ok((Object.values(LayoutError) as number[]).includes(code), `unknown layout code ${code}`);
  refusesOnlyWithWireError('readHeader', () => readHeader(block));
  refusesOnlyWithWireError('blockEnvelopes', () => blockEnvelopes(block));
  if (code !== LayoutError.ok) return;
  assert.ok(layout.dataOffset + layout.dataLength <= layout.signaturesOffset);
  assert.equal(layout.signaturesOffset + layout.signatureCount * (2 + SIGNATURE_BYTES), block.length);
  assert.ok(Number.isSafeInteger(blockNumber(block)));
  const again = encodeBlock(headerBytes(block), dataBytes(block, layout), signatureEntries(block, layout));
  sameBytes(again, block, () => 'a block located as sound has another encoding than its parts give');
}

const blockArb = fc.record({
  number: fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER)),
  previousHash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  dataHash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  flags: u32,
  // Data sizes across every CBOR length head: 1, 2, 3 and 5 bytes.
  data: fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0xff00, max: 0x10100 }).map((n) => new Uint8Array(n).fill(0x5a))),
  signatures: fc.array(fc.record({ signerIndex: fc.integer({ min: 0, max: 0xffff }), signature: fc.uint8Array({ minLength: 64, maxLength: 64 }) }), { maxLength: 5 }),
});

const blockLayoutRandomBytes: FuzzProperty = {
  name: 'block layout: random bytes never throw; a sound layout is in bounds and the only encoding of its parts',
  make: () => fc.property(randomBytesArb, fc.uint8Array({ maxLength: 600 }), (bytes, tail) => {
    checkLocated(bytes);
    // Random bytes after a plausible block start (array of 3, a 76-byte header), so the data and
    // signature heads get parsed too.
    checkLocated(Buffer.concat([Uint8Array.of(0x83, 0x58, HEADER_BYTES), new Uint8Array(HEADER_BYTES), tail]));
  }),
};

const blockLayoutRoundTripAndMutate: FuzzProperty = {
  name: 'block layout: encoded blocks locate with their parts; mutated blocks never throw and stay in bounds',
  make: () => fc.property(blockArb, fc.array(byteMutationArb, { minLength: 1, maxLength: 3 }), (b, mutations) => {
    const header = encodeHeader({ number: b.number, previousHash: b.previousHash, dataHash: b.dataHash, flags: b.flags });
    const block = encodeBlock(header, b.data, b.signatures);
    const layout = new BlockLayout();
    assert.equal(locateBlock(block, layout), LayoutError.ok);
    assert.equal(blockNumber(block), b.number);
    sameBytes(dataBytes(block, layout), b.data);
    assert.deepEqual(signatureEntries(block, layout).map((s) => [s.signerIndex, hex(s.signature)]), b.signatures.map((s) => [s.signerIndex, hex(s.signature)]));
    checkLocated(block);
    checkLocated(mutate(block, mutations));
  }),
};

// ---- Fabric blocks, the MQTT fixed header, configurations and certificates ----

let fabricBlocks: Uint8Array[] | null = null;
/** The real Fabric blocks of test/fixtures/fabric: what mutations start from. */
const realFabricBlocks = (): Uint8Array[] => (fabricBlocks ??= [...sampleProdBlocks(), clusterMychannelBlock(), clusterBlock3()]);

/** Every range the reader located lies inside the block, in order. */
function checkFabricLayout(reader: FabricBlockReader, block: Uint8Array): void {
  const l = reader.layout;
  const inside = (start: number, end: number, what: string): void => {
    if (start === -1 && end === -1) return;
    if (!(start >= 0 && start <= end && end <= block.length)) throw new Error(`${what} [${start}, ${end}) outside the ${block.length}-byte block`);
  };
  inside(l.headerStart, l.headerEnd, 'header');
  inside(l.previousHashStart, l.previousHashEnd, 'previous hash');
  inside(l.dataHashStart, l.dataHashEnd, 'data hash');
  inside(l.dataStart, l.dataEnd, 'data');
  inside(l.metadataStart, l.metadataEnd, 'metadata');
  inside(l.signaturesStart, l.signaturesEnd, 'signatures');
  inside(l.lastConfigStart, l.lastConfigEnd, 'last config');
  inside(l.firstDataStart, l.firstDataEnd, 'first data entry');
}

/** Locates `block`; when it locates, its checks run to an answer: none throws whatever the bytes. */
function readFabricBlock(reader: FabricBlockReader, block: Uint8Array): void {
  if (!reader.locate(block)) {
    if (reader.locateError === '') throw new Error('not located, with no reason');
    return;
  }
  checkFabricLayout(reader, block);
  reader.number(block);
  reader.previousHashEquals(block, new Uint8Array(32), 0);
  reader.dataHashValid(block);
  reader.hashInto(block, new Uint8Array(32), 0);
  reader.isConfig(block);
}

const fabricBlocksNeverThrow: FuzzProperty = {
  name: 'Fabric block reader: random bytes and mutated real blocks never throw; what it locates is inside the block, and its checks answer',
  make: () => {
    const reader = new FabricBlockReader();
    for (const b of realFabricBlocks()) {
      assert.ok(reader.locate(b), `a real block locates: ${reader.locateError}`);
      assert.ok(reader.dataHashValid(b), 'a real block\'s data hash holds');
    }
    return fc.property(untrustedBytesArb, fc.nat(), fc.array(byteMutationArb, { minLength: 1, maxLength: 6 }), (bytes, pick, mutations) => {
      readFabricBlock(reader, bytes);
      const real = realFabricBlocks();
      readFabricBlock(reader, mutate(real[pick % real.length]!, mutations));
    });
  },
};

const fixedHeaderAnyBytes: FuzzProperty = {
  name: 'MQTT fixed header: byte by byte, each header gives the size it encodes, or malformed, within five bytes',
  make: () => fc.property(untrustedBytesArb, (bytes) => {
    // Fed as back-to-back headers (the assembler skips the bodies between them).
    const r = new FixedHeaderReader();
    let header: number[] = [];
    for (const byte of bytes) {
      header.push(byte);
      const v = r.push(byte);
      if (v === HEADER_MALFORMED) {
        if (header.length !== FIXED_HEADER_MAX_BYTES) throw new Error(`malformed after ${header.length} header bytes`);
        return;
      }
      if (v === HEADER_INCOMPLETE) {
        if (header.length >= FIXED_HEADER_MAX_BYTES) throw new Error(`still incomplete after ${header.length} header bytes`);
        continue;
      }
      let remaining = 0;
      for (let i = 1, scale = 1; i < header.length; i++, scale *= 128) remaining += (header[i]! & 0x7f) * scale;
      if (v !== header.length + remaining) throw new Error(`size ${v} for header ${Buffer.from(header).toString('hex')} (encodes ${header.length + remaining})`);
      header = [];
    }
  }),
};

const configAndCertificateDecoders: FuzzProperty = {
  name: 'channel configuration and certificate decoders: random CBOR values are refused with a WireError, never another throw',
  make: () => fc.property(cborValueArb, (value) => {
    refusesOnlyWithWireError('channelConfigFromWire', () => channelConfigFromWire(value));
    refusesOnlyWithWireError('certificateFromWire', () => certificateFromWire(value));
  }),
};

export const fuzzProperties: readonly FuzzProperty[] = [
  fabricBlocksNeverThrow,
  fixedHeaderAnyBytes,
  configAndCertificateDecoders,
  openGossipNeverThrowsOrOpensJunk,
  openGossipRejectsMutations,
  gossipFramesAnyChunking,
  gossipFramesRandomBytes,
  serialRandomBytes,
  serialMutatedStream,
  requestDecodersRefuseCleanly,
  requestsRoundTripAndMutate,
  blockLayoutRandomBytes,
  blockLayoutRoundTripAndMutate,
];
