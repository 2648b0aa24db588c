// The board's deliver client (docs/design.md, "The deliver client"; docs/protocol.md §9) against fake links
// driven by the test, a fake sink and a manual clock: the seek it sends and re-sends, Fabric's status
// handling (wrongStatusThreshold, backoff, failover), ACK-based flow control, stall detection, and what it
// does with responses that are not authenticated for its session (nothing: they are dropped and counted).
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { ordererTrust } from '../../../src/channel/responderTrust.js';
import { systemClock } from '../../../src/config/clock.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { ReplyKeys, type SessionKey } from '../../../src/orderer/replyKeys.js';
import { type BlockSink, DeliverClient, type DeliverClientLimits, type DeliverClientState, type DeliverDropReason } from '../../../src/peer/deliverClient.js';
import { Backoff } from '../../../src/config/backoff.js';
import { seededRandom } from '../../../src/config/random.js';
import { MessageType, decodeEnvelope } from '../../../src/protocol/envelope.js';
import {
  type DeliverRequestFrame, FrameKind, decodeDeliverRequestFrame, encodeDeliverBlocks, encodeDeliverStatus,
} from '../../../src/protocol/frames.js';

import { macEquals } from '../../../src/protocol/messageAuth.js';
import { MAX_BLOCK_NUMBER, SeekBehavior, SeekType, type SeekInfo, seekInfoFromWire } from '../../../src/protocol/seek.js';
import { Status, type StatusCode } from '../../../src/protocol/status.js';
import { EVENT_WAIT_LIMIT_MS, FakeClientLink, ManualClock } from '../../helpers/fakes.js';
import { OrdererReplies } from '../../helpers/ordererReplies.js';
import { type TestChannel, makeTestChannel } from '../../helpers/testChannel.js';
import { pollUntil } from '../../helpers/wait.js';

const CHANNEL = 'testchannel';
const LIMITS: DeliverClientLimits = {
  retryBaseDelayMs: 100,
  maxRetryDelayMs: 1_000,
  wrongStatusThreshold: 3,
  keepaliveMs: 1_000,
  streamStallTimeoutMs: 3_000,
  windowMessages: 4,
  connectTimeoutMs: 5_000,
};

const tc: TestChannel = makeTestChannel({ channel: CHANNEL });
/** The orderer the test plays: it learns each session's key share from the client's SEEK. */
const replies = new OrdererReplies(tc.ordererSigner);
const sessionKey = (session: string): SessionKey => replies.key(session);
const blocksFor = (session: string, seq: number, blocks: Uint8Array[]): Uint8Array => replies.blocks(session, seq, blocks);
const statusFor = (session: string, seq: number, status: StatusCode): Uint8Array => replies.status(session, seq, status);

/** A sink that takes up to `room` blocks an offer (all by default), or rejects when `reject` is set. */
class FakeSink implements BlockSink {
  next: number;
  room = Number.POSITIVE_INFINITY;
  reject = false;
  readonly offers: { count: number; from: number }[] = [];
  constructor(next: number) {
    this.next = next;
  }
  nextNumber(): number {
    return this.next;
  }
  offer(blocks: Uint8Array[], from: number): number {
    this.offers.push({ count: blocks.length, from });
    if (this.reject) return -1;
    const n = Math.min(blocks.length - from, this.room);
    this.next += n;
    return n;
  }
}

interface Harness {
  client: DeliverClient;
  links: FakeClientLink[];
  sink: FakeSink;
  clock: ManualClock;
  states: DeliverClientState[];
  statuses: StatusCode[];
  gaveUp: string[];
  dropped: DeliverDropReason[];
}

const running: DeliverClient[] = [];
afterEach(async () => {
  for (const c of running.splice(0)) await c.stop();
});

