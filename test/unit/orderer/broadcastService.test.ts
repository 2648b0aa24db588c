// The Broadcast service over a real Chain on a real LMDB ledger: Writers for transactions, Admins for
// configuration updates, the statuses of every refusal, the absoluteMaxBytes limit, configuration
// blocks cut for a valid update (after whatever was pending), every answer authenticated for its
// requester only, and a replayed SUBMIT dropped (also after a restart) so nothing is ordered twice.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { configFromBlock } from '../../../src/channel/blocks.js';
import { issueCertificate } from '../../../src/protocol/certificate.js';
import { toHex } from '../../../src/crypto/hash.js';
import { generateKeyPair } from '../../../src/crypto/keys.js';
import { certificateValidityMs } from '../../../src/network/networkDefaults.js';
import { requestTimeWindowMs } from '../../../src/orderer/ordererDefaults.js';
import type { LmdbLedger } from '../../../src/ledger/lmdbLedger.js';
import { type KeyShare, newKeyShare } from '../../../src/crypto/keyAgreement.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { BroadcastService } from '../../../src/orderer/broadcastService.js';
import { type ReplayLimits, ReplayGuard, rememberLedgerTransactions, replayGuardDefaults } from '../../../src/orderer/replayGuard.js';
import { ReplyKeys } from '../../../src/orderer/replyKeys.js';
import { identityOf } from '../../../src/orderer/requestChecks.js';
import type { Chain } from '../../../src/orderer/chain.js';
import { blockEnvelopes, isConfigBlock } from '../../../src/protocol/block.js';
import { decodeCbor, encodeCbor } from '../../../src/protocol/cbor.js';
import { type BatchConfig, type ChannelConfig, channelConfigToWire } from '../../../src/protocol/channelConfig.js';
import { MessageType, type MessageTypeCode, type Signer, signEnvelope } from '../../../src/protocol/envelope.js';
import { type BroadcastResponse, decodeBroadcastResponse, encodeSubmitFrame } from '../../../src/protocol/frames.js';
import { Status } from '../../../src/protocol/status.js';
import { FakeServerLink, fakeReplyRoute } from '../../helpers/fakes.js';
import { broadcastResponseAuthentic as authenticFor } from '../../helpers/ordererReplies.js';
import { ChainFixtureRoot } from '../../helpers/chainFixture.js';
import type { TestChannel } from '../../helpers/testChannel.js';

const CHANNEL = 'testchannel';
const ABSOLUTE_MAX_BYTES = 4096;
/** Blocks are cut only by cut() or a config update, so a test sees exactly what is pending. */
const BATCH: BatchConfig = { maxMessageCount: 100, preferredMaxBytes: 2048, absoluteMaxBytes: ABSOLUTE_MAX_BYTES, batchTimeoutMs: 60_000 };

const chains = new ChainFixtureRoot('edgepeer-broadcast-');
before(() => chains.open());
after(() => chains.remove());

interface Fixture {
  tc: TestChannel;
  config: ChannelConfig;
  ledger: LmdbLedger;
  chain: Chain;
  link: FakeServerLink;
  service: BroadcastService;
  replay: ReplayGuard;
  dropped: string[];
  close(): Promise<void>;
}

function fixture(replayLimits: ReplayLimits = replayGuardDefaults.broadcast): Fixture {
  const base = chains.chain(CHANNEL, BATCH);
  const { tc, config, ledger, chain, clock } = base;
  const link = new FakeServerLink();
  const replay = new ReplayGuard(requestTimeWindowMs, clock, replayLimits);
  const dropped: string[] = [];
  const service = new BroadcastService({
    chains: new Map([[CHANNEL, chain]]), clock, log: silentLogger(), requestTimeWindowMs,
    replyKeys: new ReplyKeys(tc.ordererSigner, clock), replay,
    observer: { request: () => undefined, dropped: (r) => dropped.push(r) },
  });
  return {
    tc, config, ledger, chain, link, service, replay, dropped,
    close: async () => {
      replay.close();
      await base.close();
    },
  };
}

interface SubmitOptions {
  type?: MessageTypeCode;
  channel?: string;
  route?: string;
  timestamp?: number;
  /** The client's key share (default: a fresh one). */
  keyShare?: KeyShare;
}

interface Submission {
  frame: Uint8Array;
  envelope: Uint8Array;
  replyTo: string;
  txId: string;
  keyShare: KeyShare;
}

