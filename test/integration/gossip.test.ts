// Gossip between boards, in process: real orderer, real MQTT, real LMDB, real TCP between boards.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { issueCertificate } from '../../src/protocol/certificate.js';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { systemClock } from '../../src/config/clock.js';
import { gossipDefaults } from '../../src/gossip/gossipDefaults.js';
import { submitLoad } from '../../src/client/broadcastClient.js';
import { GossipType, signGossip } from '../../src/gossip/messages.js';
import { startTcpTransport } from '../../src/gossip/tcpTransport.js';
import { loadBoard } from '../../src/network/loadNetwork.js';
import { silentLogger } from '../../src/observability/logger.js';
import { HEADER_OFFSET, encodeHeader, readHeader } from '../../src/protocol/block.js';
import { type GossipBoard, networkSite, recordingLogger, startGossipBoard, untilNodeEvent } from '../helpers/gossipBoard.js';
import { allCut, startInProcessNetwork, waitForHeight } from '../helpers/inProcessNetwork.js';

const limits = {
  // Fanout 2 of 3 others: a board reaches everyone only through forwarding (infect-and-die).
  fanout: 2, aliveIntervalMs: 100, aliveExpirationMs: 600, electionStartupGraceMs: 400, leaderMinTermMs: 1_000, leaderHandoverMinBlocks: 100,
};

/** Elections, takeovers and drops on loopback: one that takes this long is not coming. */
const EVENT_TIMEOUT_MS = 20_000;

type Board = GossipBoard;