/** `random` is the backoff's jitter; 0 by default, so every wait is retryBaseDelayMs and the tests below can step over it. */
function harness(o: { endpoints?: number; next?: number; limits?: Partial<DeliverClientLimits>; random?: () => number } = {}): Harness {
  const links = Array.from({ length: o.endpoints ?? 1 }, (_, i) => new FakeClientLink(`orderer${i}`));
  const sink = new FakeSink(o.next ?? 5);
  const clock = new ManualClock();
  const states: DeliverClientState[] = [];
  const statuses: StatusCode[] = [];
  const gaveUp: string[] = [];
  const dropped: DeliverDropReason[] = [];
  const client = new DeliverClient({
    channel: CHANNEL, links, signer: tc.boardSigner, sink, clock, log: silentLogger(), limits: { ...LIMITS, ...o.limits },
    responderTrust: ordererTrust(() => tc.state),
    // The fake sink commits as it takes.
    committedHeight: () => sink.next,
    random: o.random ?? (() => 0),
    events: { state: (s) => states.push(s), status: (s) => statuses.push(s), gaveUp: (r) => gaveUp.push(r), dropped: (r) => dropped.push(r) },
  });
  running.push(client);
  return { client, links, sink, clock, states, statuses, gaveUp, dropped };
}

interface SeekSent {
  session: string;
  seek: SeekInfo;
  replyTo: string;
}

function frames(link: FakeClientLink): DeliverRequestFrame[] {
  return link.sent.filter((s) => s.service === 'deliver').map((s) => decodeDeliverRequestFrame(s.message));
}

function seeks(link: FakeClientLink): SeekSent[] {
  return replies.seeks(link.sent.filter((s) => s.service === 'deliver').map((s) => s.message)).map((f) => {
    const p = f.envelope.payload;
    return { session: p.session!, seek: seekInfoFromWire(p.data), replyTo: p.replyTo! };
  });
}

function acks(link: FakeClientLink, session: string): number[] {
  return frames(link).flatMap((f) => (f.kind === FrameKind.ACK && f.session === session ? [f.seq] : []));
}

function cancels(link: FakeClientLink): string[] {
  return frames(link).flatMap((f) => (f.kind === FrameKind.CANCEL ? [f.session] : []));
}

/** Waits for the `n`th SEEK (1-based) on `link` and returns it. */
async function nthSeek(link: FakeClientLink, n: number): Promise<SeekSent> {
  for (let have = link.sent.length; seeks(link).length < n; have++) await link.waitForSent(have + 1);
  return seeks(link)[n - 1]!;
}

function sendStatus(link: FakeClientLink, session: string, seq: number, status: StatusCode): void {
  link.receive(CHANNEL, statusFor(session, seq, status));
}

function testBlocks(seq: number, count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => Uint8Array.of(0xb0, seq, i));
}

function sendBlocks(link: FakeClientLink, session: string, seq: number, count: number): void {
  link.receive(CHANNEL, blocksFor(session, seq, testBlocks(seq, count)));
}

/**
 * Waits for the client to reach `state`. A stream's end is handled after the stream's own promise
 * settles (CANCEL first, then the status handling, then the backoff), so 'backoff' or 'stopped' says
 * all of it ran.
 */
function untilState(h: Harness, state: DeliverClientState): Promise<true> {
  return pollUntil(() => (h.client.state === state ? true : null), `the deliver client in ${state}`, EVENT_WAIT_LIMIT_MS);
}

test('sends one signed SEEK from sink.nextNumber() to MAX with BLOCK_UNTIL_READY and its window', async () => {
  const h = harness({ next: 42 });
  h.client.start();
  const s = await nthSeek(h.links[0]!, 1);
  assert.deepEqual(s.seek, {
    start: { type: SeekType.SPECIFIED, number: 42 },
    stop: { type: SeekType.SPECIFIED, number: MAX_BLOCK_NUMBER },
    behavior: SeekBehavior.BLOCK_UNTIL_READY,
    window: LIMITS.windowMessages,
  });
  const sent = h.links[0]!.sent[0]!;
  assert.equal(sent.channel, CHANNEL);
  const env = decodeEnvelope((decodeDeliverRequestFrame(sent.message) as Extract<DeliverRequestFrame, { kind: 1 }>).envelopeBytes);
  assert.equal(env.payload.type, MessageType.DELIVER_SEEK);
  assert.equal(env.payload.channel, CHANNEL);
  assert.equal(env.payload.replyTo, h.links[0]!.replyRoute(CHANNEL));
  assert.equal(env.payload.creator.fingerprint, tc.boardSigner.certificate.fingerprint);
  assert.ok(tc.state.envelopeSignatureValid(env), 'signed by the board');
  assert.equal(h.client.state, 'streaming');
  // A second seek would open a new session, and the first one's heartbeat would go unanswered: its ACK,
  // and the keepalive ACK repeating it a keepaliveMs later, say the first session is still the one.
  sendBlocks(h.links[0]!, s.session, 1, 0);
  await h.clock.advance(LIMITS.keepaliveMs);
  assert.deepEqual(acks(h.links[0]!, s.session), [1, 1], 'the first session is still streaming');
  assert.equal(seeks(h.links[0]!).length, 1, 'one seek, not more');
});

