// Pull and streamed catch-up, in process with real parts (orderer, Aedes, LMDB, TCP between boards).
// Push is switched off (fanout 0), so a follower's blocks can only come from pull (DIGEST answers) and
// catch-up streams: each test fails if the mechanism it names is missing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { submitLoad } from '../../src/client/broadcastClient.js';
import { gossipDefaults } from '../../src/gossip/gossipDefaults.js';
import { type GossipBoard, type GossipBoardSite, networkSite, startGossipBoard, untilNodeEvent } from '../helpers/gossipBoard.js';
import { allCut, startInProcessNetwork, waitForHeight } from '../helpers/inProcessNetwork.js';
import { pollUntil } from '../helpers/wait.js';

const limits = {
  fanout: 0, aliveIntervalMs: 100, aliveExpirationMs: 1_000, electionStartupGraceMs: 300, leaderMinTermMs: 1_000,
  leaderHandoverMinBlocks: 100_000, pullIntervalMs: 100, catchUpStallTimeoutMs: 2_000,
};
const SYNC_TIMEOUT_MS = 60_000;
/** The first election among three fresh boards: the startup grace and a few ALIVE rounds. */
const ELECTION_TIMEOUT_MS = 20_000;
const LATE_BOARD_GAP_BLOCKS = 3_000;
/** DIGEST answers a late board can take before its catch-up stream takes over. */
const PULL_ROUNDS_BEFORE_STREAM_MAX = 2;

const startBoard = (site: GossipBoardSite, id: string, bootstrap: string[], seed: number): Promise<GossipBoard> =>
  startGossipBoard(site, id, { bootstrap, limits, seed });

test('without push, followers reach the orderer by pull; a board that joins far behind catches up by one stream', { timeout: 120_000 }, async (t) => {
  const net = await startInProcessNetwork({ orgs: 1, boardsPerOrg: 4, batch: { maxMessageCount: 1 } });
  const boards: GossipBoard[] = [];
  t.after(async () => {
    // Every board's stop runs, and the network's, even when one fails.
    const errors: unknown[] = [];
    for (const b of boards) await b.stop().catch((err: unknown) => { errors.push(err); });
    await net.stop();
    if (errors.length > 0) throw new AggregateError(errors, 'boards failed to stop');
  });
  const site = networkSite(net);
  const ids = net.summary.boards.map((b) => b.id);
  const endpoints: string[] = [];
  for (const [i, id] of ids.slice(0, 3).entries()) {
    const b = await startBoard(site, id, [...endpoints], i + 1);
    endpoints.push(b.node.endpoint);
    boards.push(b);
  }
  await untilNodeEvent(boards, 'role', () => boards.some((b) => b.node.role() === 'leader'), 'a leader among the first three boards', ELECTION_TIMEOUT_MS);

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
    const late = await startBoard(site, ids[3]!, endpoints, 4);
    boards.push(late);
    const syncSeen = new Set<string>();
    const onCommit = (): void => { syncSeen.add(late.peer.status().sync); };
    late.peer.on('committed', onCommit);
    await waitForHeight(late.peer, height, SYNC_TIMEOUT_MS);
    late.peer.off('committed', onCommit);
    assert.ok(syncSeen.has('syncing'), `the late board said it was catching up: ${[...syncSeen].join(',')}`);
    // Its neighbours' next ALIVEs (aliveIntervalMs) carry a height it now has: level, in sync.
    // (No event says so: the state is read from the peer's status.)
    await pollUntil(() => (late.peer.status().sync === 'in-sync' ? true : null), `${late.id} to say sync=in-sync`, SYNC_TIMEOUT_MS,
      () => `${late.id}: ${JSON.stringify(late.peer.status())}`);
    const s = late.node.blocksBySource();
    assert.equal(s.orderer, 0, 'the late board pulled nothing from the orderer');
    // Push is off, so every block came by pull or by the stream; pull can have taken only what DIGEST
    // answers carried before the stream started (at most pullBlocksMax each; a couple of pull rounds
    // pass while the gap is first seen and the stream is set up).
    assert.equal(s.push, 0, 'fanout 0: nothing pushed');
    assert.equal(s.pull + s.catchup, height - 1, `every block by pull or catch-up: ${JSON.stringify(s)}`);
    assert.ok(s.pull <= PULL_ROUNDS_BEFORE_STREAM_MAX * gossipDefaults.pullBlocksMax, `pull took at most a couple of answers: ${JSON.stringify(s)}`);
    assert.ok(s.catchup >= height - 1 - PULL_ROUNDS_BEFORE_STREAM_MAX * gossipDefaults.pullBlocksMax, `most blocks came by the stream: ${JSON.stringify(s)}`);
    assert.ok(late.node.transfers.catchUpStreams >= 1 && late.node.transfers.catchUpStreams <= 3,
      `one stream (a few at most, if a source went quiet): ${late.node.transfers.catchUpStreams}`);
    assert.equal(net.orderer.openDeliverSessions, sessionsBefore, 'no new Deliver stream at the orderer');
    const hashes = new Set(boards.map((b) => b.peer.status().lastHash));
    assert.equal(hashes.size, 1, 'every ledger ends with the same block');
  });
});
