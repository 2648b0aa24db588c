import { blockHash } from '../../src/protocol/blockHash.js';
// What an attacker on the broker can and cannot do, against real processes over real MQTT (the embedded
// Aedes and Mosquitto): forged blocks from a fake orderer are never committed; a board from another
// network is refused until it gives up; a revoked board loses its live stream while the others go on;
// garbage on the request topics is dropped and the orderer keeps serving.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, type TestContext, test } from 'node:test';
import { type MqttClient, connectAsync } from 'mqtt';
import { BroadcastClient } from '../../src/client/broadcastClient.js';
import { type BlockSigner, configFromBlock, makeBlock } from '../../src/channel/blocks.js';
import { deliverClientDefaults } from '../../src/peer/peerDefaults.js';
import { topicRoot } from '../../src/transport/mqtt/topics.js';
import { genesisTrust } from '../../src/channel/responderTrust.js';
import { systemClock } from '../../src/config/clock.js';
import { newKeyShare } from '../../src/crypto/keyAgreement.js';
import { ReplyKeys } from '../../src/orderer/replyKeys.js';
import { brokerCredentials, brokerUsername } from '../../src/transport/mqtt/brokerIdentity.js';
import { toHex } from '../../src/crypto/hash.js';
import { signBytes } from '../../src/crypto/keys.js';
import type { NetworkSummary } from '../../src/network/createNetwork.js';
import { loadBoard, loadClient, loadGenesis, loadOrdererIdentities } from '../../src/network/loadNetwork.js';
import {
  BlockLayout, DATA_HASH_OFFSET, HEADER_BYTES, HEADER_OFFSET, LayoutError, PREVIOUS_HASH_OFFSET, SIGNATURE_ENTRY_BYTES,
  locateBlock,
} from '../../src/protocol/block.js';
import { asMap, decodeCbor, encodeCbor } from '../../src/protocol/cbor.js';
import { channelConfigToWire } from '../../src/protocol/channelConfig.js';
import { MessageType, type Signer, signEnvelope } from '../../src/protocol/envelope.js';
import {
  FrameKind, decodeBroadcastResponse, decodeDeliverRequestFrame, decodeDeliverResponse, encodeDeliverBlocks, encodeSeekFrame,
  encodeSubmitFrame,
} from '../../src/protocol/frames.js';
import { MAX_BLOCK_NUMBER, SeekBehavior, SeekType, seekInfoFromWire, seekInfoToWire, seekSpecified } from '../../src/protocol/seek.js';
import { Status, statusName } from '../../src/protocol/status.js';
import { MqttClientLink } from '../../src/transport/mqtt/mqttClientLink.js';
import { MqttServerLink } from '../../src/transport/mqtt/mqttServerLink.js';
import { type BrokerCase, type RunningBroker, brokerCases } from '../helpers/brokers.js';
import {
  type CliProcess, type OrdererBroker, type StatusFields, TestRig, brokerForOrderer, freePort, heightOf, initNetwork,
  killAllProcesses, ledgerInfo, ledgerVerify, readMetric, runCliJson, statusLines, waitForMetric, waitForStatus,
} from '../helpers/processes.js';
import { WAIT_TIMEOUT_MS, pollUntil, withTimeout } from '../helpers/wait.js';

const CHANNEL = 'securechannel';
const STATUS_INTERVAL_MS = 50;
/** Short backoff (the retry base, 100 ms, is the shortest the policy allows): a refused peer retries within a second. */
const MAX_RETRY_DELAY_MS = 100;
const MAX_MESSAGE_COUNT = 5;
const BATCH_TIMEOUT_MS = 60_000;
const GIVE_UP_TIMEOUT_MS = 15_000;
/** SEEKs a refused board sends before it stops for good. */
const SEEKS_UNTIL_GIVE_UP = deliverClientDefaults.wrongStatusThreshold + 1;

after(killAllProcesses);

interface SubmitResult {
  accepted: number;
  byStatus: Record<string, number>;
}