test('after the link goes down and up again it seeks again from the new nextNumber', async () => {
  const h = harness({ next: 5 });
  const link = h.links[0]!;
  h.client.start();
  const first = await nthSeek(link, 1);
  sendBlocks(link, first.session, 1, 2); // blocks 5, 6
  assert.equal(h.sink.next, 7);
  link.autoUp = false;
  link.setState('down');
  await untilState(h, 'backoff');
  await h.clock.advance(LIMITS.retryBaseDelayMs);
  assert.equal(h.client.state, 'connecting');
  assert.equal(seeks(link).length, 1, 'no seek while the link is down');
  assert.equal(link.opens, 1, 'the link reconnects by itself: it is opened once');
  link.setState('up');
  const second = await nthSeek(link, 2);
  assert.deepEqual(second.seek.start, { type: SeekType.SPECIFIED, number: 7 });
  assert.notEqual(second.session, first.session, 'a new session');
});

test('SUCCESS on a never-ending seek is treated as an error: reconnect', async () => {
  const h = harness();
  const link = h.links[0]!;
  h.client.start();
  const first = await nthSeek(link, 1);
  sendStatus(link, first.session, 1, Status.SUCCESS);
  await untilState(h, 'backoff');
  assert.deepEqual(h.statuses, [Status.SUCCESS]);
  await h.clock.advance(LIMITS.retryBaseDelayMs);
  const second = await nthSeek(link, 2);
  assert.notEqual(second.session, first.session);
  assert.deepEqual(h.gaveUp, []);
});

/** Answers the current stream with `status` (its response `seq`) and waits for the next SEEK (past any backoff). */
async function answerAndReseek(h: Harness, link: FakeClientLink, status: StatusCode, seq = 1): Promise<void> {
  const n = seeks(link).length;
  sendStatus(link, seeks(link)[n - 1]!.session, seq, status);
  await h.clock.advance(LIMITS.maxRetryDelayMs);
  await nthSeek(link, n + 1);
}

test('more than wrongStatusThreshold BAD_REQUEST/FORBIDDEN in a row: it stops for good and says why', async () => {
  const h = harness();
  const link = h.links[0]!;
  h.client.start();
  await nthSeek(link, 1);
  await answerAndReseek(h, link, Status.BAD_REQUEST);
  await answerAndReseek(h, link, Status.FORBIDDEN);
  await answerAndReseek(h, link, Status.BAD_REQUEST);
  assert.deepEqual(h.gaveUp, [], 'threshold reached, not passed');
  const last = seeks(link).at(-1)!;
  sendStatus(link, last.session, 1, Status.FORBIDDEN); // the 4th in a row, more than 3
  await untilState(h, 'stopped');
  assert.equal(h.gaveUp.length, 1);
  assert.match(h.gaveUp[0]!, /4 FORBIDDEN answers in a row/);
  assert.match(h.gaveUp[0]!, /wrongStatusThreshold 3/);
  await h.clock.advance(10 * LIMITS.maxRetryDelayMs);
  assert.equal(seeks(link).length, 4, 'no seek after giving up');
});

test('another status resets the wrong-status count', async () => {
  const h = harness();
  const link = h.links[0]!;
  h.client.start();
  await nthSeek(link, 1);
  for (let i = 0; i < 3; i++) await answerAndReseek(h, link, Status.BAD_REQUEST);
  await answerAndReseek(h, link, Status.SERVICE_UNAVAILABLE);
  for (let i = 0; i < 3; i++) await answerAndReseek(h, link, Status.FORBIDDEN);
  assert.deepEqual(h.gaveUp, []);
  assert.notEqual(h.client.state, 'stopped');
});

test('a good block resets the wrong-status count', async () => {
  const h = harness();
  const link = h.links[0]!;
  h.client.start();
  await nthSeek(link, 1);
  for (let i = 0; i < 3; i++) await answerAndReseek(h, link, Status.BAD_REQUEST);
  sendBlocks(link, seeks(link).at(-1)!.session, 1, 1);
  await answerAndReseek(h, link, Status.BAD_REQUEST, 2);
  await answerAndReseek(h, link, Status.BAD_REQUEST);
  assert.deepEqual(h.gaveUp, []);
});