test('gossip: 4 boards in 2 orgs, one deliver stream per org, leader failover, forgeries refused', { timeout: 90_000 }, async (t) => {
  const net = await startInProcessNetwork({ orgs: 2, boardsPerOrg: 3, batch: { maxMessageCount: 10 } });
  const boards: Board[] = [];
  t.after(async () => {
    // Every board's stop runs, and the network's, even when one fails.
    const errors: unknown[] = [];
    for (const b of boards) await b.stop().catch((err: unknown) => { errors.push(err); });
    await net.stop();
    if (errors.length > 0) throw new AggregateError(errors, 'boards failed to stop');
  });
  const netDir = net.summary.dir;
  const channel = net.summary.channel;
  const site = networkSite(net);
  // Two boards per org gossip; the third of each org is a member that never runs (its key forges below).
  const running = ['org1', 'org2'].flatMap((org) => net.summary.boards.filter((b) => b.org === org).slice(0, 2));
  const rogue = loadBoard(netDir, net.summary.boards.filter((b) => b.org === 'org2')[2]!.id);
  const endpoints: string[] = [];
  // Ports are picked by the OS: each board learns the others from the boards started before it, and
  // the later ones from the ALIVEs they receive (their endpoint is in it).
  const sources = new Map<string, number>();
  let maxPerOrg = 0;
  let maxSessions = 0;
  const sample = (): void => {
    for (const org of ['org1', 'org2']) {
      maxPerOrg = Math.max(maxPerOrg, boards.filter((b) => b.org === org && b.peer.isDelivering).length);
    }
    maxSessions = Math.max(maxSessions, net.orderer.openDeliverSessions);
  };
  // Each node's log, kept: what a board noticed, and in what order, is what the takeover test asserts.
  const logs = new Map<string, Record<string, unknown>[]>();
  for (const [i, b] of running.entries()) {
    const recorded = recordingLogger(`gossip ${b.id}`);
    logs.set(b.id, recorded.records);
    const board = await startGossipBoard(site, b.id, {
      bootstrap: endpoints, limits, seed: i + 1, log: recorded.log, peerLimits: { deliver: { retryBaseDelayMs: 20, maxRetryDelayMs: 500 } },
      beforeStart: (peer, node) => {
        peer.on('committed', sample);
        peer.on('accepted', (blocks, source) => sources.set(`${b.id}/${source}`, (sources.get(`${b.id}/${source}`) ?? 0) + blocks.length));
        node.on('role', sample);
      },
    });
    boards.push(board);
    endpoints.push(board.node.endpoint);
  }
  const leaderOf = (org: string, among = boards): Board | undefined => among.find((b) => b.org === org && b.node.role() === 'leader');
  const untilLeaders = (among: Board[]): Promise<void> => untilNodeEvent(among, 'role',
    () => ['org1', 'org2'].every((org) => leaderOf(org, among) !== undefined), 'a leader in each org', EVENT_TIMEOUT_MS);
  // Sampled, not awaited: a deliver client running where it should not shows at any moment.
  const sampler = setInterval(sample, 5);
  t.after(() => clearInterval(sampler));
  await untilLeaders(boards);

  await t.test('after 500 transactions every ledger equals the orderer\'s, one Deliver stream per org', async () => {
    const client = await net.client('org1');
    await submitLoad(client, 500, 64, 32);
    const height = await allCut(net);
    await Promise.all(boards.map((b) => waitForHeight(b.peer, height, 30_000)));
    const hashes = new Set(boards.map((b) => b.peer.status().lastHash));
    assert.equal(hashes.size, 1);
    sample();
    assert.equal(maxPerOrg, 1, 'at most one board per org ran its deliver client at a time');
    assert.ok(maxSessions <= 2, `the orderer served ${maxSessions} Deliver streams at once`);
    assert.equal(boards.filter((b) => b.peer.isDelivering).length, 2);
    for (const b of boards.filter((x) => x.node.role() === 'follower')) {
      assert.equal(sources.get(`${b.id}/orderer`), undefined, `${b.id} pulled nothing from the orderer`);
      assert.ok((sources.get(`${b.id}/gossip`) ?? 0) >= 50, `${b.id} got its blocks by gossip`);
    }
  });

  await t.test('a stopped leader says it leaves and is replaced on that, not once it expires, and the survivors reach the orderer\'s height', async (st) => {
    const old = leaderOf('org1')!;
    const heir = boards.find((b) => b.org === 'org1' && b !== old)!;
    const heirLog = logs.get(heir.id)!;
    const mark = heirLog.length;
    const stoppedAt = Date.now();
    await old.stop();
    boards.splice(boards.indexOf(old), 1);
    await untilNodeEvent([heir], 'role', () => heir.node.role() === 'leader', `${heir.id} to lead org1`, EVENT_TIMEOUT_MS);
    const tookMs = Date.now() - stoppedAt;
    // A board that stops says so (ALIVE leaving): its org-mate takes over on that message, not once the
    // member expires. Asserted as the order of what the heir noticed, not as a time a loaded machine keeps.
    const oldKey = `${old.org}/${old.id}`;
    const noticed = heirLog.slice(mark).filter((r) => r['member'] === oldKey).map((r) => String(r['msg']));
    st.diagnostic(`${heir.id} led ${tookMs} ms after ${old.id}'s stop() began; it noticed: ${noticed.join(', ')}`);
    assert.equal(noticed[0], 'gossip member left', `${heir.id} heard ${old.id} leave first: ${noticed.join(', ')}`);
    assert.ok(!noticed.includes('gossip member dead'), `${heir.id} did not wait for ${old.id} to expire: ${noticed.join(', ')}`);
    const client = await net.client('org2');
    await submitLoad(client, 100, 64, 16);
    const height = await allCut(net);
    await Promise.all(boards.map((b) => waitForHeight(b.peer, height, 30_000)));
  });

  await t.test('forged ALIVE and forged blocks: dropped, logged with the sender, never committed or elected', async () => {
    const height = boards[0]!.peer.status().height;
    const target = boards.find((b) => b.org === 'org2' && b.node.role() === 'follower')!;
    const drops: string[] = [];
    for (const b of boards) b.node.on('dropped', (sender, reason) => drops.push(`${b.id}<-${sender}: ${reason}`));
    const sender = await startTcpTransport({
      listen: '127.0.0.1:0', clock: systemClock, log: silentLogger(), onMessage: () => true,
      limits: { ...gossipDefaults, maxFrameBytes: 1 << 20, maxQueuedBytesPerConnection: 1 << 20, reconnectDelayMs: 10, closeFlushTimeoutMs: 100 },
    });
    t.after(() => sender.stop());
    // An ALIVE for the rogue board, claiming a huge height, signed with a key that is not its certificate's.
    const wrongKey = { certificate: rogue.signer.certificate, privateKey: generateKeyPair().privateKey };
    const alive = (s: typeof wrongKey): Uint8Array => signGossip(channel, {
      type: GossipType.ALIVE,
      alive: { id: s.certificate.id, org: s.certificate.org, height: 1e9, incarnation: Date.now(), seq: 1, endpoint: sender.endpoint, leader: true },
    }, s, Date.now());
    // A certificate issued by a root that is not the channel's.
    const fakeRoot = generateKeyPair();
    const fakeKey = generateKeyPair();
    const fakeCert = issueCertificate({ ...rogue.signer.certificate, publicKey: fakeKey.publicKeyRaw }, fakeRoot.privateKey);
    // A block numbered `height` made from the last real block: its hash chain and signature do not hold.
    const ledgerBlock = target.ledger.getBlock(height - 1)!;
    const forged = Uint8Array.from(ledgerBlock);
    forged.set(encodeHeader({ ...readHeader(ledgerBlock), number: height }), HEADER_OFFSET);
    for (const b of boards) {
      sender.send(b.node.endpoint, alive(wrongKey));
      sender.send(b.node.endpoint, alive({ certificate: fakeCert, privateKey: fakeKey.privateKey }));
      // Signed by a real member (the rogue board's own key): the message is authentic, its block is not.
      sender.send(b.node.endpoint, signGossip(channel, { type: GossipType.BLOCKS, blocks: [forged] }, rogue.signer, Date.now()));
    }
    await untilNodeEvent(boards, 'dropped', () => drops.filter((d) => d.includes('rejected by verification')).length >= boards.length,
      'every board to drop the forged block as rejected by verification', EVENT_TIMEOUT_MS);
    const rogueName = `${rogue.config.org}/${rogue.config.id}`;
    assert.ok(drops.some((d) => d.includes(rogueName) && d.includes('bad signature')), drops.join('\n'));
    assert.ok(drops.some((d) => d.includes(rogueName) && d.includes('sender not allowed')), drops.join('\n'));
    for (const b of boards) {
      assert.equal(b.peer.status().height, height, `${b.id} committed nothing forged`);
      assert.ok(!b.node.liveMembers().some((m) => m.id === rogue.config.id), `${b.id} does not count the forger as a member`);
      assert.notEqual(b.node.leader, rogue.config.id);
    }
  });
});

