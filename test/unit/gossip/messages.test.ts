import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateKeyPair } from '../../../src/crypto/keys.js';
import { GossipFrameDecoder, encodeFrame } from '../../../src/gossip/frameCodec.js';
import { BlocksKind, GossipType, openGossip, signGossip } from '../../../src/gossip/messages.js';
import { makeTestChannel } from '../../helpers/testChannel.js';

const WINDOW_MS = 60_000;

test('a signed ALIVE and BLOCKS open with their fields; the sender is named', () => {
  const tc = makeTestChannel();
  const now = Date.now();
  const c = tc.boardSigner.certificate;
  const alive = { id: c.id, org: c.org, height: 7, incarnation: now, seq: 3, endpoint: '127.0.0.1:7100', leader: false };
  const r = openGossip(signGossip(tc.config.channel, { type: GossipType.ALIVE, alive }, tc.boardSigner, now), tc.state, now, WINDOW_MS);
  assert.ok(r.ok);
  assert.deepEqual(r.message.body, { type: GossipType.ALIVE, alive });
  const blocks = tc.chain(2);
  const b = openGossip(signGossip(tc.config.channel, { type: GossipType.BLOCKS, blocks }, tc.boardSigner, now), tc.state, now, WINDOW_MS);
  assert.ok(b.ok && b.message.body.type === GossipType.BLOCKS);
  assert.deepEqual(b.message.body.blocks.map((x) => Buffer.from(x)), blocks.map((x) => Buffer.from(x)));
});

test('wrong key, another channel, a stale timestamp, an ALIVE for someone else and junk are refused', () => {
  const tc = makeTestChannel();
  const now = Date.now();
  const c = tc.boardSigner.certificate;
  const alive = { id: c.id, org: c.org, height: 1, incarnation: 1, seq: 1, endpoint: 'h:1', leader: true };
  const reason = (bytes: Uint8Array): string => {
    const r = openGossip(bytes, tc.state, now, WINDOW_MS);
    assert.ok(!r.ok);
    return `${r.sender}: ${r.reason}`;
  };
  const wrongKey = { certificate: c, privateKey: generateKeyPair().privateKey };
  assert.match(reason(signGossip(tc.config.channel, { type: GossipType.ALIVE, alive }, wrongKey, now)), /org1\/.*bad signature/);
  assert.match(reason(signGossip('other', { type: GossipType.ALIVE, alive }, tc.boardSigner, now)), /for channel 'other'/);
  assert.match(reason(signGossip(tc.config.channel, { type: GossipType.ALIVE, alive }, tc.boardSigner, now - 2 * WINDOW_MS)), /outside the window/);
  assert.match(reason(signGossip(tc.config.channel, { type: GossipType.ALIVE, alive: { ...alive, id: 'someone-else' } }, tc.boardSigner, now)),
    /signed by another member/);
  assert.match(reason(Uint8Array.of(1, 2, 3)), /^unknown: malformed/);
  // A channel name is 64 characters at most, in gossip as everywhere (docs/protocol.md §13).
  assert.match(reason(signGossip('c'.repeat(65), { type: GossipType.ALIVE, alive }, tc.boardSigner, now)), /malformed.*channel/);
});

test('frames split across chunks are reassembled; an oversized frame is refused', () => {
  const d = new GossipFrameDecoder(10);
  const f = Buffer.concat([encodeFrame(Uint8Array.of(1, 2, 3)), encodeFrame(Uint8Array.of(4))]);
  assert.deepEqual(d.push(f.subarray(0, 5)), []);
  assert.deepEqual(d.push(f.subarray(5)).map((x) => [...x]), [[1, 2, 3], [4]]);
  assert.throws(() => new GossipFrameDecoder(2).push(encodeFrame(Uint8Array.of(1, 2, 3))), /exceeds the limit/);
});