/** The delay between answering `status` and the next SEEK, found by stepping the manual clock. */
async function measuredBackoff(h: Harness, link: FakeClientLink, status: StatusCode, expectedMs: number, seq = 1): Promise<void> {
  const n = seeks(link).length;
  sendStatus(link, seeks(link)[n - 1]!.session, seq, status);
  await h.clock.advance(expectedMs - 1);
  assert.equal(seeks(link).length, n, `no seek before ${expectedMs} ms`);
  await h.clock.advance(1);
  await nthSeek(link, n + 1);
}

test('backoff waits are the shared jittered policy (src/config/backoff.ts) and start over after a good block', async () => {
  const SEED = 7;
  const h = harness({ random: seededRandom(SEED) });
  const link = h.links[0]!;
  h.client.start();
  await nthSeek(link, 1);
  // The same policy and seed outside the client: the waits it must take, one by one.
  const policy = new Backoff({ baseDelayMs: LIMITS.retryBaseDelayMs, maxDelayMs: LIMITS.maxRetryDelayMs }, seededRandom(SEED));
  const expected = Array.from({ length: 6 }, () => policy.next());
  assert.equal(new Set(expected).size > 1, true, `jittered, not one fixed wait: ${expected.join(', ')}`);
  for (const ms of expected) {
    assert.ok(ms >= LIMITS.retryBaseDelayMs && ms <= LIMITS.maxRetryDelayMs, `${ms} ms within the bounds`);
    await measuredBackoff(h, link, Status.SERVICE_UNAVAILABLE, ms);
  }
  // A good block: the next wait is drawn from the base again (at most 3 × base).
  sendBlocks(link, seeks(link).at(-1)!.session, 1, 1);
  policy.reset();
  await measuredBackoff(h, link, Status.SERVICE_UNAVAILABLE, policy.next(), 2);
});

test('FORBIDDEN and SERVICE_UNAVAILABLE fail over to the next endpoint; BAD_REQUEST does not', async () => {
  const h = harness({ endpoints: 2 });
  const [a, b] = h.links as [FakeClientLink, FakeClientLink];
  h.client.start();
  const s1 = await nthSeek(a, 1);
  assert.equal(b.opens, 0, 'the second endpoint is not used while the first serves');
  sendStatus(a, s1.session, 1, Status.FORBIDDEN);
  await h.clock.advance(LIMITS.maxRetryDelayMs);
  const s2 = await nthSeek(b, 1);
  assert.equal(s2.replyTo, b.replyRoute(CHANNEL), 'the seek names the new endpoint reply route');
  assert.equal(h.client.endpoint, 'orderer1');
  sendStatus(b, s2.session, 1, Status.BAD_REQUEST);
  await h.clock.advance(LIMITS.maxRetryDelayMs);
  await nthSeek(b, 2);
  assert.equal(seeks(a).length, 1, 'BAD_REQUEST: same endpoint again');
  sendStatus(b, seeks(b)[1]!.session, 1, Status.SERVICE_UNAVAILABLE);
  await h.clock.advance(LIMITS.maxRetryDelayMs);
  await nthSeek(a, 2);
  assert.equal(seeks(b).length, 2);
  assert.equal(h.client.endpoint, 'orderer0');
});

test('an endpoint that does not come up within connectTimeoutMs is given up for the next one', async () => {
  const h = harness({ endpoints: 2 });
  const [a, b] = h.links as [FakeClientLink, FakeClientLink];
  a.autoUp = false;
  h.client.start();
  await h.clock.advance(LIMITS.connectTimeoutMs - 1);
  assert.equal(b.opens, 0);
  await h.clock.advance(1 + LIMITS.retryBaseDelayMs);
  await nthSeek(b, 1);
  assert.equal(seeks(a).length, 0);
});