/** A signed SUBMIT frame and the envelope bytes inside it. */
function submission(signer: Signer, data: unknown, o: SubmitOptions = {}): Submission {
  const channel = o.channel ?? CHANNEL;
  const session = randomBytes(6).toString('hex');
  const replyTo = fakeReplyRoute(o.route ?? channel, `${signer.certificate.id}.${session}`);
  const keyShare = o.keyShare ?? newKeyShare();
  const env = signEnvelope({
    type: o.type ?? MessageType.TRANSACTION, channel, data, replyTo, session, keyShare: keyShare.publicRaw,
    ...(o.timestamp === undefined ? {} : { timestamp: o.timestamp }),
  }, signer);
  return { frame: encodeSubmitFrame(env.bytes), envelope: env.bytes, replyTo, txId: env.txId, keyShare };
}


/** Submits on the route of `o.route` (default: the payload's channel) and returns the one answer, checked authentic. */
function submit(f: Fixture, signer: Signer, data: unknown, o: SubmitOptions = {}): BroadcastResponse & { envelope: Uint8Array } {
  const s = submission(signer, data, o);
  f.service.handle(f.link, o.route ?? o.channel ?? CHANNEL, s.frame);
  const answers = f.link.repliesTo(s.replyTo).map(decodeBroadcastResponse);
  assert.equal(answers.length, 1, 'one answer per request');
  assert.equal(answers[0]!.txId, s.txId);
  assert.ok(authenticFor(answers[0]!, s.keyShare, f.tc.ordererSigner), 'the answer is authenticated for the requester');
  return { ...answers[0]!, envelope: s.envelope };
}

/** A transaction envelope of exactly `bytes` bytes. */
function envelopeOfSize(signer: Signer, bytes: number): ReturnType<typeof submission> {
  let dataBytes = bytes - 300;
  for (;;) {
    const s = submission(signer, new Uint8Array(Math.max(0, dataBytes)));
    if (s.envelope.length === bytes) return s;
    dataBytes += bytes - s.envelope.length;
  }
}

test('a transaction from a writer is SUCCESS and is ordered', async () => {
  const f = fixture();
  try {
    const r = submit(f, f.tc.clientSigner, { hello: 'world' });
    assert.equal(r.status, Status.SUCCESS, r.info);
    assert.equal(f.chain.pendingCount, 1);
    const r2 = submit(f, f.tc.boardSigner, { n: 2 });
    assert.equal(r2.status, Status.SUCCESS, 'peers of a writer org may write too');
    f.chain.close(); // cuts what is pending
    const block = f.ledger.getBlock(1)!;
    assert.deepEqual(blockEnvelopes(block).map(toHex), [toHex(r.envelope), toHex(r2.envelope)]);
  } finally {
    await f.close();
  }
});

test('a requester outside Writers, or a bad signature, is FORBIDDEN and nothing is ordered', async () => {
  const f = fixture();
  try {
    // The orderer org reads but does not write.
    assert.equal(submit(f, f.tc.ordererAdmin, { x: 1 }).status, Status.FORBIDDEN);
    const s = submission(f.tc.clientSigner, { x: 2 });
    const m = decodeCbor(s.envelope) as { payload: Uint8Array; signature: Uint8Array };
    const signature = Uint8Array.from(m.signature);
    signature[0] = signature[0]! ^ 0x80;
    f.service.handle(f.link, CHANNEL, encodeSubmitFrame(encodeCbor({ payload: m.payload, signature })));
    const answers = f.link.repliesTo(s.replyTo).map(decodeBroadcastResponse);
    assert.deepEqual(answers.map((a) => a.status), [Status.FORBIDDEN]);
    assert.equal(f.chain.pendingCount, 0);
  } finally {
    await f.close();
  }
});

test('a payload channel that differs from the route channel is BAD_REQUEST', async () => {
  const f = fixture();
  try {
    const r = submit(f, f.tc.clientSigner, { x: 1 }, { channel: 'elsewhere', route: CHANNEL });
    assert.equal(r.status, Status.BAD_REQUEST);
    assert.equal(f.chain.pendingCount, 0);
  } finally {
    await f.close();
  }
});

test('an unknown channel is NOT_FOUND', async () => {
  const f = fixture();
  try {
    assert.equal(submit(f, f.tc.clientSigner, { x: 1 }, { channel: 'elsewhere' }).status, Status.NOT_FOUND);
  } finally {
    await f.close();
  }
});

test('a message type Broadcast does not take, or a stale timestamp, is BAD_REQUEST', async () => {
  const f = fixture();
  try {
    assert.equal(submit(f, f.tc.clientSigner, {}, { type: MessageType.DELIVER_SEEK }).status, Status.BAD_REQUEST);
    assert.equal(submit(f, f.tc.clientSigner, { x: 1 }, { timestamp: Date.now() - requestTimeWindowMs - 60_000 }).status, Status.BAD_REQUEST);
    assert.equal(f.chain.pendingCount, 0);
  } finally {
    await f.close();
  }
});

