// The Deliver service over a real Chain on a real LMDB ledger, with a fake ServerLink recording replies
// and a manual clock: refusals and their statuses, exact ranges, waiting for blocks, access re-checked
// mid-stream, flow control, idle sessions, heartbeats, garbage on the route, every response
// authenticated for its session, ACK and CANCEL taken only when authenticated, replayed SEEKs dropped,
// and each identity kept to its share of sessions.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { issueCertificate } from '../../../src/protocol/certificate.js';
import { toHex } from '../../../src/crypto/hash.js';
import { type KeyShare, newKeyShare } from '../../../src/crypto/keyAgreement.js';
import { generateKeyPair } from '../../../src/crypto/keys.js';
import { certificateValidityMs } from '../../../src/network/networkDefaults.js';
import { requestTimeWindowMs } from '../../../src/orderer/ordererDefaults.js';
import type { LmdbLedger } from '../../../src/ledger/lmdbLedger.js';
import { silentLogger } from '../../../src/observability/logger.js';
import type { Chain } from '../../../src/orderer/chain.js';
import { type DeliverLimits, DeliverService } from '../../../src/orderer/deliverService.js';
import { ReplayGuard, replayGuardDefaults } from '../../../src/orderer/replayGuard.js';
import { ReplyKeys } from '../../../src/orderer/replyKeys.js';
import { MessageMac, macEquals, replyKeySignatureValid } from '../../../src/protocol/messageAuth.js';
import { blockNumber } from '../../../src/protocol/block.js';
import { decodeCbor, encodeCbor } from '../../../src/protocol/cbor.js';
import type { BatchConfig, ChannelConfig } from '../../../src/protocol/channelConfig.js';
import { MessageType, type Signer, signEnvelope } from '../../../src/protocol/envelope.js';
import {
  type DeliverResponse, decodeDeliverResponse, encodeAckFrame, encodeCancelFrame, encodeSeekFrame,
} from '../../../src/protocol/frames.js';
import {
  MAX_BLOCK_NUMBER, SeekBehavior, type SeekBehaviorCode, type SeekPosition, seekInfoToWire, seekNewest,
  seekNextCommit, seekOldest, seekSpecified,
} from '../../../src/protocol/seek.js';
import { Status, type StatusCode } from '../../../src/protocol/status.js';
import { EVENT_WAIT_LIMIT_MS, FakeServerLink, ManualClock, fakeReplyRoute } from '../../helpers/fakes.js';
import { ChainFixtureRoot } from '../../helpers/chainFixture.js';
import type { TestChannel } from '../../helpers/testChannel.js';
import { pollUntil } from '../../helpers/wait.js';

const CHANNEL = 'testchannel';
/** One envelope, one block: blocks are cut as the test orders them, no batch timer involved. */
const ONE_TX_BATCH: BatchConfig = { maxMessageCount: 1, preferredMaxBytes: 64 * 1024, absoluteMaxBytes: 128 * 1024, batchTimeoutMs: 50 };
const LIMITS: DeliverLimits = {
  windowMessages: 16,
  maxWindowMessages: 1024,
  maxResponseBytes: 256 * 1024,
  sessionIdleTimeoutMs: 60_000,
  maxSessions: 8,
  maxSessionsPerIdentity: 8,
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
  replyKeys: ReplyKeys;
  dropped: string[];
  /** Every open-session count the service reported: it reports one inside handle() whenever it opens a session. */
  streams: number[];
  /** Cuts `n` one-envelope blocks. */
  cut(n: number): void;
  close(): Promise<void>;
}