test('a response is ACKed once all its blocks are taken', async () => {
  const h = harness({ next: 10 });
  const link = h.links[0]!;
  h.client.start();
  const s = await nthSeek(link, 1);
  sendBlocks(link, s.session, 1, 3);
  assert.deepEqual(acks(link, s.session), [1]);
  assert.equal(h.sink.next, 13);
  sendBlocks(link, s.session, 2, 2);
  assert.deepEqual(acks(link, s.session), [1, 2]);
  // An empty response (the orderer's heartbeat) is ACKed too.
  sendBlocks(link, s.session, 3, 0);
  assert.deepEqual(acks(link, s.session), [1, 2, 3]);
  // Responses of another session are not ours.
  sendBlocks(link, 'someone-else', 4, 2);
  assert.deepEqual(acks(link, s.session), [1, 2, 3]);
  assert.equal(h.sink.next, 15);
});

test('when the sink takes fewer blocks than offered there is no ACK until resume()', async () => {
  const h = harness({ next: 0 });
  const link = h.links[0]!;
  h.client.start();
  const s = await nthSeek(link, 1);
  h.sink.room = 2;
  sendBlocks(link, s.session, 1, 5);
  assert.deepEqual(h.sink.offers, [{ count: 5, from: 0 }]);
  assert.deepEqual(acks(link, s.session), [], 'nothing ACKed while blocks are left over');
  h.sink.room = 0; // the buffer is full
  sendBlocks(link, s.session, 2, 1); // queued behind the first: its arrival offers the rest of the first again
  assert.deepEqual(h.sink.offers.at(-1), { count: 5, from: 2 });
  assert.deepEqual(acks(link, s.session), []);
  h.sink.room = 2;
  h.client.resume();
  assert.deepEqual(h.sink.offers.at(-1), { count: 5, from: 2 });
  assert.deepEqual(acks(link, s.session), [], 'still one block of the first response left');
  h.sink.room = Number.POSITIVE_INFINITY;
  h.client.resume();
  assert.deepEqual(h.sink.offers.slice(-2), [{ count: 5, from: 4 }, { count: 1, from: 0 }], 'the rest, then the queued response');
  assert.deepEqual(acks(link, s.session), [1, 2]);
  assert.equal(h.sink.next, 6);
});

test('a rejected block restarts the stream from the sink\'s next number', async () => {
  const h = harness({ next: 3 });
  const link = h.links[0]!;
  h.client.start();
  const s = await nthSeek(link, 1);
  h.sink.reject = true;
  sendBlocks(link, s.session, 1, 2);
  await untilState(h, 'backoff');
  assert.deepEqual(acks(link, s.session), []);
  assert.deepEqual(cancels(link), [s.session], 'the old session is cancelled');
  h.sink.reject = false;
  await h.clock.advance(LIMITS.retryBaseDelayMs);
  const again = await nthSeek(link, 2);
  assert.deepEqual(again.seek.start, { type: SeekType.SPECIFIED, number: 3 });
});

test('a stream silent for streamStallTimeoutMs is cancelled and sought again; heartbeats keep it alive', async () => {
  const h = harness();
  const link = h.links[0]!;
  h.client.start();
  const s = await nthSeek(link, 1);
  // Keep it alive with heartbeats for a while: no stall.
  for (let i = 1; i <= 4; i++) {
    await h.clock.advance(LIMITS.streamStallTimeoutMs - 500);
    sendBlocks(link, s.session, i, 0);
  }
  assert.equal(seeks(link).length, 1);
  assert.deepEqual(cancels(link), []);
  const sent = acks(link, s.session);
  assert.ok(sent.length > 4 && sent.at(-1) === 4, `keepalive ACKs repeat the last seq while waiting (${sent.join(', ')})`);
  // Then silence.
  await h.clock.advance(LIMITS.streamStallTimeoutMs + LIMITS.keepaliveMs);
  assert.deepEqual(cancels(link), [s.session]);
  await h.clock.advance(LIMITS.maxRetryDelayMs);
  const again = await nthSeek(link, 2);
  assert.notEqual(again.session, s.session);
});

test('stop() ends the stream with a CANCEL and removes its listeners', async () => {
  const h = harness();
  const link = h.links[0]!;
  h.client.start();
  const s = await nthSeek(link, 1);
  sendBlocks(link, s.session, 1, 0); // a heartbeat: from now on the client knows the session's key
  await h.client.stop();
  assert.equal(h.client.state, 'stopped');
  assert.deepEqual(cancels(link), [s.session]);
  assert.equal(link.listenerCount('message'), 0);
  assert.equal(link.listenerCount('state'), 0);
});