test('an envelope above absoluteMaxBytes is REQUEST_ENTITY_TOO_LARGE; one of exactly that size is taken', async () => {
  const f = fixture();
  try {
    const atLimit = envelopeOfSize(f.tc.clientSigner, ABSOLUTE_MAX_BYTES);
    f.service.handle(f.link, CHANNEL, atLimit.frame);
    assert.deepEqual(f.link.repliesTo(atLimit.replyTo).map((b) => decodeBroadcastResponse(b).status), [Status.SUCCESS]);
    const over = envelopeOfSize(f.tc.clientSigner, ABSOLUTE_MAX_BYTES + 1);
    f.service.handle(f.link, CHANNEL, over.frame);
    const answers = f.link.repliesTo(over.replyTo).map(decodeBroadcastResponse);
    assert.deepEqual(answers.map((a) => a.status), [Status.REQUEST_ENTITY_TOO_LARGE]);
    assert.match(answers[0]!.info ?? '', /absoluteMaxBytes/);
    // Above preferredMaxBytes, the one at the limit was cut into a block of its own; the other never was.
    assert.equal(f.chain.height(), 2);
    assert.equal(f.chain.pendingCount, 0);
    assert.deepEqual(blockEnvelopes(f.ledger.getBlock(1)!).map(toHex), [toHex(atLimit.envelope)]);
  } finally {
    await f.close();
  }
});

test('a CONFIG_UPDATE by the orderer admin with sequence + 1 cuts the pending batch, then a configuration block', async () => {
  const f = fixture();
  try {
    const tx = submit(f, f.tc.clientSigner, { before: 'config' });
    assert.equal(tx.status, Status.SUCCESS);
    const next: ChannelConfig = { ...f.config, sequence: 1, batch: { ...BATCH, maxMessageCount: 2 } };
    const r = submit(f, f.tc.ordererAdmin, channelConfigToWire(next), { type: MessageType.CONFIG_UPDATE });
    assert.equal(r.status, Status.SUCCESS, r.info);
    assert.equal(f.chain.height(), 3);
    const txBlock = f.ledger.getBlock(1)!;
    assert.ok(!isConfigBlock(txBlock));
    assert.deepEqual(blockEnvelopes(txBlock).map(toHex), [toHex(tx.envelope)]);
    const cfgBlock = f.ledger.getBlock(2)!;
    assert.ok(isConfigBlock(cfgBlock));
    assert.equal(configFromBlock(cfgBlock).sequence, 1);
    assert.equal(f.chain.state.config.sequence, 1);
    // The new batch config governs what follows: two envelopes now make a block.
    submit(f, f.tc.clientSigner, { n: 1 });
    submit(f, f.tc.clientSigner, { n: 2 });
    assert.equal(f.chain.height(), 4);
  } finally {
    await f.close();
  }
});

test('a CONFIG_UPDATE with the wrong sequence is BAD_REQUEST and cuts nothing', async () => {
  const f = fixture();
  try {
    for (const sequence of [0, 2]) {
      const r = submit(f, f.tc.ordererAdmin, channelConfigToWire({ ...f.config, sequence }), { type: MessageType.CONFIG_UPDATE });
      assert.equal(r.status, Status.BAD_REQUEST, `sequence ${sequence}`);
      assert.match(r.info ?? '', /sequence/);
    }
    const garbled = submit(f, f.tc.ordererAdmin, { not: 'a config' }, { type: MessageType.CONFIG_UPDATE });
    assert.equal(garbled.status, Status.BAD_REQUEST);
    assert.equal(f.chain.height(), 1);
    assert.equal(f.chain.state.config.sequence, 0);
  } finally {
    await f.close();
  }
});

test('a CONFIG_UPDATE that drops this orderer from the block signers is BAD_REQUEST and cuts nothing',
  async () => {
    const f = fixture();
    try {
      const keys = generateKeyPair();
      const now = Date.now();
      const other = issueCertificate(
        { id: 'orderer9', org: 'orderer', role: 'orderer', publicKey: keys.publicKeyRaw, notBefore: now - 60_000, notAfter: now + certificateValidityMs },
        f.tc.orgRoots.get('orderer')!.privateKey,
      );
      const next: ChannelConfig = { ...f.config, sequence: 1, orderer: { ...f.config.orderer, signers: [other] } };
      const r = submit(f, f.tc.ordererAdmin, channelConfigToWire(next), { type: MessageType.CONFIG_UPDATE });
      assert.equal(r.status, Status.BAD_REQUEST);
      assert.equal(f.chain.height(), 1, 'no configuration block was cut');
      assert.equal(f.chain.state.config.sequence, 0, 'the configuration in effect did not change');
    } finally {
      await f.close();
    }
  });

