// The board's deliver client (docs/design.md, "The deliver client") against fake links driven by the test,
// a fake sink and a manual clock: the seek it sends and re-sends, Fabric's status handling
// (wrongStatusThreshold, backoff, failover), ACK-based flow control, and stall detection.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/observability/logger.js';
import { type BlockSink, DeliverClient, type DeliverClientLimits, type DeliverClientState } from '../../src/peer/deliverClient.js';
import { Backoff } from '../../src/config/backoff.js';
import { seededRandom } from '../../src/config/random.js';
import { MessageType, decodeEnvelope } from '../../src/protocol/envelope.js';
import {
  type DeliverRequestFrame, FrameKind, decodeDeliverRequestFrame, encodeDeliverBlocks, encodeDeliverStatus,
} from '../../src/protocol/frames.js';
import { MAX_BLOCK_NUMBER, SeekBehavior, SeekType, type SeekInfo, seekInfoFromWire } from '../../src/protocol/seek.js';
import { Status, type StatusCode } from '../../src/protocol/status.js';
import { FakeClientLink, ManualClock, settle } from '../helpers/fakes.js';
import { type TestChannel, makeTestChannel } from '../helpers/testChannel.js';

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
  const client = new DeliverClient({
    channel: CHANNEL, links, signer: tc.boardSigner, sink, clock, log: silentLogger(), limits: { ...LIMITS, ...o.limits },
    // The fake sink commits as it takes.
    committedHeight: () => sink.next,
    random: o.random ?? (() => 0),
    events: { state: (s) => states.push(s), status: (s) => statuses.push(s), gaveUp: (r) => gaveUp.push(r) },
  });
  running.push(client);
  return { client, links, sink, clock, states, statuses, gaveUp };
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
  return frames(link).flatMap((f) => (f.kind === FrameKind.SEEK
    ? [{ session: f.envelope.payload.session!, seek: seekInfoFromWire(f.envelope.payload.data), replyTo: f.envelope.payload.replyTo! }]
    : []));
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
  link.receive(CHANNEL, encodeDeliverStatus(session, seq, status));
}

function sendBlocks(link: FakeClientLink, session: string, seq: number, count: number): void {
  const blocks = Array.from({ length: count }, (_, i) => Uint8Array.of(0xb0, seq, i));
  link.receive(CHANNEL, encodeDeliverBlocks(session, seq, blocks));
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
  await settle();
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
  await settle();
  assert.equal(h.client.state, 'backoff');
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
  await settle();
  assert.deepEqual(h.statuses, [Status.SUCCESS]);
  assert.equal(h.client.state, 'backoff');
  await h.clock.advance(LIMITS.retryBaseDelayMs);
  const second = await nthSeek(link, 2);
  assert.notEqual(second.session, first.session);
  assert.deepEqual(h.gaveUp, []);
});

/** Answers the current stream with `status` and waits for the next SEEK (past any backoff). */
async function answerAndReseek(h: Harness, link: FakeClientLink, status: StatusCode): Promise<void> {
  const n = seeks(link).length;
  sendStatus(link, seeks(link)[n - 1]!.session, 1, status);
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
  await settle();
  assert.equal(h.gaveUp.length, 1);
  assert.match(h.gaveUp[0]!, /4 FORBIDDEN answers in a row/);
  assert.match(h.gaveUp[0]!, /wrongStatusThreshold 3/);
  assert.equal(h.client.state, 'stopped');
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
  await answerAndReseek(h, link, Status.BAD_REQUEST);
  await answerAndReseek(h, link, Status.BAD_REQUEST);
  assert.deepEqual(h.gaveUp, []);
});

/** The delay between answering `status` and the next SEEK, found by stepping the manual clock. */
async function measuredBackoff(h: Harness, link: FakeClientLink, status: StatusCode, expectedMs: number): Promise<void> {
  const n = seeks(link).length;
  sendStatus(link, seeks(link)[n - 1]!.session, 1, status);
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
  await measuredBackoff(h, link, Status.SERVICE_UNAVAILABLE, policy.next());
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
  await settle();
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
  assert.ok(acks(link, s.session).includes(0), 'keepalive ACKs go out while waiting');
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
    await settle();
    assert.equal(h.client.state, 'backoff');
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
    // Keepalive ACKs (seq 0) went out while the clock advanced; the block's ACK follows them.
    assert.deepEqual(acks(a, s.session).filter((seq) => seq > 0), [1]);
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
  await settle();
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

test('responses are copied before use, so a link may reuse its buffers; the ring is reused once blocks are committed', async () => {
  const links = [new FakeClientLink('orderer0')];
  const link = links[0]!;
  const kept: Uint8Array[] = [];
  let committed = 0;
  const sink: BlockSink = {
    nextNumber: () => committed + kept.length,
    offer: (blocks, from) => { for (let i = from; i < blocks.length; i++) kept.push(blocks[i]!); return blocks.length - from; },
  };
  // Room for two responses of 4 blocks of 100 bytes (with the response's own CBOR around them).
  const client = new DeliverClient({
    channel: CHANNEL, links, signer: tc.boardSigner, sink, clock: new ManualClock(), log: silentLogger(),
    limits: { ...LIMITS, ingressRingBytes: 2 * 520 }, committedHeight: () => committed, random: () => 0,
  });
  running.push(client);
  client.start();
  const s = await nthSeek(link, 1);
  const lend = (seq: number, first: number): void => {
    const msg = encodeDeliverBlocks(s.session, seq, Array.from({ length: 4 }, (_, i) => numberedBlock(first + i, 100)));
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
  assert.deepEqual(kept[0], numberedBlock(12, 100), 'the new responses went where the committed ones were');
  assert.deepEqual(kept[4], numberedBlock(16, 100));
  assert.equal(kept.length, 20);
  assert.deepEqual(acks(link, s.session), [1, 2, 3, 4, 5]);
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
    limits: { ...LIMITS, ingressRingBytes: 2 * 520 }, committedHeight: () => committed, random: () => 0,
  });
  running.push(client);
  client.start();
  const first = await nthSeek(link, 1);
  const lend = (session: string, seq: number, from: number): void => {
    const msg = encodeDeliverBlocks(session, seq, Array.from({ length: 4 }, (_, i) => numberedBlock(from + i, 100)));
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