async function fixture(opts: { blocks?: number; limits?: Partial<DeliverLimits> } = {}): Promise<Fixture> {
  const base = chains.chain(CHANNEL, ONE_TX_BATCH);
  const { tc, config, ledger, chain, clock } = base;
  const link = new FakeServerLink();
  const dropped: string[] = [];
  const streams: number[] = [];
  const replyKeys = new ReplyKeys(tc.ordererSigner, clock);
  const replay = new ReplayGuard(requestTimeWindowMs, clock, replayGuardDefaults.deliver);
  const service = new DeliverService({
    chains: new Map([[CHANNEL, chain]]),
    clock,
    log: silentLogger(),
    limits: { ...LIMITS, ...opts.limits },
    replyKeys,
    replay,
    observer: { request: () => undefined, streamsOpen: (n) => streams.push(n), dropped: (r) => dropped.push(r) },
  });
  const cut = (n: number): void => {
    for (let i = 0; i < n; i++) chain.order(tc.txEnvelope);
  };
  cut(opts.blocks ?? 0);
  return {
    tc, config, ledger, chain, clock, link, service, replyKeys, dropped, streams, cut,
    async close() {
      await service.close();
      replay.close();
      // A session leaves the count once its loop has returned: none is still reading the ledger.
      await sessionsOpen({ service }, 0);
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
  /** Leave the key share out of the SEEK. */
  noKeyShare?: boolean;
}

/** A client's view of one session: where its answers go, and the key share that authenticates them. */
interface Opened {
  session: string;
  replyTo: string;
  share: KeyShare;
  /** ACKs sent so far (the next one counts one more). */
  acks: number;
}

/** A signed SEEK frame; returns it with the session, the reply route the answers go to and the key share. */
function seekFrame(signer: Signer, start: SeekPosition, stop: SeekPosition, o: SeekOptions = {}): Opened & { frame: Uint8Array } {
  const channel = o.channel ?? CHANNEL;
  const session = o.session ?? randomBytes(6).toString('hex');
  // One route per session, so each session's answers can be read on their own.
  const replyTo = fakeReplyRoute(o.replyChannel ?? channel, `${signer.certificate.id}.${session}`);
  const seek = { start, stop, behavior: o.behavior ?? SeekBehavior.BLOCK_UNTIL_READY, ...(o.window === undefined ? {} : { window: o.window }) };
  const share = newKeyShare();
  const env = signEnvelope({
    type: MessageType.DELIVER_SEEK, channel, replyTo, session, data: o.data ?? seekInfoToWire(seek),
    ...(o.noKeyShare === true ? {} : { keyShare: share.publicRaw }),
  }, signer);
  return { frame: encodeSeekFrame(env.bytes), session, replyTo, share, acks: 0 };
}

/** Opens a session; returns its id, reply route and key share. */
function open(f: Fixture, signer: Signer, start: SeekPosition, stop: SeekPosition, o: SeekOptions = {}): Opened {
  const { frame, ...opened } = seekFrame(signer, start, stop, o);
  f.service.handle(f.link, o.channel ?? CHANNEL, frame);
  return opened;
}

/** The session's MAC key as its client derives it (from the orderer's ReplyKey, known from any earlier answer). */
function clientMac(f: Fixture, share: KeyShare): MessageMac {
  const key = f.replyKeys.replyKey.key;
  return MessageMac.agree(share.privateKey, key, key, share.publicRaw);
}

/** An authenticated ACK, as the session's client sends it. */
function ack(f: Fixture, s: Opened, seq: number): Uint8Array {
  const n = ++s.acks;
  return encodeAckFrame(s.session, seq, n, clientMac(f, s.share).ack(s.session, seq, n));
}

function cancel(f: Fixture, s: Opened): Uint8Array {
  return encodeCancelFrame(s.session, clientMac(f, s.share).cancel(s.session));
}

/** Whether `r` is authenticated for the holder of `share`: MAC under the agreed key; a ReplyKey of the orderer where it has one. */
function authenticFor(f: Fixture, r: DeliverResponse, share: KeyShare): boolean {
  if (r.replyKey !== undefined && (r.replyKey.signer.fingerprint !== f.tc.ordererSigner.certificate.fingerprint || !replyKeySignatureValid(r.replyKey))) return false;
  const mac = clientMac(f, share);
  const expected = 'status' in r ? mac.deliverStatus(r.session, r.seq, r.status) : mac.deliverBlocks(r.session, r.seq, r.blocks);
  return macEquals(expected, r.mac);
}

/** Every response on `replyTo`, each checked to be authenticated for the session's key share (when given). */
function responses(f: Fixture, replyTo: string, share?: KeyShare): DeliverResponse[] {
  const rs = f.link.repliesTo(replyTo).map(decodeDeliverResponse);
  if (share !== undefined) {
    rs.forEach((r, i) => {
      assert.ok(authenticFor(f, r, share), `response ${i + 1} on ${replyTo} is authenticated for its session`);
      assert.equal(r.replyKey !== undefined, r.seq === 1 || 'status' in r, 'the first response and the final status carry the ReplyKey');
    });
  }
  return rs;
}

function blockNumbers(rs: DeliverResponse[]): number[] {
  return rs.flatMap((r) => ('blocks' in r ? r.blocks.map(blockNumber) : []));
}

function statuses(rs: DeliverResponse[]): StatusCode[] {
  return rs.flatMap((r) => ('status' in r ? [r.status] : []));
}

/** Waits until the session answering on `s` (or the route `s`) has sent `count` responses; checks them authentic for an Opened. */
async function waitForResponses(f: Fixture, s: Opened | string, count: number): Promise<DeliverResponse[]> {
  const replyTo = typeof s === 'string' ? s : s.replyTo;
  for (let n = f.link.replies.length; responses(f, replyTo).length < count; n++) await f.link.waitForReplies(n + 1);
  return responses(f, replyTo, typeof s === 'string' ? undefined : s.share);
}

/**
 * Waits until the service holds `n` sessions. A session leaves the count once its loop has returned
 * (after its last response), so 0 or fewer also says that no more answers can come from the ones gone.
 */
function sessionsOpen(f: Pick<Fixture, 'service'>, n: number): Promise<true> {
  return pollUntil(() => (f.service.openSessions === n ? true : null), `${n} open deliver sessions`, EVENT_WAIT_LIMIT_MS,
    () => `open: ${f.service.openSessions}`);
}

/**
 * Opens a session of another identity for block 0 alone and waits for its SUCCESS (block 0 and the
 * status): the witness for "no more responses" on a session that should be waiting. A session with
 * credit sends its next response a promise turn or two after its last; the probe's SEEK is taken
 * after the step under test, and its two responses, each awaited, take longer than that.
 */
async function probe(f: Fixture): Promise<void> {
  const p = open(f, f.tc.clientSigner, seekSpecified(0), seekSpecified(0));
  assert.deepEqual(statuses(await waitForResponses(f, p, 2)), [Status.SUCCESS], 'the probe session ran to SUCCESS');
}

/** The single status answer to a refused request. */
async function refusal(f: Fixture, replyTo: string): Promise<StatusCode> {
  const rs = await waitForResponses(f, replyTo, 1);
  // The service reports each session it opens inside handle(), and a refusal is answered inside
  // handle() too: with no session ever opened nothing else can answer, so the count below is final.
  assert.deepEqual(f.streams, [], 'no session was opened');
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
    const o = open(f, f.tc.boardSigner, seekSpecified(4), seekSpecified(2));
    assert.equal(await refusal(f, o.replyTo), Status.BAD_REQUEST);
  } finally {
    await f.close();
  }
});

