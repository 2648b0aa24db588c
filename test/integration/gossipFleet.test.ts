// Gossip with real board processes on loopback (issue 3): `edgepeer init --gossip`, the orderer with its
// embedded Aedes, 8 `edgepeer peer` boards in 2 orgs, real LMDB, real TCP between boards.
// 1. After 2,000 transactions all 8 ledgers equal the orderer's, and the orderer's Deliver log shows at
//    most one stream per org open at any instant once the election has settled.
// 2. The org1 leader is SIGKILLed while load is being cut: an org-mate takes over in the order the
//    protocol gives (it sees the leader dead, elects itself, waits the claim's settle time, streams), and
//    every survivor reaches the orderer's height with no gap.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  FLEET_LIMITS, GossipFleet, blocksByOrigin, pollUntil, takeoverBoundMs, untilSettled,
} from '../helpers/gossipFleet.js';
import {
  TestRig, heightOf, killAllProcesses, lastStatus, ledgerInfo, statusLines, waitForStatus,
} from '../helpers/processes.js';

const ORGS = 2;
const BOARDS_PER_ORG = 4;
const TX_COUNT = 2_000;
/** Transactions per block; with a batch timeout longer than the test, the height is exact. */
const MAX_MESSAGE_COUNT = 10;
const BATCH_TIMEOUT_MS = 600_000;
/** The load during which the leader is killed, and how far into it (in blocks) the kill comes. */
const KILL_LOAD_TX = 2_000;
const KILL_AFTER_BLOCKS = 40;
/** Start-up of 8 board processes and the first election on 2 shared cores. */
const SETTLE_TIMEOUT_MS = 45_000;
const SYNC_TIMEOUT_MS = 60_000;
/** Scheduling slack on a loaded 2-core machine: a status line, a timer tick late, a busy event loop. */
const TAKEOVER_SLACK_MS = 1_500;
const TAKEOVER_BOUND_MS = takeoverBoundMs(FLEET_LIMITS, TAKEOVER_SLACK_MS);

after(killAllProcesses);