test('DIGEST, RANGE_REQUEST, RANGE_ACK and range BLOCKS round-trip; a range request with end ≤ start is malformed', () => {
  const tc = makeTestChannel();
  const now = Date.now();
  const open = (body: Parameters<typeof signGossip>[1]) => openGossip(signGossip(tc.config.channel, body, tc.boardSigner, now), tc.state, now, WINDOW_MS);
  const digest = open({ type: GossipType.DIGEST, height: 42 });
  assert.ok(digest.ok);
  assert.deepEqual(digest.message.body, { type: GossipType.DIGEST, height: 42 });
  const request = { session: 7, start: 10, end: 5_000, window: 8 };
  const req = open({ type: GossipType.RANGE_REQUEST, request });
  assert.ok(req.ok);
  assert.deepEqual(req.message.body, { type: GossipType.RANGE_REQUEST, request });
  const ack = open({ type: GossipType.RANGE_ACK, ack: { session: 7, seq: 3, cancel: false } });
  assert.ok(ack.ok);
  assert.deepEqual(ack.message.body, { type: GossipType.RANGE_ACK, ack: { session: 7, seq: 3, cancel: false } });
  const blocks = tc.chain(2);
  const range = open({ type: GossipType.BLOCKS, blocks, kind: BlocksKind.RANGE, range: { session: 7, seq: 1, last: true } });
  assert.ok(range.ok && range.message.body.type === GossipType.BLOCKS);
  assert.equal(range.message.body.kind, BlocksKind.RANGE);
  assert.deepEqual(range.message.body.range, { session: 7, seq: 1, last: true });
  const pushed = open({ type: GossipType.BLOCKS, blocks });
  assert.ok(pushed.ok && pushed.message.body.type === GossipType.BLOCKS);
  assert.equal(pushed.message.body.kind, BlocksKind.PUSH, 'no kind on the wire: a push');
  const bad = open({ type: GossipType.RANGE_REQUEST, request: { ...request, end: 10 } });
  assert.ok(!bad.ok);
  assert.match(bad.reason, /malformed: range request: end must be above start/);
});

test('a frame trickling in as small chunks is joined once: the work is linear in its size', () => {
  // Counted, not timed: bytes copied by Buffer.concat while 1 MiB arrives in 1 KiB pieces. Joining on
  // every chunk copies about size²/(2·chunk) = 512 MiB; joining once copies the frame once.
  const frame = encodeFrame(new Uint8Array(1 << 20));
  const d = new GossipFrameDecoder(4 << 20);
  const concat = Buffer.concat;
  let copied = 0;
  Buffer.concat = ((list: readonly Uint8Array[], total?: number) => {
    const out = concat(list, total);
    copied += out.length;
    return out;
  }) as typeof Buffer.concat;
  let frames: Buffer[] = [];
  try {
    for (let i = 0; i < frame.length; i += 1024) frames = frames.concat(d.push(frame.subarray(i, i + 1024)));
  } finally {
    Buffer.concat = concat;
  }
  assert.equal(frames.length, 1);
  assert.equal(frames[0]!.length, 1 << 20);
  // At least once: the frame was joined by Buffer.concat (a join by other means would count nothing and
  // pass the bound trivially), and at most twice its size.
  assert.ok(copied >= frame.length, `${copied} bytes joined by Buffer.concat for a frame of ${frame.length}: the count saw the join`);
  assert.ok(copied <= 2 * frame.length, `${copied} bytes copied for a frame of ${frame.length}`);
});

test('the frames before an oversized length are handed over before the error', () => {
  const d = new GossipFrameDecoder(8);
  const got: Buffer[] = [];
  const stream = Buffer.concat([encodeFrame(Uint8Array.of(1)), encodeFrame(Uint8Array.of(2, 2)), encodeFrame(new Uint8Array(9))]);
  assert.throws(() => d.push(stream, (f) => got.push(f)), /exceeds the limit/);
  assert.deepEqual(got.map((f) => [...f]), [[1], [2, 2]]);
});
