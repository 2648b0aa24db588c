// Gossip with real board processes (issue 3): forgeries and catch-up from neighbours.
// A network of 2 orgs x 3 boards in which org2-board3 never runs: its key and its gossip port are the
// forger's (this test process). Five honest boards run.
// 1. The forger gossips forged ALIVEs (a wrong key, a certificate from a foreign root, an ALIVE speaking
//    for another member) and forged blocks (a bad signature; a wrong previous hash): every honest board
//    drops and logs them, commits none, and does not elect the forger. (A wrong previous hash under the
//    orderer's own signature is not a forgery but a fork, which stops the board: test/unit/board/boardLeds.test.ts.)
// 2. A follower is stopped (SIGTERM) while 2,000 blocks are cut, then restarted: it catches up from its
//    neighbours. The orderer's Deliver log shows it never opened a stream; its metrics say its blocks
//    came by catch-up and pull.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { makeBlock } from '../../src/channel/blocks.js';
import { systemClock } from '../../src/config/clock.js';
import { gossipDefaults } from '../../src/gossip/gossipDefaults.js';
import { issueCertificate } from '../../src/protocol/certificate.js';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { type AliveBody, GossipType, signGossip } from '../../src/gossip/messages.js';
import { startTcpTransport } from '../../src/gossip/tcpTransport.js';
import { loadBoard, loadClient } from '../../src/network/loadNetwork.js';
import { silentLogger } from '../../src/observability/logger.js';
import { MessageType, type Signer, signEnvelope } from '../../src/protocol/envelope.js';
import { GossipFleet, blocksByOrigin, limitInUse, untilSettled } from '../helpers/gossipFleet.js';
import {
  TestRig, heightOf, killAllProcesses, ledgerInfo, readMetric, waitForStatus,
} from '../helpers/processes.js';
import { pollUntil } from '../helpers/wait.js';

const ORGS = 2;
const BOARDS_PER_ORG = 3;
/** One transaction per block: a transaction count is a block count. */
const MAX_MESSAGE_COUNT = 1;
const BATCH_TIMEOUT_MS = 600_000;
/**
 * Blocks cut while the follower is down, at least: several times catchUpMinGapBlocks (the gap is streamed)
 * and beyond pendingPushedAheadMaxBlocks (pushes cannot fill it); more only lengthens the run.
 */
const MISSED_BLOCKS = 2_000;
/** Blocks of the same load before the stop: the follower is stopped mid-stream, half way into these. */
const LEAD_IN_BLOCKS = 100;
/** A little load before the forgeries, so the boards have a chain to forge against. */
const WARM_UP_TX = 20;
const SETTLE_TIMEOUT_MS = 45_000;
const SYNC_TIMEOUT_MS = 60_000;
/** Catch-up of MISSED_BLOCKS from a neighbour on 2 shared cores (it is about as fast as Deliver). */
const CATCH_UP_TIMEOUT_MS = 90_000;
const FORGERY_TIMEOUT_MS = 20_000;
/** The forger's frames are small; its transport needs limits but these never bind. */
const FORGER_FRAME_BYTES = 1 << 20;

after(killAllProcesses);