test('gossip fleet: 8 board processes in 2 orgs', { timeout: 240_000 }, async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  const fleet = await GossipFleet.create(rig, {
    orgs: ORGS, boardsPerOrg: BOARDS_PER_ORG, maxMessageCount: MAX_MESSAGE_COUNT, batchTimeoutMs: BATCH_TIMEOUT_MS,
  });
  fleet.startAll();
  const log = fleet.deliverLog;

  // "Settled": every board has printed a status, each org has exactly one board saying role=leader and
  // every other board of it says follower, and the Deliver log shows exactly one stream open per org,
  // opened by that leader. Before that, boards that started late may briefly each lead their own view
  // (electionStartupGraceMs damps it, a slow start on a loaded machine can still outlast it); that
  // start-up transient is printed below, not asserted. From the settled instant on it is asserted.
  const leaders = await untilSettled(fleet, log, SETTLE_TIMEOUT_MS);
  const settledAt = log.mark;
  const beforeSettling = log.maxOpenPerOrg(0);
  t.diagnostic(`settled after ${settledAt} Deliver log events; leaders ${[...leaders.values()].join(', ')}; `
    + `most streams per org before settling: ${[...beforeSettling].map(([o, n]) => `${o} ${n}`).join(', ')}`);

  await t.test(`after ${TX_COUNT} transactions all 8 ledgers equal the orderer's, one Deliver stream per org`, async () => {
    await fleet.submit(TX_COUNT);
    const height = await fleet.ordererHeight();
    assert.equal(height, 1 + TX_COUNT / MAX_MESSAGE_COUNT);
    const finals = await fleet.allAt(height, SYNC_TIMEOUT_MS);
    const orderer = await ledgerInfo(fleet.ordererData);
    assert.equal(orderer.height, height);
    for (const s of finals) {
      // The status line shows the first 16 hex digits of the last hash.
      assert.equal(s['hash'], orderer.lastHash.slice(0, 16), `${s['board']} ends on the orderer's last block`);
      assert.equal(s['rejected'], '0', `${s['board']} rejected nothing`);
    }
    for (const [org, n] of log.maxOpenPerOrg(settledAt)) {
      assert.ok(n <= 1, `${org} had ${n} Deliver streams open at once after settling:\n${log.describe(settledAt)}`);
    }
    const followers = fleet.ids().filter((id) => ![...leaders.values()].includes(id));
    for (const id of followers) {
      assert.deepEqual(log.opened(id, settledAt), [], `${id} (a follower) opened no Deliver stream`);
      assert.equal(lastStatus(fleet.proc(id))!['role'], 'follower');
    }
    for (const id of [...leaders.values()]) {
      const origins = await blocksByOrigin(fleet.board(id));
      assert.ok(origins.orderer > 0, `${id} (a leader) took blocks from the orderer: ${JSON.stringify(origins)}`);
    }
    // A follower of each org: its whole chain re-checked from the ledger on disk (read-only, while it runs).
    await fleet.assertConverged(fleet.orgs.map((org) => followers.find((f) => fleet.board(f).org === org)!), height);
  });

  await t.test('the org1 leader SIGKILLed mid-stream: an org-mate sees it dead, leads, streams after the settle time; survivors reach the orderer with no gap', async () => {
    const lead1 = leaders.get('org1')!;
    const h0 = await fleet.ordererHeight();
    const load = fleet.submit(KILL_LOAD_TX);
    // Mid-stream: the leader is taking blocks of this load from the orderer when it dies.
    await waitForStatus(fleet.proc(lead1), (s) => heightOf(s) >= h0 + KILL_AFTER_BLOCKS, `height>=${h0 + KILL_AFTER_BLOCKS}`, { timeoutMs: SYNC_TIMEOUT_MS });
    const mark = log.mark;
    const survivors = fleet.running('org1').filter((b) => b.id !== lead1);
    const since = new Map(survivors.map((b) => [b.id, b.proc!.lineCount]));
    const logMarks = new Map(survivors.map((b) => [b.id, fleet.logMark(b.id)]));
    const killedAt = Date.now();
    await fleet.stopBoard(lead1, 'SIGKILL');
    // Taking over means streaming: the heir is the first org1 survivor whose Deliver stream the orderer
    // opens after the kill, and the time is the orderer's, when it logged it. (Which survivor says
    // role=leader first can differ from who ends up leading while their heights still leapfrog.)
    const stream = await pollUntil(() => log.events.find((e) => e.index >= mark && e.kind === 'opened' && e.org === 'org1') ?? null,
      'a Deliver stream from an org1 survivor', TAKEOVER_BOUND_MS + SYNC_TIMEOUT_MS, () => fleet.describe());
    const tookMs = stream.time - killedAt;
    const heir = stream.requester;
    const claimed = survivors.filter((b) => statusLines(b.proc!, since.get(b.id)!).some((s) => s['role'] === 'leader')).map((b) => b.id);
    t.diagnostic(`${heir} streamed ${tookMs} ms after ${lead1} was killed (limits give ${TAKEOVER_BOUND_MS} ms with slack); `
      + `org1 survivors that said role=leader meanwhile: ${claimed.join(', ') || 'none'}`);
    assert.notEqual(heir, lead1);
    // The takeover as the heir lived it, in its own log's order and clock: it saw the leader dead (a
    // SIGKILLed board says nothing: only expiry tells), then elected itself, then, after the claim's
    // settle time for a rival's claim, asked the orderer for its stream. Not a wall-clock bound on a
    // loaded machine (issue 14); the time taken is the diagnostic above.
    const since1 = logMarks.get(heir)!;
    const timeOf = (r: Record<string, unknown> | undefined): number => Number(r?.['time']);
    const dead = fleet.logRecords(heir, 'gossip member dead', since1).find((r) => r['member'] === `org1/${lead1}`);
    const elected = fleet.logRecords(heir, 'gossip leader elected', since1).find((r) => r['leader'] === heir);
    const requested = fleet.logRecords(heir, 'deliver stream requested', since1)[0];
    assert.ok(dead !== undefined && elected !== undefined && requested !== undefined,
      `${heir} logged the death, its election and its stream request: ${JSON.stringify({ dead, elected, requested })}`);
    assert.ok(timeOf(dead) <= timeOf(elected) && timeOf(elected) <= timeOf(requested), `${heir}: dead, elected, then streaming`);
    const settleMs = FLEET_LIMITS.leaderClaimSettleMs!;
    assert.ok(timeOf(requested) - timeOf(elected) >= settleMs, `${heir} waited leaderClaimSettleMs (${settleMs} ms) for a rival's claim before it streamed`);
    await load;
    const height = await fleet.ordererHeight();
    assert.equal(height, h0 + KILL_LOAD_TX / MAX_MESSAGE_COUNT);
    await fleet.allAt(height, SYNC_TIMEOUT_MS);
    const settled = await pollUntil(() => fleet.leaders(), 'one leader per org among the survivors', SYNC_TIMEOUT_MS, () => fleet.describe());
    assert.ok(settled.get('org1') !== lead1 && settled.get('org1') !== undefined);
    // The survivors never streamed two at once, from the kill through the load (a later handover between
    // them may happen, an overlap not).
    const overLoad = log.maxOpenPerOrg(mark, [lead1]).get('org1') ?? 0;
    assert.ok(overLoad <= 1, `the org1 survivors had ${overLoad} streams open at once:\n${log.describe(mark)}`);
    const ids = fleet.running().map((b) => b.id);
    assert.equal(ids.length, ORGS * BOARDS_PER_ORG - 1);
    for (const id of ids) await fleet.stopBoard(id);
    // No gap: every survivor's ledger is re-checked block by block and ends on the orderer's last block.
    await fleet.assertConverged(ids, height);
  });
});