test('stop() during a backoff leaves no timer behind',
  async () => {
    const h = harness();
    const link = h.links[0]!;
    h.client.start();
    const s = await nthSeek(link, 1);
    sendStatus(link, s.session, 1, Status.SERVICE_UNAVAILABLE);
    await untilState(h, 'backoff');
    await h.client.stop();
    assert.equal(h.clock.pendingTimers, 0);
  });

test('a state change of an endpoint not in use does not end the stream on the current one',
  async () => {
    const h = harness({ endpoints: 2 });
    const [a, b] = h.links as [FakeClientLink, FakeClientLink];
    h.client.start();
    const s = await nthSeek(a, 1);
    b.setState('connecting'); // the idle endpoint's own reconnect attempts
    b.setState('down');
    await h.clock.advance(LIMITS.maxRetryDelayMs);
    assert.deepEqual(cancels(a), []);
    assert.equal(seeks(a).length, 1);
    assert.equal(h.client.state, 'streaming');
    sendBlocks(a, s.session, 1, 1);
    // No keepalive ACK before the session's key is known (the first response); the block's ACK is the first.
    assert.deepEqual(acks(a, s.session), [1]);
  });

test('a lost response (a gap in seq, as on a noisy serial line) restarts the stream from the next block needed', async () => {
  const h = harness({ next: 10 });
  const link = h.links[0]!;
  h.client.start();
  const s = await nthSeek(link, 1);
  sendBlocks(link, s.session, 1, 3); // blocks 10..12
  sendBlocks(link, s.session, 1, 3); // a duplicate is ignored, not a gap
  assert.equal(h.sink.next, 13);
  sendBlocks(link, s.session, 3, 2); // response 2 never arrived
  assert.equal(h.sink.next, 13, 'nothing past the hole is offered');
  await untilState(h, 'backoff');
  assert.deepEqual(cancels(link), [s.session]);
  await h.clock.advance(LIMITS.retryBaseDelayMs);
  const again = await nthSeek(link, 2);
  assert.deepEqual(again.seek.start, { type: SeekType.SPECIFIED, number: 13 });
});

/** Bytes shaped enough for the deliver client: the block number sits where a real header has it. */
function numberedBlock(n: number, size: number): Uint8Array {
  const b = new Uint8Array(size).fill(n & 0xff);
  new DataView(b.buffer).setUint32(3, Math.floor(n / 2 ** 32));
  new DataView(b.buffer).setUint32(7, n >>> 0);
  // The client hands on Buffers (views of its ring), as the links' own messages are.
  return Buffer.from(b);
}

/** A first response of 4 blocks of 100 bytes (it carries the ReplyKey, so it is the largest). */
const FIRST_RESPONSE_BYTES = blocksFor('0123456789abcdef01234567', 1, Array.from({ length: 4 }, (_, i) => numberedBlock(i, 100))).length;

test('responses are copied before use, so a link may reuse its buffers; the ring is reused once blocks are committed', async () => {
  const links = [new FakeClientLink('orderer0')];
  const link = links[0]!;
  const kept: Uint8Array[] = [];
  let committed = 0;
  const sink: BlockSink = {
    nextNumber: () => committed + kept.length,
    offer: (blocks, from) => { for (let i = from; i < blocks.length; i++) kept.push(blocks[i]!); return blocks.length - from; },
  };
  // Room for two responses of 4 blocks of 100 bytes (with the response's own CBOR, MAC and ReplyKey around them).
  const client = new DeliverClient({
    channel: CHANNEL, links, signer: tc.boardSigner, sink, clock: new ManualClock(), log: silentLogger(),
    limits: { ...LIMITS, ingressRingBytes: 2 * FIRST_RESPONSE_BYTES }, committedHeight: () => committed, random: () => 0,
    responderTrust: ordererTrust(() => tc.state),
  });
  running.push(client);
  client.start();
  const s = await nthSeek(link, 1);
  const lend = (seq: number, first: number): void => {
    const msg = blocksFor(s.session, seq, Array.from({ length: 4 }, (_, i) => numberedBlock(first + i, 100)));
    link.receive(CHANNEL, msg);
    msg.fill(0xee); // what a lending link does with its buffer next
  };
  // Committed blocks are in the ledger: their bytes may be reused. The others must stay as they came.
  const intact = (): void => kept.forEach((b, n) => { if (n >= committed) assert.deepEqual(b, numberedBlock(n, 100), `block ${n} intact`); });
  lend(1, 0);
  lend(2, 4);
  intact();
  assert.equal(client.responsesOutsideRing, 0);
  // Nothing committed: a third response does not fit and gets a buffer of its own; the others stay.
  lend(3, 8);
  assert.equal(client.responsesOutsideRing, 1);
  intact();
  // The first two responses' blocks committed: their space is reused, and nothing else is overwritten.
  committed = 8;
  client.resume();
  lend(4, 12);
  lend(5, 16);
  assert.equal(client.responsesOutsideRing, 1, 'the ring was reused');
  intact();
  // The new responses went where committed ones were: some committed block's view now shows a newer block.
  const renumbered = kept.slice(0, 8).filter((b, n) => Buffer.compare(Buffer.from(b), Buffer.from(numberedBlock(n, 100))) !== 0);
  assert.ok(renumbered.length > 0, 'committed blocks\' space was reused');
  assert.equal(kept.length, 20);
  assert.deepEqual(acks(link, s.session), [1, 2, 3, 4, 5]);
  assert.deepEqual(kept.map((b) => b.length), kept.map(() => 100));
});

