// The gateway role (src/fabricGateway/gateway.ts) with nothing to follow, on a real ledger anchored at a real
// Fabric genesis block (test/fixtures/fabric) and a recording server link: it refuses a Broadcast with
// BAD_REQUEST saying where transactions go, authenticated for the requester like every reply; it drops a
// malformed one and answers nobody on a route the link does not allow; it is refused an edge access
// configuration of another channel, and Fabric endpoints without a connector and an identity; stop()
// closes its links and its chain. Following and serving blocks end to end: test/integration/fabricGateway*.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { systemClock } from '../../../src/config/clock.js';
import { newKeyShare } from '../../../src/crypto/keyAgreement.js';
import { FabricChannelRules } from '../../../src/fabric/channelRules.js';
import { Gateway, type GatewayOptions } from '../../../src/fabricGateway/gateway.js';
import { fabricChainRules } from '../../../src/ledger/fabricChainRules.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { MessageType, signEnvelope } from '../../../src/protocol/envelope.js';
import { decodeBroadcastResponse, encodeSubmitFrame } from '../../../src/protocol/frames.js';
import { Status } from '../../../src/protocol/status.js';
import { FakeServerLink, fakeReplyRoute } from '../../helpers/fakes.js';
import { clusterMychannelBlock } from '../../helpers/fabric/realData.js';
import { broadcastResponseAuthentic } from '../../helpers/ordererReplies.js';
import { makeTestChannel } from '../../helpers/testChannel.js';

const GENESIS = clusterMychannelBlock();
const CHANNEL = FabricChannelRules.fromConfigBlock(GENESIS).channelId;
const REFUSAL = 'this is a Fabric gateway: submit transactions to the Fabric network';
const FOLLOW_LIMITS = { baseDelayMs: 100, maxDelayMs: 1_000, runMaxBlocks: 16, runMaxBytes: 1 << 20 };

function options(t: { after(fn: () => unknown): void }, over: Partial<GatewayOptions> = {}): GatewayOptions & { tc: ReturnType<typeof makeTestChannel> } {
  const dataDir = mkdtempSync(join(tmpdir(), 'edgepeer-gateway-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  // The edge access configuration: an edgepeer configuration block for the Fabric channel's name.
  const tc = makeTestChannel({ channel: CHANNEL });
  return {
    tc, dataDir, channel: CHANNEL, rules: fabricChainRules(CHANNEL, GENESIS), access: tc.genesis, endpoints: [],
    replySigner: tc.ordererSigner, clock: systemClock, random: Math.random, log: silentLogger(), followLimits: FOLLOW_LIMITS, ...over,
  };
}

async function started(t: { after(fn: () => unknown): void }): Promise<{ gateway: Gateway; link: FakeServerLink; tc: ReturnType<typeof makeTestChannel> }> {
  const o = options(t);
  const gateway = new Gateway(o);
  t.after(() => gateway.stop());
  const link = new FakeServerLink();
  await gateway.serve(link);
  return { gateway, link, tc: o.tc };
}

test('a Broadcast is refused with BAD_REQUEST saying where transactions go, authenticated for the requester by the reply signer', async (t) => {
  const { gateway, link, tc } = await started(t);
  assert.equal(gateway.height, 1, 'the ledger anchored at the Fabric genesis');
  const keyShare = newKeyShare();
  const replyTo = fakeReplyRoute(CHANNEL, `${tc.clientSigner.certificate.id}.s1`);
  const env = signEnvelope({
    type: MessageType.TRANSACTION, channel: CHANNEL, data: { key: 'v' }, replyTo, session: 's1', keyShare: keyShare.publicRaw,
  }, tc.clientSigner);
  link.request({ channel: CHANNEL, service: 'broadcast', message: encodeSubmitFrame(env.bytes) });
  await link.waitForReplies(1);
  assert.equal(link.replies[0]!.replyTo, replyTo);
  const answer = decodeBroadcastResponse(link.replies[0]!.message);
  assert.deepEqual([answer.session, answer.txId, answer.status, answer.info], ['s1', env.txId, Status.BAD_REQUEST, REFUSAL]);
  assert.ok(broadcastResponseAuthentic(answer, keyShare, tc.ordererSigner), 'MAC and ReplyKey for this requester');
  assert.equal(broadcastResponseAuthentic(answer, newKeyShare(), tc.ordererSigner), false, 'not for another key share');
  assert.equal(gateway.height, 1, 'nothing ordered');
});

test('a malformed Broadcast is dropped without an answer, and so is one whose reply route the link does not allow', async (t) => {
  const { link, tc } = await started(t);
  link.request({ channel: CHANNEL, service: 'broadcast', message: Uint8Array.from([0xff, 0x00]) });
  const env = signEnvelope({
    type: MessageType.TRANSACTION, channel: CHANNEL, data: 1, replyTo: 'elsewhere/not-a-reply-route', session: 's2', keyShare: newKeyShare().publicRaw,
  }, tc.clientSigner);
  link.request({ channel: CHANNEL, service: 'broadcast', message: encodeSubmitFrame(env.bytes) });
  // A third, answerable one: its answer is the only one, so the two before it were judged and dropped.
  const ok = signEnvelope({
    type: MessageType.TRANSACTION, channel: CHANNEL, data: 2, replyTo: fakeReplyRoute(CHANNEL, 'c.s3'), session: 's3', keyShare: newKeyShare().publicRaw,
  }, tc.clientSigner);
  link.request({ channel: CHANNEL, service: 'broadcast', message: encodeSubmitFrame(ok.bytes) });
  await link.waitForReplies(1);
  assert.deepEqual(link.replies.map((r) => decodeBroadcastResponse(r.message).session), ['s3']);
});

test('an edge access configuration of another channel is refused; so are Fabric endpoints without a connector and an identity', (t) => {
  const other = makeTestChannel({ channel: 'otherchannel' });
  assert.throws(() => new Gateway(options(t, { access: other.genesis })),
    new RegExp(`the edge access configuration is for channel 'otherchannel', not '${CHANNEL}'`));
  assert.throws(() => new Gateway(options(t, { endpoints: [{ address: 'orderer.example.com:7050' }] })),
    /following Fabric endpoints needs a connector and an MSP identity/);
});

test('stop() closes the links and the chain', async (t) => {
  const { gateway, link } = await started(t);
  await gateway.stop();
  assert.equal(link.closed, true);
  assert.equal(gateway.chain.isClosed, true);
});