interface Setup {
  rig: TestRig;
  root: string;
  net: NetworkSummary;
  peerData(board: string): string;
  startPeer(netDir: string, board: string, url: string): CliProcess;
}

async function setup(t: TestContext, boardsPerOrg: number): Promise<Setup> {
  const rig = new TestRig();
  t.after(() => rig.close());
  const root = rig.tempDir();
  const net = await initNetwork(join(root, 'network'), {
    channel: CHANNEL, boardsPerOrg, maxMessageCount: MAX_MESSAGE_COUNT, batchTimeoutMs: BATCH_TIMEOUT_MS,
  });
  const peerData = (board: string): string => join(root, 'peers', board);
  return {
    rig, root, net, peerData,
    startPeer: (netDir, board, url) => rig.spawn([
      'peer', '--network', netDir, '--board', board, '--data', peerData(board), '--mqtt', url,
      '--status-interval-ms', String(STATUS_INTERVAL_MS), '--max-retry-delay-ms', String(MAX_RETRY_DELAY_MS),
    ], { name: `peer ${board}` }),
  };
}

/** A real orderer process with metrics, on the broker of `brokerCase`; null when the broker is missing. */
async function withOrderer(t: TestContext, s: Setup, brokerCase: BrokerCase): Promise<{ broker: OrdererBroker; metricsPort: number; proc: CliProcess } | null> {
  const broker = await brokerForOrderer(brokerCase);
  if ('skip' in broker) {
    t.skip(broker.skip);
    return null;
  }
  s.rig.defer(() => broker.stop());
  const metricsPort = await freePort();
  const { proc } = await s.rig.orderer([
    '--network', s.net.dir, '--data', join(s.root, 'orderer'), '--metrics-port', String(metricsPort), ...broker.ordererArgs,
  ]);
  return { broker, metricsPort, proc };
}

function submitArgs(s: Setup, url: string, count: number): string[] {
  return ['submit', '--network', s.net.dir, '--mqtt', url, '--count', String(count), '--size', '64', '--json'];
}

// ---- Forgeries of genuine blocks: each keeps every other check passing ----

function located(block: Uint8Array): BlockLayout {
  const layout = new BlockLayout();
  if (locateBlock(block, layout) !== LayoutError.ok) throw new Error('not a block');
  return layout;
}

function flipBit(bytes: Uint8Array, offset: number): void {
  bytes[offset] = bytes[offset]! ^ 0x01;
}

/** Signs the (changed) header again with the orderer's real key, so only the intended defect remains. */
function resign(copy: Uint8Array, signer: BlockSigner): Uint8Array {
  const layout = located(copy);
  const header = copy.subarray(HEADER_OFFSET, HEADER_OFFSET + HEADER_BYTES);
  for (let i = 0; i < layout.signatureCount; i++) copy.set(signBytes(signer.key, header), layout.signaturesOffset + i * SIGNATURE_ENTRY_BYTES + 2);
  return copy;
}

const forge = {
  badSignature(block: Uint8Array): Uint8Array {
    const copy = block.slice();
    flipBit(copy, located(copy).signaturesOffset + 2);
    return copy;
  },
  /**
   * A wrong previous hash under the block's old signature: a fake orderer cannot sign the changed
   * header. (Re-signed with the orderer's key it would be the orderer's own conflicting block: a fork,
   * which stops the board instead, test/integration/forkDetected.test.ts.)
   */
  badPreviousHash(block: Uint8Array): Uint8Array {
    const copy = block.slice();
    flipBit(copy, PREVIOUS_HASH_OFFSET);
    return copy;
  },
  badDataHash(block: Uint8Array, signer: BlockSigner): Uint8Array {
    const copy = block.slice();
    flipBit(copy, DATA_HASH_OFFSET);
    return resign(copy, signer);
  },
  /** The content changed after signing: header and signature genuine, data not. */
  tamperedData(block: Uint8Array): Uint8Array {
    const copy = block.slice();
    const layout = located(copy);
    flipBit(copy, layout.dataOffset + layout.dataLength - 1);
    return copy;
  },
};