test('blocks buffered by an offer that then rejects a later block keep their ring space until committed', async () => {
  const links = [new FakeClientLink('orderer0')];
  const link = links[0]!;
  const kept: Uint8Array[] = [];
  const committed = 0;
  // Takes blocks 0 and 1 of the first response, then finds block 2 bad: buffered, yet not counted as taken.
  let rejectAt = 2;
  const sink: BlockSink = {
    nextNumber: () => committed + kept.length,
    offer: (blocks, from) => {
      for (let i = from; i < blocks.length; i++) {
        if (committed + kept.length === rejectAt) { rejectAt = -1; return -1; }
        kept.push(blocks[i]!);
      }
      return blocks.length - from;
    },
  };
  const clock = new ManualClock();
  const client = new DeliverClient({
    channel: CHANNEL, links, signer: tc.boardSigner, sink, clock, log: silentLogger(),
    limits: { ...LIMITS, ingressRingBytes: 2 * FIRST_RESPONSE_BYTES }, committedHeight: () => committed, random: () => 0,
    responderTrust: ordererTrust(() => tc.state),
  });
  running.push(client);
  client.start();
  const first = await nthSeek(link, 1);
  const lend = (session: string, seq: number, from: number): void => {
    const msg = blocksFor(session, seq, Array.from({ length: 4 }, (_, i) => numberedBlock(from + i, 100)));
    link.receive(CHANNEL, msg);
    msg.fill(0xee);
  };
  lend(first.session, 1, 0);
  assert.equal(kept.length, 2, 'blocks 0 and 1 buffered before the rejection');
  await clock.advance(LIMITS.retryBaseDelayMs);
  const second = await nthSeek(link, 2);
  assert.deepEqual(second.seek.start, { type: SeekType.SPECIFIED, number: 2 });
  // Nothing committed (committed stays 0): the new session's response must not land on blocks 0 and 1.
  lend(second.session, 1, 2);
  assert.deepEqual(kept[0], numberedBlock(0, 100), 'block 0 intact');
  assert.deepEqual(kept[1], numberedBlock(1, 100), 'block 1 intact');
  assert.equal(kept.length, 6);
});

test('a session without an authenticated response sends no ACK and no CANCEL (the orderer could not take them)', async () => {
  const h = harness();
  const link = h.links[0]!;
  h.client.start();
  const s = await nthSeek(link, 1);
  await h.clock.advance(LIMITS.keepaliveMs * 2);
  await h.client.stop();
  assert.deepEqual(acks(link, s.session), []);
  assert.deepEqual(cancels(link), []);
});