test('gossip fleet: forgeries refused; a restarted board catches up from its neighbours', { timeout: 300_000 }, async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  const fleet = await GossipFleet.create(rig, {
    orgs: ORGS, boardsPerOrg: BOARDS_PER_ORG, maxMessageCount: MAX_MESSAGE_COUNT, batchTimeoutMs: BATCH_TIMEOUT_MS,
  });
  const rogueId = 'org2-board3';
  fleet.startAll([rogueId]);
  // Settled: one leader per org, streaming alone; the Deliver log is read from here on (start-up
  // transients before it, a board briefly leading its own view, are not this test's subject).
  const leaders = await untilSettled(fleet, fleet.deliverLog, SETTLE_TIMEOUT_MS);
  const settledAt = fleet.deliverLog.mark;
  await fleet.submit(WARM_UP_TX);
  const warm = await fleet.ordererHeight();
  await fleet.allAt(warm, SYNC_TIMEOUT_MS);
  const channel = fleet.net.channel;

  await t.test('forged ALIVEs and forged blocks: dropped and logged with the sender, never committed or elected', async (tt) => {
    const rogue = loadBoard(fleet.net.dir, rogueId);
    // The forger takes the rogue board's own gossip address, where every honest board expects it.
    const forger = await startTcpTransport({
      listen: fleet.board(rogueId).endpoint, clock: systemClock, log: silentLogger(), onMessage: () => true,
      limits: { ...gossipDefaults, maxFrameBytes: FORGER_FRAME_BYTES, maxQueuedBytesPerConnection: FORGER_FRAME_BYTES },
    });
    tt.after(() => forger.stop());
    const alive = (s: Signer, who: { id: string; org: string }): Uint8Array => {
      const body: AliveBody = { ...who, height: 1e9, incarnation: Date.now(), seq: 1, endpoint: forger.endpoint, leader: true };
      return signGossip(channel, { type: GossipType.ALIVE, alive: body }, s, Date.now());
    };
    const rogueName = { id: rogue.signer.certificate.id, org: rogue.signer.certificate.org };
    // The rogue's certificate with a key that is not the certificate's.
    const wrongKey: Signer = { certificate: rogue.signer.certificate, privateKey: generateKeyPair().privateKey };
    // A certificate for the rogue issued by a root that is not the channel's.
    const fakeRoot = generateKeyPair();
    const fakeKey = generateKeyPair();
    const fakeCert: Signer = {
      certificate: issueCertificate({ ...rogue.signer.certificate, publicKey: fakeKey.publicKeyRaw }, fakeRoot.privateKey),
      privateKey: fakeKey.privateKey,
    };
    const impersonated = { id: leaders.get('org1')!, org: 'org1' };
    // Blocks numbered `warm` (the next one): one chained right but signed by the rogue, not the orderer;
    // one over a wrong previous hash, signed by the rogue too. (Signed by the orderer's key it would be a
    // fork: every board would stop taking blocks and report it, docs/operations.md "Forks".)
    const last = Buffer.from((await ledgerInfo(fleet.ordererData)).lastHash, 'hex');
    const tx = signEnvelope({ type: MessageType.TRANSACTION, channel, data: randomBytes(64) }, loadClient(fleet.net.dir)).bytes;
    const badSignature = makeBlock(warm, last, [tx], 0, [{ index: 0, key: rogue.signer.privateKey }]).bytes;
    const wrongPrevious = makeBlock(warm, randomBytes(32), [tx], 0, [{ index: 0, key: rogue.signer.privateKey }]).bytes;
    const honest = fleet.running();
    for (const b of honest) {
      forger.send(b.endpoint, alive(wrongKey, rogueName));
      forger.send(b.endpoint, alive(fakeCert, rogueName));
      forger.send(b.endpoint, alive(rogue.signer, impersonated));
      // Authentic messages from a real member (the rogue's own key); the blocks in them are not.
      forger.send(b.endpoint, signGossip(channel, { type: GossipType.BLOCKS, blocks: [badSignature] }, rogue.signer, Date.now()));
      forger.send(b.endpoint, signGossip(channel, { type: GossipType.BLOCKS, blocks: [wrongPrevious] }, rogue.signer, Date.now()));
    }
    const expected = ['bad signature', 'sender not allowed', 'signed by another member', 'rejected by verification'];
    for (const b of honest) {
      const drops = await pollUntil(() => {
        const d = fleet.gossipDrops(b.id).filter((x) => x.sender.includes(rogueId));
        return expected.every((e) => d.some((x) => x.reason.includes(e))) ? d : null;
      }, `${b.id} to log the forgeries (${expected.join(', ')})`, FORGERY_TIMEOUT_MS, () => b.proc!.describe());
      tt.diagnostic(`${b.id}: ${drops.map((d) => d.reason).join('; ')}`);
    }
    for (const b of honest) {
      const s = await waitForStatus(b.proc!, () => true, 'a status line', { since: b.proc!.lineCount });
      assert.equal(heightOf(s), warm, `${b.id} committed nothing forged`);
      // Both forged blocks were verified and refused, each for its own reason (the drop log above is
      // rate-limited per sender and reason, and both carry the same number).
      const rejected = fleet.logRecords(b.id, 'gossiped block rejected');
      const rejections = rejected.map((o) => `${String(o['reason'])}: ${String(o['detail'])}`);
      assert.equal(s['rejected'], '2', `${b.id} refused both forged blocks: ${rejections.join('; ')}`);
      assert.equal(new Set(rejected.map((o) => o['reason'])).size, 2, rejections.join('; '));
      const live = await readMetric(b.metricsPort, 'edgepeer_gossip_live_members');
      assert.equal(live, honest.length - 1, `${b.id} counts only the honest boards as members`);
      assert.equal(await readMetric(b.metricsPort, 'edgepeer_gossip_leader', { org: 'org2', leader: rogueId }) ?? 0, 0, `${b.id} does not see the forger lead`);
    }
    assert.deepEqual(fleet.leaders(), leaders, 'the leaders are the ones elected before the forgeries');
  });

  await t.test(`a follower stopped while ${MISSED_BLOCKS} blocks are cut catches up from its neighbours, not from the orderer`, async () => {
    // The highest id of org1: a follower, and (its height lowest on return) not elected when it comes back.
    const id = 'org1-board3';
    const b = fleet.board(id);
    assert.notEqual(leaders.get('org1'), id);
    const h0 = await fleet.ordererHeight();
    const load = fleet.submit(LEAD_IN_BLOCKS + MISSED_BLOCKS);
    await waitForStatus(fleet.proc(id), (s) => heightOf(s) >= h0 + LEAD_IN_BLOCKS / 2, `height>=${h0 + LEAD_IN_BLOCKS / 2}`, { timeoutMs: SYNC_TIMEOUT_MS });
    await fleet.stopBoard(id);
    await load;
    const height = await fleet.ordererHeight();
    assert.equal(height, h0 + LEAD_IN_BLOCKS + MISSED_BLOCKS);
    const stoppedAt = (await ledgerInfo(b.data)).height;
    const missed = height - stoppedAt;
    // Blocks keep coming while the board stops (the load runs on): what it misses is MISSED_BLOCKS give or
    // take the few it took during its stop, far more than a catch-up stream starts at.
    const catchUpFrom = limitInUse(fleet.limits, 'catchUpMinGapBlocks')!;
    assert.ok(missed >= MISSED_BLOCKS - LEAD_IN_BLOCKS && missed > 4 * catchUpFrom,
      `${id} stopped at ${stoppedAt}, ${missed} blocks behind (a catch-up stream starts at ${catchUpFrom})`);
    await fleet.allAt(height, SYNC_TIMEOUT_MS);

    const mark = fleet.deliverLog.mark;
    const restartedAt = Date.now();
    const p = fleet.startBoard(id);
    const done = await waitForStatus(p, (s) => heightOf(s) === height, `height=${height}`, { timeoutMs: CATCH_UP_TIMEOUT_MS });
    const seconds = (Date.now() - restartedAt) / 1000;
    const origins = await blocksByOrigin(b);
    t.diagnostic(`${id} caught up ${missed} blocks in ${seconds.toFixed(1)} s from start; by origin ${JSON.stringify(origins)}; status from=${done['from']}`);
    // The Deliver log: this board opened no stream from the settled instant on, before the stop or since
    // the restart.
    assert.deepEqual(fleet.deliverLog.opened(id, settledAt), [], `${id} opened no Deliver stream:\n${fleet.deliverLog.describe(mark)}`);
    assert.equal(origins.orderer, 0);
    assert.ok(origins.catchup + origins.pull > 0, `${id}'s blocks came by catch-up or pull: ${JSON.stringify(origins)}`);
    assert.equal(Object.values(origins).reduce((x, y) => x + y, 0), missed, 'every missed block counted once by origin');
    const orderer = await ledgerInfo(fleet.ordererData);
    assert.equal(done['hash'], orderer.lastHash.slice(0, 16));
    await fleet.assertConverged([id], height);
  });
});
