// The Deliver service over a real Chain on a real LMDB ledger, with a fake ServerLink recording replies
// and a manual clock: refusals and their statuses, exact ranges, waiting for blocks, access re-checked
// mid-stream, flow control, idle sessions, heartbeats, and garbage on the route.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { issueCertificate } from '../../src/protocol/certificate.js';
import { toHex } from '../../src/crypto/hash.js';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { certificateValidityMs } from '../../src/network/networkDefaults.js';
import { requestTimeWindowMs } from '../../src/orderer/ordererDefaults.js';
import type { LmdbLedger } from '../../src/ledger/lmdbLedger.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { Chain } from '../../src/orderer/chain.js';
import { type DeliverLimits, DeliverService } from '../../src/orderer/deliverService.js';
import { blockNumber } from '../../src/protocol/block.js';
import { decodeCbor, encodeCbor } from '../../src/protocol/cbor.js';
import type { BatchConfig, ChannelConfig } from '../../src/protocol/channelConfig.js';
import { MessageType, type Signer, signEnvelope } from '../../src/protocol/envelope.js';
import {
  type DeliverResponse, decodeDeliverResponse, encodeAckFrame, encodeCancelFrame, encodeSeekFrame,
} from '../../src/protocol/frames.js';
import {
  MAX_BLOCK_NUMBER, SeekBehavior, type SeekBehaviorCode, type SeekPosition, seekInfoToWire, seekNewest,
  seekNextCommit, seekOldest, seekSpecified,
} from '../../src/protocol/seek.js';
import { Status, type StatusCode } from '../../src/protocol/status.js';
import { FakeServerLink, ManualClock, fakeReplyRoute, settle } from '../helpers/fakes.js';
import { ChainFixtureRoot } from '../helpers/chainFixture.js';
import type { TestChannel } from '../helpers/testChannel.js';

const CHANNEL = 'testchannel';
/** One envelope, one block: blocks are cut as the test orders them, no batch timer involved. */
const ONE_TX_BATCH: BatchConfig = { maxMessageCount: 1, preferredMaxBytes: 64 * 1024, absoluteMaxBytes: 128 * 1024, batchTimeoutMs: 50 };
const LIMITS: DeliverLimits = {
  windowMessages: 16,
  maxWindowMessages: 1024,
  maxResponseBytes: 256 * 1024,
  sessionIdleTimeoutMs: 60_000,
  maxSessions: 8,
  requestTimeWindowMs,
  heartbeatMs: 30_000,
};

const chains = new ChainFixtureRoot('edgepeer-deliver-');
before(() => chains.open());
after(() => chains.remove());

interface Fixture {
  tc: TestChannel;
  config: ChannelConfig;
  ledger: LmdbLedger;
  chain: Chain;
  clock: ManualClock;
  link: FakeServerLink;
  service: DeliverService;
  dropped: string[];
  /** Cuts `n` one-envelope blocks. */
  cut(n: number): void;
  close(): Promise<void>;
}

async function fixture(opts: { blocks?: number; limits?: Partial<DeliverLimits> } = {}): Promise<Fixture> {
  const base = chains.chain(CHANNEL, ONE_TX_BATCH);
  const { tc, config, ledger, chain, clock } = base;
  const link = new FakeServerLink();
  const dropped: string[] = [];
  const service = new DeliverService({
    chains: new Map([[CHANNEL, chain]]),
    clock,
    log: silentLogger(),
    limits: { ...LIMITS, ...opts.limits },
    observer: { request: () => undefined, streamsOpen: () => undefined, dropped: (r) => dropped.push(r) },
  });
  const cut = (n: number): void => {
    for (let i = 0; i < n; i++) chain.order(tc.txEnvelope);
  };
  cut(opts.blocks ?? 0);
  return {
    tc, config, ledger, chain, clock, link, service, dropped, cut,
    async close() {
      await service.close();
      await settle();
      await base.close();
    },
  };
}

interface SeekOptions {
  channel?: string;
  /** Channel of the reply route named in the request, when it should differ from `channel`. */
  replyChannel?: string;
  behavior?: SeekBehaviorCode;
  window?: number;
  data?: unknown;
  session?: string;
}