test('ACKs and CANCELs carry the session MAC and an ACK count that rises by one', async () => {
  const h = harness({ next: 0 });
  const link = h.links[0]!;
  h.client.start();
  const s = await nthSeek(link, 1);
  sendBlocks(link, s.session, 1, 2);
  sendBlocks(link, s.session, 2, 0);
  await h.clock.advance(LIMITS.keepaliveMs);
  await h.client.stop();
  const mac = sessionKey(s.session).mac;
  const sent = frames(link).filter((f) => f.kind !== FrameKind.SEEK);
  const ackFrames = sent.flatMap((f) => (f.kind === FrameKind.ACK ? [f] : []));
  assert.deepEqual(ackFrames.map((f) => [f.seq, f.n]), [[1, 1], [2, 2], [2, 3]], 'two ACKs, then a keepalive repeating seq 2');
  for (const f of ackFrames) assert.ok(macEquals(mac.ack(s.session, f.seq, f.n), f.mac), `ACK ${f.n} authenticated`);
  const cancel = sent.at(-1)!;
  assert.ok(cancel.kind === FrameKind.CANCEL && macEquals(mac.cancel(s.session), cancel.mac), 'CANCEL authenticated');
});

test('forged responses on the reply route (no MAC, a wrong MAC, an untrusted ReplyKey) are dropped and counted: the board never stops, backs off or reports in sync because of them', async () => {
  const h = harness({ next: 0, limits: { wrongStatusThreshold: 3 } });
  const link = h.links[0]!;
  h.client.start();
  const s = await nthSeek(link, 1);
  sendBlocks(link, s.session, 1, 1); // genuine: block 0
  // What an attacker who read the session id can make without the session's key:
  const stranger = new OrdererReplies(tc.ordererSigner).key('nobody knows');
  // A ReplyKey of a board (not an orderer), agreed with the session's real key share.
  const board = new ReplyKeys(tc.boardSigner, systemClock).agree(
    replies.seeks(link.sent.map((m) => m.message)).find((f) => f.envelope.payload.session === s.session)!.envelope.payload.keyShare,
  ) as SessionKey;
  const huge = Number.MAX_SAFE_INTEGER;
  for (let i = 0; i < 20; i++) {
    link.receive(CHANNEL, encodeDeliverStatus(s.session, 2, Status.FORBIDDEN)); // no MAC
    link.receive(CHANNEL, encodeDeliverStatus(s.session, 2, Status.FORBIDDEN, stranger.mac.deliverStatus(s.session, 2, Status.FORBIDDEN), stranger.replyKey));
    // A ReplyKey of a board (not an orderer), with a MAC right for it and the session's real key share.
    link.receive(CHANNEL, encodeDeliverStatus(s.session, 2, Status.FORBIDDEN, board.mac.deliverStatus(s.session, 2, Status.FORBIDDEN), board.replyKey));
    // Empty responses with a huge seq: genuine ones would look like duplicates after them if they counted.
    link.receive(CHANNEL, encodeDeliverBlocks(s.session, huge - i, [], stranger.mac.deliverBlocks(s.session, huge - i, [])));
  }
  await h.clock.advance(LIMITS.keepaliveMs);
  assert.deepEqual(h.statuses, [], 'no status was taken');
  assert.deepEqual(h.gaveUp, []);
  assert.equal(h.client.state, 'streaming');
  assert.equal(seeks(link).length, 1, 'no restart, no backoff');
  assert.deepEqual(h.client.dropped, { malformed: 0, unauthenticated: 20, forged: 60, replayed: 0 });
  // The genuine stream goes on where it was.
  sendBlocks(link, s.session, 2, 2);
  assert.equal(h.sink.next, 3);
  // A replay of a genuine response is dropped too, and is no sign of life.
  link.receive(CHANNEL, blocksFor(s.session, 2, testBlocks(2, 2)));
  assert.equal(h.client.dropped.replayed, 1);
  assert.equal(h.dropped.length, 81, 'every drop reported to the metrics');
});

test('a response whose session lost its first response is checked with the ReplyKey of an earlier session: a gap restarts the stream', async () => {
  const h = harness({ next: 0 });
  const link = h.links[0]!;
  h.client.start();
  const first = await nthSeek(link, 1);
  sendBlocks(link, first.session, 1, 1);
  sendStatus(link, first.session, 2, Status.SERVICE_UNAVAILABLE);
  await h.clock.advance(LIMITS.retryBaseDelayMs);
  const second = await nthSeek(link, 2);
  // Response 1 of the new session (the one with the ReplyKey) was lost; response 2 still authenticates.
  sendBlocks(link, second.session, 2, 1);
  await untilState(h, 'backoff');
  assert.deepEqual(cancels(link), [second.session], 'the gap is seen: the stream is restarted');
  assert.equal(h.client.dropped.forged, 0);
});