test('a malformed SeekInfo is BAD_REQUEST', async () => {
  const f = await fixture({ blocks: 1 });
  try {
    const o = open(f, f.tc.boardSigner, seekOldest(), seekNewest(), { data: { start: 'nowhere', behavior: 0 } });
    assert.equal(await refusal(f, o.replyTo), Status.BAD_REQUEST);
    const bad = open(f, f.tc.boardSigner, seekOldest(), seekNewest(), { data: { ...seekInfoToWire({ start: seekOldest(), stop: seekNewest(), behavior: 0 }), behavior: 7 } });
    assert.equal(await refusal(f, bad.replyTo), Status.BAD_REQUEST);
  } finally {
    await f.close();
  }
});

test('an unknown channel is NOT_FOUND', async () => {
  const f = await fixture({ blocks: 1 });
  try {
    const o = open(f, f.tc.boardSigner, seekOldest(), seekNewest(), { channel: 'elsewhere' });
    assert.equal(await refusal(f, o.replyTo), Status.NOT_FOUND);
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
      type: MessageType.DELIVER_SEEK, channel: 'elsewhere', replyTo, session: 'cross-channel', keyShare: newKeyShare().publicRaw,
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
    const o = open(f, f.tc.boardSigner, seekSpecified(5), seekSpecified(6), { behavior: SeekBehavior.FAIL_IF_NOT_READY });
    const rs = await waitForResponses(f, o, 1);
    assert.deepEqual(statuses(rs), [Status.NOT_FOUND]);
    assert.deepEqual(blockNumbers(rs), []);
    // Within the height it sends what exists, then NOT_FOUND for the first missing block.
    const part = open(f, f.tc.boardSigner, seekSpecified(1), seekSpecified(6), { behavior: SeekBehavior.FAIL_IF_NOT_READY });
    const prs = await waitForResponses(f, part, 2);
    assert.deepEqual(blockNumbers(prs), [1, 2]);
    assert.deepEqual(statuses(prs), [Status.NOT_FOUND]);
  } finally {
    await f.close();
  }
});