/** Genuine blocks 0..count-1 of the network's channel, made and signed as its orderer would. */
function genuineChain(netDir: string, count: number): { blocks: Uint8Array[]; signer: BlockSigner; hashes: string[] } {
  const genesis = loadGenesis(netDir, CHANNEL);
  const node = loadOrdererIdentities(netDir).node;
  const index = configFromBlock(genesis).orderer.signers.findIndex((c) => c.fingerprint === node.certificate.fingerprint);
  assert.ok(index >= 0, 'the orderer node is a block signer of the genesis configuration');
  const signer: BlockSigner = { index, key: node.privateKey };
  const client = loadClient(netDir);
  const blocks = [genesis];
  const hashes = [toHex(blockHash(genesis))];
  let previous = blockHash(genesis);
  for (let n = 1; n < count; n++) {
    const tx = signEnvelope({ type: MessageType.TRANSACTION, channel: CHANNEL, data: { n } }, client).bytes;
    const b = makeBlock(n, previous, [tx], 0, [signer]);
    blocks.push(b.bytes);
    hashes.push(toHex(b.hash));
    previous = b.hash;
  }
  return { blocks, signer, hashes };
}

/**
 * A fake orderer on the broker: answers the n-th SEEK with `responses[n]` (then nothing), and records
 * the block each seek starts from. It holds the network's orderer identity (so its responses are
 * authenticated as the real orderer's would be): only the blocks it sends are forged.
 */
async function fakeOrderer(url: string, netDir: string, responses: Uint8Array[][]): Promise<{ seekStarts: number[]; link: MqttServerLink }> {
  const seekStarts: number[] = [];
  const replyKeys = new ReplyKeys(loadOrdererIdentities(netDir).node, systemClock);
  const link = new MqttServerLink({ endpoint: { url } });
  await link.start((req) => {
    if (req.service !== 'deliver') return;
    const frame = decodeDeliverRequestFrame(req.message);
    if (frame.kind !== FrameKind.SEEK) return;
    const seek = seekInfoFromWire(frame.envelope.payload.data);
    seekStarts.push(seek.start.type === SeekType.SPECIFIED ? seek.start.number : -1);
    const blocks = responses[seekStarts.length - 1];
    const { replyTo, session, keyShare } = frame.envelope.payload;
    const key = replyKeys.agree(keyShare);
    if (blocks === undefined || replyTo === undefined || session === undefined || typeof key === 'string') return;
    void link.reply(replyTo, encodeDeliverBlocks(session, 1, blocks, key.mac.deliverBlocks(session, 1, blocks), key.replyKey));
  });
  return { seekStarts, link };
}

/** A bare broker of `brokerCase` for a fake orderer, stopped with the rig; null (test skipped) when missing. */
async function withBroker(t: TestContext, s: Setup, brokerCase: BrokerCase): Promise<RunningBroker | null> {
  const running = await brokerCase.start();
  if ('skip' in running) {
    t.skip(running.skip);
    return null;
  }
  s.rig.defer(() => running.stop());
  return running;
}

/** Publishes raw bytes and subscribes, with no edgepeer code in between; logged in as `member` when given. */
async function rawClient(url: string, rig: TestRig, member?: Signer): Promise<MqttClient> {
  const login = member === undefined ? {} : brokerCredentials(member);
  const c = await connectAsync(url, { clientId: `raw-${process.pid}-${Date.now()}`, reconnectPeriod: 0, ...login });
  rig.defer(() => c.endAsync(true));
  return c;
}