test('a CONFIG_UPDATE by a non-admin is FORBIDDEN and cuts nothing', async () => {
  const f = fixture();
  try {
    for (const signer of [f.tc.clientSigner, f.tc.ordererSigner]) {
      const r = submit(f, signer, channelConfigToWire({ ...f.config, sequence: 1 }), { type: MessageType.CONFIG_UPDATE });
      assert.equal(r.status, Status.FORBIDDEN, signer.certificate.id);
    }
    assert.equal(f.chain.height(), 1);
    assert.equal(f.chain.state.config.sequence, 0);
  } finally {
    await f.close();
  }
});

test('a malformed frame is dropped without an answer or a throw', async () => {
  const f = fixture();
  try {
    for (const g of [randomBytes(30), encodeCbor({ kind: 1 }), encodeCbor({ kind: 2, envelope: {} })]) {
      assert.doesNotThrow(() => f.service.handle(f.link, CHANNEL, g));
    }
    assert.equal(f.link.replies.length, 0);
    assert.equal(submit(f, f.tc.clientSigner, { still: 'served' }).status, Status.SUCCESS);
  } finally {
    await f.close();
  }
});

test('every answer is authenticated for its requester alone; one without a key share gets an answer no client takes', async () => {
  const f = fixture();
  try {
    const s = submission(f.tc.clientSigner, { a: 1 });
    f.service.handle(f.link, CHANNEL, s.frame);
    const [answer] = f.link.repliesTo(s.replyTo).map(decodeBroadcastResponse);
    assert.ok(answer !== undefined && authenticFor(answer, s.keyShare, f.tc.ordererSigner));
    assert.equal(authenticFor(answer, newKeyShare(), f.tc.ordererSigner), false, 'under another key share the MAC does not verify');
    assert.equal(authenticFor({ ...answer, status: Status.FORBIDDEN }, s.keyShare, f.tc.ordererSigner), false, 'nor for another status');
    // A request without a key share: answered (for whoever debugs a client), but without a MAC.
    const session = 'no-share';
    const replyTo = fakeReplyRoute(CHANNEL, `client.${session}`);
    const env = signEnvelope({ type: MessageType.TRANSACTION, channel: CHANNEL, data: { b: 2 }, replyTo, session }, f.tc.clientSigner);
    f.service.handle(f.link, CHANNEL, encodeSubmitFrame(env.bytes));
    const [bare] = f.link.repliesTo(replyTo).map(decodeBroadcastResponse);
    assert.equal(bare?.status, Status.SUCCESS);
    assert.equal(bare?.mac, undefined);
  } finally {
    await f.close();
  }
});

test('a replayed SUBMIT is dropped without an answer and ordered once, also after the orderer restarts', async () => {
  const f = fixture();
  try {
    const s = submission(f.tc.clientSigner, { once: true });
    f.service.handle(f.link, CHANNEL, s.frame);
    f.service.handle(f.link, CHANNEL, s.frame);
    assert.deepEqual(f.link.repliesTo(s.replyTo).map((b) => decodeBroadcastResponse(b).status), [Status.SUCCESS], 'the copy gets no answer');
    assert.deepEqual(f.dropped, ['replayed']);
    assert.equal(f.chain.pendingCount, 1, 'ordered once');
    f.chain.close();
    // A restarted orderer remembers the transactions of the window from its ledger.
    const fresh = new ReplayGuard(requestTimeWindowMs, { now: () => Date.now(), setTimeout: () => ({}), clearTimeout: () => undefined }, replayGuardDefaults.broadcast);
    const scan = rememberLedgerTransactions(fresh, f.ledger, Date.now(), requestTimeWindowMs, identityOf);
    assert.deepEqual(scan, { blocks: 1, remembered: 1, incomplete: false });
    assert.equal(fresh.admit(s.txId, identityOf(f.tc.clientSigner.certificate), Date.now()), 'replayed');
    fresh.close();
  } finally {
    await f.close();
  }
});

test('one identity cannot take all of the replay memory: beyond its share its requests are SERVICE_UNAVAILABLE, others are served', async () => {
  const f = fixture({ maxEntries: 8, maxEntriesPerIdentity: 3 });
  try {
    for (let i = 0; i < 3; i++) assert.equal(submit(f, f.tc.clientSigner, { i }).status, Status.SUCCESS);
    const over = submit(f, f.tc.clientSigner, { i: 3 });
    assert.equal(over.status, Status.SERVICE_UNAVAILABLE);
    assert.match(over.info ?? '', /too many requests from/);
    assert.equal(submit(f, f.tc.boardSigner, { other: 'member' }).status, Status.SUCCESS, 'another identity is still served');
    f.chain.close();
    let ordered = 0;
    for (let n = 1; n < f.ledger.height(); n++) ordered += blockEnvelopes(f.ledger.getBlock(n)!).length;
    assert.equal(ordered, 4, 'what was SUCCESS was ordered; the refused one was not');
  } finally {
    await f.close();
  }
});