/** A signed SEEK frame; returns it with the session and reply route the answers go to. */
function seekFrame(signer: Signer, start: SeekPosition, stop: SeekPosition, o: SeekOptions = {}): { frame: Uint8Array; session: string; replyTo: string } {
  const channel = o.channel ?? CHANNEL;
  const session = o.session ?? randomBytes(6).toString('hex');
  // One route per session, so each session's answers can be read on their own.
  const replyTo = fakeReplyRoute(o.replyChannel ?? channel, `${signer.certificate.id}.${session}`);
  const seek = { start, stop, behavior: o.behavior ?? SeekBehavior.BLOCK_UNTIL_READY, ...(o.window === undefined ? {} : { window: o.window }) };
  const env = signEnvelope({ type: MessageType.DELIVER_SEEK, channel, replyTo, session, data: o.data ?? seekInfoToWire(seek) }, signer);
  return { frame: encodeSeekFrame(env.bytes), session, replyTo };
}

/** Opens a session; returns its id and reply route. */
function open(f: Fixture, signer: Signer, start: SeekPosition, stop: SeekPosition, o: SeekOptions = {}): { session: string; replyTo: string } {
  const { frame, session, replyTo } = seekFrame(signer, start, stop, o);
  f.service.handle(f.link, o.channel ?? CHANNEL, frame);
  return { session, replyTo };
}

function responses(f: Fixture, replyTo: string): DeliverResponse[] {
  return f.link.repliesTo(replyTo).map(decodeDeliverResponse);
}

function blockNumbers(rs: DeliverResponse[]): number[] {
  return rs.flatMap((r) => ('blocks' in r ? r.blocks.map(blockNumber) : []));
}

function statuses(rs: DeliverResponse[]): StatusCode[] {
  return rs.flatMap((r) => ('status' in r ? [r.status] : []));
}

/** Waits until the session answering on `replyTo` has sent `count` responses. */
async function waitForResponses(f: Fixture, replyTo: string, count: number): Promise<DeliverResponse[]> {
  for (let n = f.link.replies.length; responses(f, replyTo).length < count; n++) await f.link.waitForReplies(n + 1);
  return responses(f, replyTo);
}

/** The single status answer to a refused request. */
async function refusal(f: Fixture, replyTo: string): Promise<StatusCode> {
  const rs = await waitForResponses(f, replyTo, 1);
  await settle();
  assert.equal(responses(f, replyTo).length, 1, 'a refused request gets one answer');
  assert.equal(f.service.openSessions, 0, 'and no session');
  const r = rs[0]!;
  assert.ok('status' in r, 'the answer is a status');
  assert.equal(r.seq, 1);
  return r.status;
}

function stranger(): Signer {
  const orgRoot = generateKeyPair();
  const keys = generateKeyPair();
  const now = Date.now();
  const certificate = issueCertificate(
    { id: 'stranger', org: 'org9', role: 'client', publicKey: keys.publicKeyRaw, notBefore: now - 60_000, notAfter: now + certificateValidityMs },
    orgRoot.privateKey,
  );
  return { certificate, privateKey: keys.privateKey };
}

test('stop before start is BAD_REQUEST', async () => {
  const f = await fixture({ blocks: 5 });
  try {
    const { replyTo } = open(f, f.tc.boardSigner, seekSpecified(4), seekSpecified(2));
    assert.equal(await refusal(f, replyTo), Status.BAD_REQUEST);
  } finally {
    await f.close();
  }
});

test('a malformed SeekInfo is BAD_REQUEST', async () => {
  const f = await fixture({ blocks: 1 });
  try {
    const { replyTo } = open(f, f.tc.boardSigner, seekOldest(), seekNewest(), { data: { start: 'nowhere', behavior: 0 } });
    assert.equal(await refusal(f, replyTo), Status.BAD_REQUEST);
    const bad = open(f, f.tc.boardSigner, seekOldest(), seekNewest(), { data: { ...seekInfoToWire({ start: seekOldest(), stop: seekNewest(), behavior: 0 }), behavior: 7 } });
    assert.equal(await refusal(f, bad.replyTo), Status.BAD_REQUEST);
  } finally {
    await f.close();
  }
});