test('a requester outside Readers (certificate of an unknown org) is FORBIDDEN', async () => {
  const f = await fixture({ blocks: 1 });
  try {
    const o = open(f, stranger(), seekOldest(), seekNewest());
    assert.equal(await refusal(f, o.replyTo), Status.FORBIDDEN);
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
      type: MessageType.DELIVER_SEEK, channel: CHANNEL, replyTo, session, keyShare: newKeyShare().publicRaw,
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
    const o = open(f, f.tc.boardSigner, seekSpecified(2), seekSpecified(4));
    await waitForResponses(f, o, 2);
    // Its loop has returned: nothing can follow what is there now.
    await sessionsOpen(f, 0);
    const rs = responses(f, o.replyTo, o.share);
    assert.deepEqual(blockNumbers(rs), [2, 3, 4]);
    assert.deepEqual(statuses(rs), [Status.SUCCESS]);
    assert.ok('status' in rs.at(-1)!, 'the status comes last');
    assert.deepEqual(rs.map((r) => r.seq), rs.map((_, i) => i + 1), 'seq counts responses from 1');
    // The blocks are the ledger's bytes.
    const sent = rs.flatMap((r) => ('blocks' in r ? r.blocks : []));
    sent.forEach((b, i) => assert.equal(toHex(b), toHex(f.ledger.getBlock(2 + i)!)));
    assert.equal(f.service.openSessions, 0);

    const newest = open(f, f.tc.boardSigner, seekNewest(), seekNewest());
    const nrs = await waitForResponses(f, newest, 2);
    assert.deepEqual(blockNumbers(nrs), [6]);
    assert.deepEqual(statuses(nrs), [Status.SUCCESS]);

    const all = open(f, f.tc.boardSigner, seekOldest(), seekNewest());
    const ars = await waitForResponses(f, all, 2);
    assert.deepEqual(blockNumbers(ars), [0, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual(statuses(ars), [Status.SUCCESS]);
  } finally {
    await f.close();
  }
});

test('BLOCK_UNTIL_READY waits for a block cut later, then sends it', async () => {
  const f = await fixture({ blocks: 2 }); // height 3
  try {
    const o = open(f, f.tc.boardSigner, seekNextCommit(), seekSpecified(3));
    // A session sends heartbeats only while it waits for a block: the first response after heartbeatMs
    // being an empty one, seq 1, says it sent nothing before.
    await f.clock.advance(LIMITS.heartbeatMs);
    const beat = responses(f, o.replyTo, o.share);
    assert.ok(beat.length === 1 && 'blocks' in beat[0]! && beat[0].blocks.length === 0 && beat[0].seq === 1, 'nothing to send yet: a heartbeat first');
    assert.equal(f.service.openSessions, 1);
    f.cut(1); // block 3
    const rs = await waitForResponses(f, o, 3);
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
    await waitForResponses(f, a, 1);
    await waitForResponses(f, b, 1);
    assert.equal(f.service.openSessions, 2);
    f.chain.applyConfig({ ...f.config, sequence: 1, revoked: [f.tc.boardSigner.certificate.fingerprint] }); // block 3
    const ars = await waitForResponses(f, a, 2);
    assert.deepEqual(blockNumbers(ars), [1, 2], 'the configuration block is not sent to the revoked requester');
    assert.deepEqual(statuses(ars), [Status.FORBIDDEN]);
    await waitForResponses(f, b, 2);
    f.cut(1); // block 4
    const brs = await waitForResponses(f, b, 3);
    assert.deepEqual(blockNumbers(brs), [1, 2, 3, 4]);
    assert.deepEqual(statuses(brs), []);
    await sessionsOpen(f, 1);
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
    const o = open(f, shortLived, seekOldest(), seekSpecified(MAX_BLOCK_NUMBER));
    await waitForResponses(f, o, 1);
    f.service.handle(f.link, CHANNEL, ack(f, o, 1));
    await f.clock.advance(validMs + 1);
    f.cut(1);
    const rs = await waitForResponses(f, o, 2);
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
    // The service opens a session inside handle().
    assert.equal(f.service.openSessions, 1);
    const again = open(f, f.tc.clientSigner, seekNextCommit(), seekSpecified(MAX_BLOCK_NUMBER), { session: 'same' });
    assert.notEqual(again.replyTo, first.replyTo);
    assert.deepEqual(statuses(await waitForResponses(f, again, 1)), [Status.BAD_REQUEST]);
    open(f, f.tc.boardSigner, seekNextCommit(), seekSpecified(MAX_BLOCK_NUMBER));
    assert.equal(f.service.openSessions, 2);
    const third = open(f, f.tc.boardSigner, seekNextCommit(), seekSpecified(MAX_BLOCK_NUMBER));
    assert.deepEqual(statuses(await waitForResponses(f, third, 1)), [Status.SERVICE_UNAVAILABLE]);
    assert.equal(f.service.openSessions, 2);
  } finally {
    await f.close();
  }
});

test('flow control: with window 2 and no ACK two responses go out, each ACK releases more', async () => {
  // maxResponseBytes of 1 puts one block in each response.
  const f = await fixture({ blocks: 5, limits: { maxResponseBytes: 1 } }); // blocks 0..5
  try {
    const o = open(f, f.tc.boardSigner, seekOldest(), seekSpecified(5), { window: 2 });
    await waitForResponses(f, o, 2);
    await probe(f);
    assert.deepEqual(blockNumbers(responses(f, o.replyTo, o.share)), [0, 1], 'two responses, then it waits');
    // An ACK arriving on another channel's route does not reach the session.
    f.service.handle(f.link, 'elsewhere', ack(f, o, 2));
    await probe(f);
    assert.equal(responses(f, o.replyTo, o.share).length, 2);
    f.service.handle(f.link, CHANNEL, ack(f, o, 1));
    await waitForResponses(f, o, 3);
    await probe(f);
    assert.deepEqual(blockNumbers(responses(f, o.replyTo, o.share)), [0, 1, 2], 'ACK of 1 frees one slot');
    f.service.handle(f.link, CHANNEL, ack(f, o, 3));
    await waitForResponses(f, o, 5);
    await probe(f);
    assert.deepEqual(blockNumbers(responses(f, o.replyTo, o.share)), [0, 1, 2, 3, 4]);
    f.service.handle(f.link, CHANNEL, ack(f, o, 5));
    const rs = await waitForResponses(f, o, 7);
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
    assert.equal(f.service.openSessions, 2, 'both opened inside handle()');
    await f.clock.advance(idle - 1);
    assert.equal(f.service.openSessions, 2, 'not idle long enough yet');
    for (let t = 0; t < 4; t++) {
      f.service.handle(f.link, CHANNEL, ack(f, alive, 0));
      await f.clock.advance(idle / 2);
    }
    assert.equal(f.service.openSessions, 1, 'the silent session was ended');
    assert.deepEqual(responses(f, silent.replyTo), [], 'without a status: its client is gone');
    // The ACKing one still streams.
    f.cut(1);
    const rs = await waitForResponses(f, alive, 1);
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
    const o = open(f, f.tc.boardSigner, seekNextCommit(), seekSpecified(MAX_BLOCK_NUMBER));
    await f.clock.advance(heartbeat - 1);
    assert.equal(responses(f, o.replyTo, o.share).length, 0);
    await f.clock.advance(1);
    let rs = responses(f, o.replyTo, o.share);
    assert.equal(rs.length, 1);
    assert.ok('blocks' in rs[0]! && rs[0].blocks.length === 0 && rs[0].seq === 1, 'an empty blocks response');
    await f.clock.advance(heartbeat);
    rs = responses(f, o.replyTo, o.share);
    assert.equal(rs.length, 2);
    assert.ok('blocks' in rs[1]! && rs[1].blocks.length === 0 && rs[1].seq === 2);
    f.cut(1);
    rs = await waitForResponses(f, o, 3);
    assert.deepEqual(blockNumbers(rs), [2]);
    assert.equal(rs[2]!.seq, 3);
  } finally {
    await f.close();
  }
});

test('CANCEL ends a session without a status', async () => {
  const f = await fixture({ blocks: 1 });
  try {
    const o = open(f, f.tc.boardSigner, seekNextCommit(), seekSpecified(MAX_BLOCK_NUMBER));
    assert.equal(f.service.openSessions, 1);
    f.service.handle(f.link, CHANNEL, cancel(f, o));
    // Its loop has returned: what it sent is all it will send.
    await sessionsOpen(f, 0);
    assert.deepEqual(responses(f, o.replyTo, o.share), []);
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
    // Each drop is reported inside handle(), before any answer or session could be made of the frame.
    assert.deepEqual(f.dropped, [...garbage.map(() => 'malformed'), 'no-reply-route']);
    assert.deepEqual(f.streams, [], 'no session opened');
    assert.equal(f.link.replies.length, 0, 'nothing to answer on');
    const o = open(f, f.tc.boardSigner, seekOldest(), seekNewest());
    const rs = await waitForResponses(f, o, 2);
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
    await waitForResponses(f, all, 2);
    assert.deepEqual(responses(f, all.replyTo).map((r) => ('blocks' in r ? r.blocks.length : -1)), [5, -1], 'one response, then SUCCESS');
    f.link.maxResponseBytes = 1;
    const small = open(f, f.tc.boardSigner, seekOldest(), seekSpecified(4));
    await waitForResponses(f, small, 6);
    assert.deepEqual(blockNumbers(responses(f, small.replyTo)), [0, 1, 2, 3, 4]);
    assert.equal(responses(f, small.replyTo).length, 6, 'one block per response, then SUCCESS');
  } finally {
    await f.close();
  }
});

test('a SEEK without a key share is BAD_REQUEST, answered without a MAC (no client can take it as its own)', async () => {
  const f = await fixture({ blocks: 1 });
  try {
    const o = open(f, f.tc.boardSigner, seekOldest(), seekNewest(), { noKeyShare: true });
    assert.equal(await refusal(f, o.replyTo), Status.BAD_REQUEST);
    assert.equal(responses(f, o.replyTo)[0]!.mac, undefined);
  } finally {
    await f.close();
  }
});

test('an ACK or CANCEL is taken only with the MAC of its session and a count above the last: forged ones change nothing', async () => {
  const f = await fixture({ blocks: 3, limits: { maxResponseBytes: 1 } }); // one block per response
  try {
    const o = open(f, f.tc.boardSigner, seekOldest(), seekSpecified(MAX_BLOCK_NUMBER), { window: 1 });
    await waitForResponses(f, o, 1);
    // Without the key: a MAC made with another key share, and an ACK of another session's client.
    const stranger = newKeyShare();
    const forged = clientMac(f, stranger);
    f.service.handle(f.link, CHANNEL, encodeAckFrame(o.session, 1, 1, forged.ack(o.session, 1, 1)));
    f.service.handle(f.link, CHANNEL, encodeCancelFrame(o.session, forged.cancel(o.session)));
    // Both dropped inside handle(): a session refuses an ACK or CANCEL before changing anything, so no
    // credit was given and no end started (the real ACK below then releases exactly one response).
    assert.deepEqual(f.dropped, ['bad-mac', 'bad-mac']);
    assert.equal(responses(f, o.replyTo).length, 1, 'the forged ACK gave no credit');
    assert.equal(f.service.openSessions, 1, 'the forged CANCEL ended nothing');
    // The real ACK is taken; the same ACK again (a replay: same count) is not.
    const first = ack(f, o, 1);
    f.service.handle(f.link, CHANNEL, first);
    await waitForResponses(f, o, 2);
    f.service.handle(f.link, CHANNEL, first);
    assert.deepEqual(f.dropped, ['bad-mac', 'bad-mac', 'bad-mac'], 'the replayed ACK dropped');
    assert.equal(responses(f, o.replyTo).length, 2, 'a replayed ACK gives no credit');
    // An idle sweep is not held off by forged ACKs either: only authenticated ones prove the client alive.
    f.service.handle(f.link, CHANNEL, cancel(f, o));
    await sessionsOpen(f, 0);
    assert.equal(f.dropped.length, 3, 'the authenticated CANCEL was taken');
  } finally {
    await f.close();
  }
});

test('a replayed SEEK is dropped: no answer, no second session', async () => {
  const f = await fixture({ blocks: 2 });
  try {
    const { frame, ...o } = seekFrame(f.tc.boardSigner, seekNextCommit(), seekSpecified(MAX_BLOCK_NUMBER));
    f.service.handle(f.link, CHANNEL, frame);
    assert.equal(f.service.openSessions, 1);
    f.service.handle(f.link, CHANNEL, cancel(f, o));
    await sessionsOpen(f, 0);
    const opened = f.streams.length;
    f.service.handle(f.link, CHANNEL, frame);
    // Dropped inside handle(), before a session or an answer could be made of it.
    assert.deepEqual(f.dropped, ['replayed']);
    assert.equal(f.streams.length, opened, 'the copy opened nothing');
    assert.deepEqual(responses(f, o.replyTo), [], 'and was not answered');
  } finally {
    await f.close();
  }
});

test('one identity holds at most maxSessionsPerIdentity sessions: its next SEEK ends its own oldest; the others keep theirs', async () => {
  const f = await fixture({ blocks: 1, limits: { maxSessions: 6, maxSessionsPerIdentity: 3 } });
  try {
    const other = open(f, f.tc.clientSigner, seekNextCommit(), seekSpecified(MAX_BLOCK_NUMBER));
    const mine: Opened[] = [];
    for (let i = 0; i < 20; i++) {
      mine.push(open(f, f.tc.boardSigner, seekNextCommit(), seekSpecified(MAX_BLOCK_NUMBER)));
      // The oldest pushed out leaves once its loop has returned: three of the flooding identity, one of the other.
      await sessionsOpen(f, 1 + Math.min(i + 1, 3));
    }
    // The survivors are the flooder's newest three, and the other identity's session.
    f.cut(1);
    for (const s of [other, ...mine.slice(-3)]) assert.deepEqual(blockNumbers(await waitForResponses(f, s, 1)), [2]);
    for (const s of mine.slice(0, -3)) assert.deepEqual(responses(f, s.replyTo), [], 'ended without a status');
    // A third identity still gets a session.
    const third = open(f, f.tc.ordererAdmin, seekNextCommit(), seekSpecified(MAX_BLOCK_NUMBER));
    assert.equal(f.service.openSessions, 5, 'opened inside handle()');
    assert.deepEqual(responses(f, third.replyTo), []);
  } finally {
    await f.close();
  }
});
