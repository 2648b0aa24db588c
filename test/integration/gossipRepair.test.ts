// Pull and streamed catch-up, in process with real parts (orderer, Aedes, LMDB, TCP between boards).
// Push is switched off (fanout 0), so a follower's blocks can only come from pull (DIGEST answers) and
// catch-up streams: each test fails if the mechanism it names is missing.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ChannelState } from '../../src/channel/channelState.js';
import { configFromBlock } from '../../src/channel/blocks.js';
import { submitLoad } from '../../src/client/broadcastClient.js';
import { systemClock } from '../../src/config/clock.js';
import { seededRandom } from '../../src/config/random.js';
import { GossipNode } from '../../src/gossip/gossipNode.js';
import { type LmdbLedger, ledgerPath, openLedger } from '../../src/ledger/lmdbLedger.js';
import { loadBoard, loadGenesis } from '../../src/network/loadNetwork.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Peer } from '../../src/peer/peer.js';
import { MqttClientLink } from '../../src/transport/mqtt/mqttClientLink.js';
import { type InProcessNetwork, allCut, startInProcessNetwork, waitForHeight } from '../helpers/inProcessNetwork.js';

const limits = {
  fanout: 0, aliveIntervalMs: 100, aliveExpirationMs: 1_000, electionStartupGraceMs: 300, leaderMinTermMs: 1_000,
  leaderHandoverMinBlocks: 100_000, pullIntervalMs: 100, catchUpStallTimeoutMs: 2_000,
};
const SYNC_TIMEOUT_MS = 60_000;
const LATE_BOARD_GAP_BLOCKS = 3_000;

interface Board { id: string; peer: Peer; node: GossipNode; ledger: LmdbLedger; stop(): Promise<void> }

async function startBoard(net: InProcessNetwork, id: string, bootstrap: string[], seed: number): Promise<Board> {
  const channel = net.summary.channel;
  const genesis = loadGenesis(net.summary.dir, channel);
  const board = loadBoard(net.summary.dir, id);
  const link = new MqttClientLink({ endpoint: { url: net.brokerUrl }, clientId: id });
  const ledger = openLedger(ledgerPath(join(net.dir, 'peers', id), channel), { channel });
  let node: GossipNode | null = null;
  const peer = new Peer({
    boardId: id, ledger, genesis, signer: board.signer, links: [link], log: silentLogger(), deliverAtStart: false,
    role: { role: () => node?.role() ?? 'follower', followerSync: () => node?.followerSync() ?? 'offline' },
  });
  node = new GossipNode({
    peer, ledger, channelState: new ChannelState(configFromBlock(genesis)), signer: board.signer, listen: '127.0.0.1:0',
    bootstrap, clock: systemClock, random: seededRandom(seed), log: silentLogger(), limits,
  });
  peer.start();
  await node.start();
  const n = node;
  return { id, peer, node: n, ledger, async stop() { await n.stop(); await peer.stop(); await link.close(); await ledger.close(); } };
}

test('without push, followers reach the orderer by pull; a board that joins far behind catches up by one stream', { timeout: 120_000 }, async (t) => {
  const net = await startInProcessNetwork({ orgs: 1, boardsPerOrg: 4, batch: { maxMessageCount: 1 } });
  const boards: Board[] = [];
  t.after(async () => {
    for (const b of boards) await b.stop();
    await net.stop();
  });
  const ids = net.summary.boards.map((b) => b.id);
  const endpoints: string[] = [];
  for (const [i, id] of ids.slice(0, 3).entries()) {
    const b = await startBoard(net, id, [...endpoints], i + 1);
    endpoints.push(b.node.endpoint);
    boards.push(b);
  }
  while (!boards.some((b) => b.node.role() === 'leader')) await new Promise((resolve) => boards.forEach((b) => b.node.once('role', resolve)));

  await t.test('pull: a few blocks at a time, answered by whoever has them', async () => {
    const client = await net.client('org1');
    await submitLoad(client, 40, 64, 4);
    const height = await allCut(net);
    await Promise.all(boards.map((b) => waitForHeight(b.peer, height, SYNC_TIMEOUT_MS)));
    const leader = boards.find((b) => b.node.role() === 'leader')!;
    for (const b of boards.filter((x) => x !== leader)) {
      const s = b.node.blocksBySource();
      assert.equal(s.push, 0, 'fanout 0: nothing pushed');
      assert.equal(s.orderer, 0, `${b.id} follows and did not pull from the orderer`);
      assert.equal(s.pull + s.catchup, height - 1, `${b.id} took every block by pull or catch-up: ${JSON.stringify(s)}`);
      assert.ok(s.pull > 0, `${b.id} pulled: ${JSON.stringify(s)}`);
    }
  });

  await t.test(`catch-up: a board ${LATE_BOARD_GAP_BLOCKS} blocks behind streams the range from a neighbour`, async () => {
    const client = await net.client('org1');
    await submitLoad(client, LATE_BOARD_GAP_BLOCKS, 64, 64);
    const height = await allCut(net);
    await Promise.all(boards.map((b) => waitForHeight(b.peer, height, SYNC_TIMEOUT_MS)));
    const sessionsBefore = net.orderer.openDeliverSessions;
    const late = await startBoard(net, ids[3]!, endpoints, 4);
    boards.push(late);
    const syncSeen = new Set<string>();
    const onCommit = (): void => { syncSeen.add(late.peer.status().sync); };
    late.peer.on('committed', onCommit);
    await waitForHeight(late.peer, height, SYNC_TIMEOUT_MS);
    late.peer.off('committed', onCommit);
    assert.ok(syncSeen.has('syncing'), `the late board said it was catching up: ${[...syncSeen].join(',')}`);
    // Its neighbours' next ALIVEs (aliveIntervalMs) carry a height it now has: level, in sync.
    while (late.peer.status().sync !== 'in-sync') await new Promise((resolve) => setTimeout(resolve, limits.aliveIntervalMs));
    const s = late.node.blocksBySource();
    assert.equal(s.orderer, 0, 'the late board pulled nothing from the orderer');
    assert.ok(s.catchup >= height - 1 - limits.fanout - 2 * 256, `most blocks came by the stream: ${JSON.stringify(s)}`);
    assert.ok(late.node.transfers.catchUpStreams >= 1 && late.node.transfers.catchUpStreams <= 3,
      `one stream (a few at most, if a source went quiet): ${late.node.transfers.catchUpStreams}`);
    assert.equal(net.orderer.openDeliverSessions, sessionsBefore, 'no new Deliver stream at the orderer');
    const hashes = new Set(boards.map((b) => b.peer.status().lastHash));
    assert.equal(hashes.size, 1, 'every ledger ends with the same block');
  });
});