test('an unknown channel is NOT_FOUND', async () => {
  const f = await fixture({ blocks: 1 });
  try {
    const { replyTo } = open(f, f.tc.boardSigner, seekOldest(), seekNewest(), { channel: 'elsewhere' });
    assert.equal(await refusal(f, replyTo), Status.NOT_FOUND);
  } finally {
    await f.close();
  }
});

test('a payload channel that differs from the route channel is BAD_REQUEST', async () => {
  const f = await fixture({ blocks: 1 });
  try {
    // Sent on this channel's route with a reply route of this channel, but signed for another channel.
    const replyTo = fakeReplyRoute(CHANNEL, 'board1');
    const env = signEnvelope({
      type: MessageType.DELIVER_SEEK, channel: 'elsewhere', replyTo, session: 'cross-channel',
      data: seekInfoToWire({ start: seekOldest(), stop: seekNewest(), behavior: SeekBehavior.BLOCK_UNTIL_READY }),
    }, f.tc.boardSigner);
    f.service.handle(f.link, CHANNEL, encodeSeekFrame(env.bytes));
    assert.equal(await refusal(f, replyTo), Status.BAD_REQUEST);
  } finally {
    await f.close();
  }
});

test('FAIL_IF_NOT_READY past the height is NOT_FOUND', async () => {
  const f = await fixture({ blocks: 2 }); // height 3
  try {
    const { replyTo } = open(f, f.tc.boardSigner, seekSpecified(5), seekSpecified(6), { behavior: SeekBehavior.FAIL_IF_NOT_READY });
    const rs = await waitForResponses(f, replyTo, 1);
    assert.deepEqual(statuses(rs), [Status.NOT_FOUND]);
    assert.deepEqual(blockNumbers(rs), []);
    // Within the height it sends what exists, then NOT_FOUND for the first missing block.
    const part = open(f, f.tc.boardSigner, seekSpecified(1), seekSpecified(6), { behavior: SeekBehavior.FAIL_IF_NOT_READY });
    const prs = await waitForResponses(f, part.replyTo, 2);
    assert.deepEqual(blockNumbers(prs), [1, 2]);
    assert.deepEqual(statuses(prs), [Status.NOT_FOUND]);
  } finally {
    await f.close();
  }
});

test('a requester outside Readers (certificate of an unknown org) is FORBIDDEN', async () => {
  const f = await fixture({ blocks: 1 });
  try {
    const { replyTo } = open(f, stranger(), seekOldest(), seekNewest());
    assert.equal(await refusal(f, replyTo), Status.FORBIDDEN);
  } finally {
    await f.close();
  }
});

test('a bad envelope signature is FORBIDDEN', async () => {
  const f = await fixture({ blocks: 1 });
  try {
    const signer = f.tc.boardSigner;
    const session = 'forged-session';
    const replyTo = fakeReplyRoute(CHANNEL, signer.certificate.id);
    const env = signEnvelope({
      type: MessageType.DELIVER_SEEK, channel: CHANNEL, replyTo, session,
      data: seekInfoToWire({ start: seekOldest(), stop: seekNewest(), behavior: 0 }),
    }, signer);
    const m = decodeCbor(env.bytes) as { payload: Uint8Array; signature: Uint8Array };
    const signature = Uint8Array.from(m.signature);
    signature[10] = signature[10]! ^ 0x01;
    f.service.handle(f.link, CHANNEL, encodeSeekFrame(encodeCbor({ payload: m.payload, signature })));
    assert.equal(await refusal(f, replyTo), Status.FORBIDDEN);
  } finally {
    await f.close();
  }
});