for (const brokerCase of brokerCases()) {
  test(`security over ${brokerCase.name}: forged blocks from a fake orderer are never committed; the peer re-seeks from its height`, async (t) => {
    const s = await setup(t, 1);
    const running = await withBroker(t, s, brokerCase);
    if (running === null) return;
    const board = s.net.boards[0]!.id;
    const { blocks, signer, hashes } = genuineChain(s.net.dir, 9);
    // Seek 1 gets blocks 1..5 and a forged 6; each later seek another forgery of 6; the last the genuine 6..8.
    const responses = [
      [...blocks.slice(1, 6), forge.badSignature(blocks[6]!)],
      [forge.badPreviousHash(blocks[6]!)],
      [forge.badDataHash(blocks[6]!, signer)],
      [forge.tamperedData(blocks[6]!)],
      blocks.slice(6, 9),
    ];
    const fake = await fakeOrderer(running.url, s.net.dir, responses);
    s.rig.defer(() => fake.link.close());
    const peer = s.startPeer(s.net.dir, board, running.url);

    const final = await waitForStatus(peer, (st) => heightOf(st) === 9, 'height=9 (the genuine chain)', { timeoutMs: GIVE_UP_TIMEOUT_MS });
    assert.equal(final['rejected'], '4', 'four forged blocks rejected');
    assert.deepEqual(fake.seekStarts, [1, 6, 6, 6, 6], 'every seek after a rejection starts at the first block not yet verified');
    // Each rejection prints a status line. The first comes in the same response as blocks 1..5, before
    // their commit; at the later ones the ledger holds exactly the good prefix, blocks 0..5.
    const rejectionLines = [2, 3, 4].map((n) => statusLines(peer).find((st) => st['rejected'] === String(n)));
    assert.deepEqual(rejectionLines.map((st) => st && heightOf(st)), [6, 6, 6], 'height when forgeries 2..4 were rejected');
    assert.match(peer.stderr, /block rejected/);

    await peer.stop();
    const info = await ledgerInfo(s.peerData(board));
    assert.equal(info.height, 9);
    assert.equal(info.lastHash, hashes[8], 'the chain committed is the genuine one');
    assert.equal((await ledgerVerify(s.peerData(board))).ok, true);
  });

  test(`security over ${brokerCase.name}: a block with a broken signature is not committed when a well-signed block follows it`, async (t) => {
    const s = await setup(t, 1);
    const running = await withBroker(t, s, brokerCase);
    if (running === null) return;
    const board = s.net.boards[0]!.id;
    const { blocks } = genuineChain(s.net.dir, 5);
    // Block 3's header is genuine (block 4, correctly signed, chains to it) but its signature bytes are not.
    const responses = [[blocks[1]!, blocks[2]!, forge.badSignature(blocks[3]!), blocks[4]!], blocks.slice(3, 5)];
    const fake = await fakeOrderer(running.url, s.net.dir, responses);
    s.rig.defer(() => fake.link.close());
    const peer = s.startPeer(s.net.dir, board, running.url);
    const final = await waitForStatus(peer, (st) => heightOf(st) === 5, 'height=5', { timeoutMs: GIVE_UP_TIMEOUT_MS });
    await peer.stop();
    // Whatever the peer commits must pass the audit of its own ledger, which checks every signature.
    const check = await ledgerVerify(s.peerData(board));
    assert.equal(check.ok, true, `peer ledger verifies: ${JSON.stringify(check)}`);
    assert.equal(final['rejected'], '1');
  });

  test(`security over ${brokerCase.name}: a board of another network is refused (FORBIDDEN) and gets nothing; it cannot take the answers for its own orderer's`, async (t) => {
    const s = await setup(t, 1);
    const o = await withOrderer(t, s, brokerCase);
    if (o === null) return;
    const submitted = await runCliJson<SubmitResult>(submitArgs(s, o.broker.url, 10), { name: 'submit' });
    assert.equal(submitted.accepted, 10);
    // Same channel name, same board name, but certificates from another org root.
    const other = await initNetwork(join(s.root, 'other-network'), { channel: CHANNEL, boardsPerOrg: 1 });
    const intruderBoard = other.boards[0]!.id;
    const intruder = s.startPeer(other.dir, intruderBoard, o.broker.url);

    if (brokerCase.name === 'aedes') {
      // The orderer's embedded broker checks logins against the channel configuration (docs/protocol.md
      // §11.3): the intruder's certificate chains to no root of this network, so it never gets on.
      await pollUntil(() => (o.proc.stderrLines.some((l) => l.includes('broker refused a client') && l.includes('not signed by the root')) ? true : null), 'the intruder refused at login', WAIT_TIMEOUT_MS);
      const st = await waitForStatus(intruder, () => true, 'a status line');
      assert.equal(heightOf(st), 1, 'nothing beyond its own genesis block');
      assert.notEqual(st['deliver'], 'streaming');
      assert.equal(await readMetric(o.metricsPort, 'edgepeer_deliver_streams_open'), 0);
      await intruder.stop();
      await o.proc.stop();
      return;
    }
    // Every SEEK it makes is refused. The answers are authenticated by this network's orderer, which the
    // intruder's configuration does not name: it cannot tell them from forgeries, so they do not stop it.
    await waitForMetric(o.metricsPort, 'edgepeer_deliver_requests_total', (v) => (v ?? 0) >= 1, '>= 1', { labels: { status: 'FORBIDDEN' } });
    const st = await waitForStatus(intruder, (x) => x['deliver'] === 'streaming', 'deliver=streaming');
    assert.equal(heightOf(st), 1, 'nothing beyond its own genesis block');
    assert.equal(st['committed'], '0');
    assert.equal(await readMetric(o.metricsPort, 'edgepeer_deliver_streams_open'), 0);
    await intruder.stop();
    await o.proc.stop();
  });

  test(`security over ${brokerCase.name}: revocation mid-stream ends that board's stream with FORBIDDEN; the others keep syncing`, async (t) => {
    const s = await setup(t, 3);
    const o = await withOrderer(t, s, brokerCase);
    if (o === null) return;
    const boards = s.net.boards.map((b) => b.id);
    const peers = boards.map((b) => s.startPeer(s.net.dir, b, o.broker.url));
    const first = await runCliJson<SubmitResult>(submitArgs(s, o.broker.url, 10), { name: 'submit' });
    assert.equal(first.accepted, 10);
    await Promise.all(peers.map((p) => waitForStatus(p, (st) => heightOf(st) === 3, 'height=3')));
    await waitForMetric(o.metricsPort, 'edgepeer_deliver_streams_open', (v) => v === 3, '== 3');

    // The orderer admin revokes the first board's certificate: configuration block 3.
    const revokedBoard = boards[0]!;
    const genesisConfig = configFromBlock(loadGenesis(s.net.dir, CHANNEL));
    const next = { ...genesisConfig, sequence: genesisConfig.sequence + 1, revoked: [loadBoard(s.net.dir, revokedBoard).signer.certificate.fingerprint] };
    const adminSigner = loadOrdererIdentities(s.net.dir).admin;
    const link = new MqttClientLink({ endpoint: { url: o.broker.url }, credentials: brokerCredentials(adminSigner) });
    s.rig.defer(() => link.close());
    await link.open([CHANNEL]);
    const admin = new BroadcastClient(link, CHANNEL, adminSigner, genesisTrust(loadGenesis(s.net.dir, CHANNEL)));
    const answer = await admin.submit(channelConfigToWire(next), MessageType.CONFIG_UPDATE);
    admin.close();
    assert.equal(statusName(answer.status), 'SUCCESS', answer.info);

    const more = await runCliJson<SubmitResult>(submitArgs(s, o.broker.url, 10), { name: 'submit after the revocation' });
    assert.equal(more.accepted, 10);
    const [revoked, ...others] = peers as [CliProcess, ...CliProcess[]];
    await Promise.all(others.map((p) => waitForStatus(p, (st) => heightOf(st) === 6, 'height=6 (config block and two more)')));
    if (brokerCase.name === 'aedes') {
      // The embedded broker applies the configuration block live (docs/protocol.md §11.3): the revoked
      // board's connection is closed and its next logins are refused.
      await pollUntil(() => (o.proc.stderrLines.some((l) => l.includes('broker refused a client') && l.includes('revoked')) ? true : null), 'the revoked board cut off by the broker', WAIT_TIMEOUT_MS);
      const st = await waitForStatus(revoked, () => true, 'a status line after the revocation', { since: revoked.lineCount });
      assert.equal(heightOf(st), 3, 'the revoked board got nothing from the configuration block on');
      for (const p of peers) await p.stop();
      await o.proc.stop();
      return;
    }
    const gaveUp = await waitForStatus(revoked, (st) => st['deliver'] === 'stopped', 'deliver=stopped', { timeoutMs: GIVE_UP_TIMEOUT_MS });
    assert.equal(heightOf(gaveUp), 3, 'the revoked board got nothing from the configuration block on');
    assert.match(gaveUp['error'] ?? '', /FORBIDDEN/);
    assert.match(revoked.stderr, /orderer answered FORBIDDEN/, 'its live stream ended with FORBIDDEN');
    // Its live stream, then every new SEEK up to the threshold.
    assert.equal(await readMetric(o.metricsPort, 'edgepeer_deliver_requests_total', { status: 'FORBIDDEN' }), SEEKS_UNTIL_GIVE_UP);
    assert.equal(await readMetric(o.metricsPort, 'edgepeer_deliver_streams_open'), 2);

    for (const p of peers) await p.stop();
    await o.proc.stop();
    const ordererInfo = await ledgerInfo(join(s.root, 'orderer'));
    assert.equal(ordererInfo.lastConfigNumber, 3);
    for (const b of boards.slice(1)) {
      const info = await ledgerInfo(s.peerData(b));
      assert.deepEqual([info.height, info.lastHash, info.lastConfigNumber], [ordererInfo.height, ordererInfo.lastHash, 3], b);
      assert.equal((await ledgerVerify(s.peerData(b))).ok, true, `${b} ledger verifies`);
    }
  });

  test(`security over ${brokerCase.name}: garbage on the request topics is dropped or answered BAD_REQUEST; the orderer keeps serving`, async (t) => {
    const s = await setup(t, 1);
    const o = await withOrderer(t, s, brokerCase);
    if (o === null) return;
    const board = s.net.boards[0]!.id;
    const boardSigner: Signer = loadBoard(s.net.dir, board).signer;
    // A member misbehaving: logged in as the board, it may read the board's replies and nothing else.
    const raw = await rawClient(o.broker.url, s.rig, boardSigner);
    const replyTopic = `${topicRoot}/${CHANNEL}/reply/${brokerUsername(boardSigner.certificate)}`;
    const answers = new Map<string, Uint8Array>();
    let bothAnswered!: () => void;
    const answered = new Promise<void>((resolve) => (bothAnswered = resolve));
    raw.on('message', (topic, payload) => {
      if (topic !== replyTopic) return;
      answers.set(String(asMap(decodeCbor(payload), 'answer')['session']), new Uint8Array(payload));
      if (answers.has('bad-seek') && answers.has('wrong-channel')) bothAnswered();
    });
    await raw.subscribeAsync(replyTopic, { qos: 1 });

    const goodSeek = encodeSeekFrame(signEnvelope({
      type: MessageType.DELIVER_SEEK, channel: CHANNEL, replyTo: replyTopic, session: 'probe',
      data: seekInfoToWire({ start: seekSpecified(0), stop: seekSpecified(MAX_BLOCK_NUMBER), behavior: SeekBehavior.BLOCK_UNTIL_READY }),
    }, boardSigner).bytes);
    const garbage: Uint8Array[] = [
      Uint8Array.from({ length: 256 }, (_, i) => (i * 197 + 13) & 0xff),
      new TextEncoder().encode('not cbor at all'),
      goodSeek.subarray(0, goodSeek.length - 7),
      encodeCbor([1, 2, 3]),
      encodeCbor({ kind: 99 }),
      encodeCbor({ kind: FrameKind.SEEK }),
      encodeCbor({ kind: FrameKind.SEEK, envelope: { payload: 'x', signature: 1 } }),
      Uint8Array.of(0x5b, 0, 0, 1, 0, 0, 0, 0, 0),
      new Uint8Array(10_000).fill(0x81),
    ];
    for (const service of ['deliver', 'broadcast']) {
      for (const g of garbage) await raw.publishAsync(`${topicRoot}/${CHANNEL}/${service}`, Buffer.from(g), { qos: 1 });
    }
    // Signed and well-formed, but wrong: these name a reply route and are answered on it.
    const badSeekInfo = encodeSeekFrame(signEnvelope({
      type: MessageType.DELIVER_SEEK, channel: CHANNEL, replyTo: replyTopic, session: 'bad-seek', data: { start: 'anywhere' },
      keyShare: newKeyShare().publicRaw,
    }, boardSigner).bytes);
    const wrongChannelTx = encodeSubmitFrame(signEnvelope({
      type: MessageType.TRANSACTION, channel: 'otherchannel', replyTo: replyTopic, session: 'wrong-channel', data: { x: 1 },
      keyShare: newKeyShare().publicRaw,
    }, boardSigner).bytes);
    // A reply route outside the requester's own reply topics (here: the orderer's own request topic).
    const foreignRoute = encodeSeekFrame(signEnvelope({
      type: MessageType.DELIVER_SEEK, channel: CHANNEL, replyTo: `${topicRoot}/${CHANNEL}/deliver`, session: 'loop',
      data: seekInfoToWire({ start: seekSpecified(0), stop: seekSpecified(0), behavior: SeekBehavior.BLOCK_UNTIL_READY }),
    }, boardSigner).bytes);
    await raw.publishAsync(`${topicRoot}/${CHANNEL}/deliver`, Buffer.from(foreignRoute), { qos: 1 });
    await raw.publishAsync(`${topicRoot}/${CHANNEL}/deliver`, Buffer.from(badSeekInfo), { qos: 1 });
    await raw.publishAsync(`${topicRoot}/${CHANNEL}/broadcast`, Buffer.from(wrongChannelTx), { qos: 1 });

    const malformed = 2 * garbage.length;
    await waitForMetric(o.metricsPort, 'edgepeer_link_messages_dropped_total', (v) => v === malformed,
      `== ${malformed} (every garbage message dropped as malformed)`, { labels: { reason: 'malformed' } });
    await waitForMetric(o.metricsPort, 'edgepeer_link_messages_dropped_total', (v) => v === 1,
      '== 1 (the request naming a foreign reply route)', { labels: { reason: 'no-reply-route' } });
    await withTimeout(answered, 'answers to the bad seek and the wrong-channel transaction');
    assert.deepEqual([...answers.keys()].sort(), ['bad-seek', 'wrong-channel'], 'one answer for each signed, well-formed but wrong request');
    const seekAnswer = decodeDeliverResponse(answers.get('bad-seek')!);
    assert.ok('status' in seekAnswer && seekAnswer.status === Status.BAD_REQUEST, `seek answered ${JSON.stringify(seekAnswer)}`);
    const txAnswer = decodeBroadcastResponse(answers.get('wrong-channel')!);
    assert.equal(statusName(txAnswer.status), 'BAD_REQUEST', txAnswer.info);
    assert.ok(o.proc.running, 'the orderer is still running');

    // And it still serves: transactions are ordered, a board syncs, garbage on its own reply topic notwithstanding.
    const submitted = await runCliJson<SubmitResult>(submitArgs(s, o.broker.url, 10), { name: 'submit' });
    assert.equal(submitted.accepted, 10);
    const peer = s.startPeer(s.net.dir, board, o.broker.url);
    if (brokerCase.name === 'aedes') {
      // The embedded broker lets only the orderer publish replies (docs/protocol.md §11.3): the member is cut off.
      const cut = new Promise<void>((resolve) => raw.once('close', () => resolve()));
      raw.publish(`${topicRoot}/${CHANNEL}/reply/${brokerUsername(boardSigner.certificate)}`, Buffer.from(garbage[0]!), { qos: 1 });
      await withTimeout(cut, 'the member publishing a reply cut off by the broker');
    } else {
      for (const g of garbage.slice(0, 4)) await raw.publishAsync(`${topicRoot}/${CHANNEL}/reply/${board}`, Buffer.from(g), { qos: 1 });
    }
    const synced: StatusFields = await waitForStatus(peer, (st) => heightOf(st) === 3, 'height=3');
    assert.equal(synced['rejected'], '0');
    await peer.stop();
    await o.proc.stop();
  });
}