test('SUCCESS follows exactly the blocks start..stop', async () => {
  const f = await fixture({ blocks: 6 }); // blocks 0..6
  try {
    const { replyTo } = open(f, f.tc.boardSigner, seekSpecified(2), seekSpecified(4));
    await waitForResponses(f, replyTo, 2);
    await settle();
    const rs = responses(f, replyTo);
    assert.deepEqual(blockNumbers(rs), [2, 3, 4]);
    assert.deepEqual(statuses(rs), [Status.SUCCESS]);
    assert.ok('status' in rs.at(-1)!, 'the status comes last');
    assert.deepEqual(rs.map((r) => r.seq), rs.map((_, i) => i + 1), 'seq counts responses from 1');
    // The blocks are the ledger's bytes.
    const sent = rs.flatMap((r) => ('blocks' in r ? r.blocks : []));
    sent.forEach((b, i) => assert.equal(toHex(b), toHex(f.ledger.getBlock(2 + i)!)));
    assert.equal(f.service.openSessions, 0);

    const newest = open(f, f.tc.boardSigner, seekNewest(), seekNewest());
    const nrs = await waitForResponses(f, newest.replyTo, 2);
    assert.deepEqual(blockNumbers(nrs), [6]);
    assert.deepEqual(statuses(nrs), [Status.SUCCESS]);

    const all = open(f, f.tc.boardSigner, seekOldest(), seekNewest());
    const ars = await waitForResponses(f, all.replyTo, 2);
    assert.deepEqual(blockNumbers(ars), [0, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual(statuses(ars), [Status.SUCCESS]);
  } finally {
    await f.close();
  }
});

test('BLOCK_UNTIL_READY waits for a block cut later, then sends it', async () => {
  const f = await fixture({ blocks: 2 }); // height 3
  try {
    const { replyTo } = open(f, f.tc.boardSigner, seekNextCommit(), seekSpecified(3));
    await settle();
    assert.equal(responses(f, replyTo).length, 0, 'nothing to send yet');
    assert.equal(f.service.openSessions, 1);
    f.cut(1); // block 3
    const rs = await waitForResponses(f, replyTo, 2);
    assert.deepEqual(blockNumbers(rs), [3]);
    assert.deepEqual(statuses(rs), [Status.SUCCESS]);
  } finally {
    await f.close();
  }
});

test('a configuration revoking one requester ends its session with FORBIDDEN while another goes on', async () => {
  const f = await fixture({ blocks: 2 }); // height 3
  try {
    const a = open(f, f.tc.boardSigner, seekSpecified(1), seekSpecified(MAX_BLOCK_NUMBER));
    const b = open(f, f.tc.clientSigner, seekSpecified(1), seekSpecified(MAX_BLOCK_NUMBER));
    await waitForResponses(f, a.replyTo, 1);
    await waitForResponses(f, b.replyTo, 1);
    assert.equal(f.service.openSessions, 2);
    f.chain.applyConfig({ ...f.config, sequence: 1, revoked: [f.tc.boardSigner.certificate.fingerprint] }); // block 3
    const ars = await waitForResponses(f, a.replyTo, 2);
    assert.deepEqual(blockNumbers(ars), [1, 2], 'the configuration block is not sent to the revoked requester');
    assert.deepEqual(statuses(ars), [Status.FORBIDDEN]);
    await waitForResponses(f, b.replyTo, 2);
    f.cut(1); // block 4
    const brs = await waitForResponses(f, b.replyTo, 3);
    assert.deepEqual(blockNumbers(brs), [1, 2, 3, 4]);
    assert.deepEqual(statuses(brs), []);
    await settle();
    assert.equal(f.service.openSessions, 1);
  } finally {
    await f.close();
  }
});

test('a certificate that expires mid-stream ends the session with FORBIDDEN before the next block', async () => {
  const f = await fixture({ blocks: 1 }); // height 2
  try {
    const validMs = 10_000;
    const keys = generateKeyPair();
    const now = f.clock.now();
    const shortLived: Signer = {
      certificate: issueCertificate(
        { id: 'board-short', org: 'org1', role: 'peer', publicKey: keys.publicKeyRaw, notBefore: now - 60_000, notAfter: now + validMs },
        f.tc.orgRoots.get('org1')!.privateKey,
      ),
      privateKey: keys.privateKey,
    };
    const { session, replyTo } = open(f, shortLived, seekOldest(), seekSpecified(MAX_BLOCK_NUMBER));
    await waitForResponses(f, replyTo, 1);
    f.service.handle(f.link, CHANNEL, encodeAckFrame(session, 1));
    await f.clock.advance(validMs + 1);
    f.cut(1);
    const rs = await waitForResponses(f, replyTo, 2);
    assert.deepEqual(blockNumbers(rs), [0, 1], 'block 2 is not sent');
    assert.deepEqual(statuses(rs), [Status.FORBIDDEN]);
  } finally {
    await f.close();
  }
});

test('a session id already open is BAD_REQUEST; past maxSessions is SERVICE_UNAVAILABLE', async () => {
  const f = await fixture({ blocks: 1, limits: { maxSessions: 2 } });
  try {
    const first = open(f, f.tc.boardSigner, seekNextCommit(), seekSpecified(MAX_BLOCK_NUMBER), { session: 'same' });
    await settle();
    const again = open(f, f.tc.clientSigner, seekNextCommit(), seekSpecified(MAX_BLOCK_NUMBER), { session: 'same' });
    assert.notEqual(again.replyTo, first.replyTo);
    assert.deepEqual(statuses(await waitForResponses(f, again.replyTo, 1)), [Status.BAD_REQUEST]);
    open(f, f.tc.boardSigner, seekNextCommit(), seekSpecified(MAX_BLOCK_NUMBER));
    await settle();
    assert.equal(f.service.openSessions, 2);
    const third = open(f, f.tc.boardSigner, seekNextCommit(), seekSpecified(MAX_BLOCK_NUMBER));
    assert.deepEqual(statuses(await waitForResponses(f, third.replyTo, 1)), [Status.SERVICE_UNAVAILABLE]);
    assert.equal(f.service.openSessions, 2);
  } finally {
    await f.close();
  }
});

test('flow control: with window 2 and no ACK two responses go out, each ACK releases more', async () => {
  // maxResponseBytes of 1 puts one block in each response.
  const f = await fixture({ blocks: 5, limits: { maxResponseBytes: 1 } }); // blocks 0..5
  try {
    const { session, replyTo } = open(f, f.tc.boardSigner, seekOldest(), seekSpecified(5), { window: 2 });
    await waitForResponses(f, replyTo, 2);
    await settle();
    assert.deepEqual(blockNumbers(responses(f, replyTo)), [0, 1], 'two responses, then it waits');
    // An ACK arriving on another channel's route does not reach the session.
    f.service.handle(f.link, 'elsewhere', encodeAckFrame(session, 2));
    await settle();
    assert.equal(responses(f, replyTo).length, 2);
    f.service.handle(f.link, CHANNEL, encodeAckFrame(session, 1));
    await waitForResponses(f, replyTo, 3);
    await settle();
    assert.deepEqual(blockNumbers(responses(f, replyTo)), [0, 1, 2], 'ACK of 1 frees one slot');
    f.service.handle(f.link, CHANNEL, encodeAckFrame(session, 3));
    await waitForResponses(f, replyTo, 5);
    await settle();
    assert.deepEqual(blockNumbers(responses(f, replyTo)), [0, 1, 2, 3, 4]);
    f.service.handle(f.link, CHANNEL, encodeAckFrame(session, 5));
    const rs = await waitForResponses(f, replyTo, 7);
    assert.deepEqual(blockNumbers(rs), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(statuses(rs), [Status.SUCCESS]);
  } finally {
    await f.close();
  }
});

test('a session that sends no ACK is ended after sessionIdleTimeoutMs; one that ACKs stays', async () => {
  const idle = 1_000;
  const f = await fixture({ blocks: 1, limits: { sessionIdleTimeoutMs: idle } });
  try {
    const silent = open(f, f.tc.boardSigner, seekNextCommit(), seekSpecified(MAX_BLOCK_NUMBER));
    const alive = open(f, f.tc.clientSigner, seekNextCommit(), seekSpecified(MAX_BLOCK_NUMBER));
    await settle();
    assert.equal(f.service.openSessions, 2);
    await f.clock.advance(idle - 1);
    assert.equal(f.service.openSessions, 2, 'not idle long enough yet');
    for (let t = 0; t < 4; t++) {
      f.service.handle(f.link, CHANNEL, encodeAckFrame(alive.session, 0));
      await f.clock.advance(idle / 2);
    }
    assert.equal(f.service.openSessions, 1, 'the silent session was ended');
    assert.deepEqual(responses(f, silent.replyTo), [], 'without a status: its client is gone');
    // The ACKing one still streams.
    f.cut(1);
    const rs = await waitForResponses(f, alive.replyTo, 1);
    assert.deepEqual(blockNumbers(rs), [2]);
    // Once it falls silent too, no session is left.
    await f.clock.advance(idle * 2);
    assert.equal(f.service.openSessions, 0);
  } finally {
    await f.close();
  }
});

test('a waiting session sends an empty response every heartbeatMs', async () => {
  const heartbeat = 500;
  const f = await fixture({ blocks: 1, limits: { heartbeatMs: heartbeat } }); // height 2
  try {
    const { replyTo } = open(f, f.tc.boardSigner, seekNextCommit(), seekSpecified(MAX_BLOCK_NUMBER));
    await f.clock.advance(heartbeat - 1);
    assert.equal(responses(f, replyTo).length, 0);
    await f.clock.advance(1);
    let rs = responses(f, replyTo);
    assert.equal(rs.length, 1);
    assert.ok('blocks' in rs[0]! && rs[0].blocks.length === 0 && rs[0].seq === 1, 'an empty blocks response');
    await f.clock.advance(heartbeat);
    rs = responses(f, replyTo);
    assert.equal(rs.length, 2);
    assert.ok('blocks' in rs[1]! && rs[1].blocks.length === 0 && rs[1].seq === 2);
    f.cut(1);
    rs = await waitForResponses(f, replyTo, 3);
    assert.deepEqual(blockNumbers(rs), [2]);
    assert.equal(rs[2]!.seq, 3);
  } finally {
    await f.close();
  }
});

test('CANCEL ends a session without a status', async () => {
  const f = await fixture({ blocks: 1 });
  try {
    const { session, replyTo } = open(f, f.tc.boardSigner, seekNextCommit(), seekSpecified(MAX_BLOCK_NUMBER));
    await settle();
    assert.equal(f.service.openSessions, 1);
    f.service.handle(f.link, CHANNEL, encodeCancelFrame(session));
    await settle();
    assert.equal(f.service.openSessions, 0);
    assert.deepEqual(responses(f, replyTo), []);
  } finally {
    await f.close();
  }
});

test('garbage frames are dropped without throwing and the service still serves', async () => {
  const f = await fixture({ blocks: 2 });
  try {
    const garbage = [randomBytes(40), Uint8Array.of(0xff), encodeCbor({ kind: 1 }), encodeCbor({ kind: 9 }), encodeCbor([1, 2, 3])];
    for (const g of garbage) assert.doesNotThrow(() => f.service.handle(f.link, CHANNEL, g));
    // A SEEK whose reply route is another channel's is dropped too (no publishing into foreign routes).
    f.service.handle(f.link, CHANNEL, seekFrame(f.tc.boardSigner, seekOldest(), seekNewest(), { replyChannel: 'elsewhere' }).frame);
    await settle();
    assert.equal(f.link.replies.length, 0, 'nothing to answer on');
    assert.deepEqual(f.dropped, [...garbage.map(() => 'malformed'), 'no-reply-route']);
    const { replyTo } = open(f, f.tc.boardSigner, seekOldest(), seekNewest());
    const rs = await waitForResponses(f, replyTo, 2);
    assert.deepEqual(blockNumbers(rs), [0, 1, 2]);
    assert.deepEqual(statuses(rs), [Status.SUCCESS]);
  } finally {
    await f.close();
  }
});

test("a link's own response limit (a serial line's small responses) caps the blocks per response below the service's", async () => {
  const f = await fixture({ blocks: 4 }); // blocks 0..4, all fitting one 256 KiB response
  try {
    const all = open(f, f.tc.boardSigner, seekOldest(), seekSpecified(4));
    await waitForResponses(f, all.replyTo, 2);
    assert.deepEqual(responses(f, all.replyTo).map((r) => ('blocks' in r ? r.blocks.length : -1)), [5, -1], 'one response, then SUCCESS');
    f.link.maxResponseBytes = 1;
    const small = open(f, f.tc.boardSigner, seekOldest(), seekSpecified(4));
    await waitForResponses(f, small.replyTo, 6);
    assert.deepEqual(blockNumbers(responses(f, small.replyTo)), [0, 1, 2, 3, 4]);
    assert.equal(responses(f, small.replyTo).length, 6, 'one block per response, then SUCCESS');
  } finally {
    await f.close();
  }
});
