// Fleet properties the process tests cannot reach, on the simulator (test/helpers/sim): the real gossip
// code of every board over the in-memory network on virtual time, seeded, small enough to be fast.
// - After any partition of the boards (any number of sides, any assignment, any length, blocks cut all
//   along) heals, every board holds every block.
// - Once settled, and again after a partition heals, each org has exactly one Deliver stream.
// - The simulator itself: the same seed gives the same JSON.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { gossipDefaults } from '../../../src/gossip/gossipDefaults.js';
import { fleetSimDefaults, runFleetSim } from '../../helpers/sim/fleetSim.js';
import { SimFleet, simFleetDefaults } from '../../helpers/sim/simFleet.js';

const BOARDS = 12;
const ORGS = 3;
const RATE_BLOCKS_PER_SEC = 50;
const limits = gossipDefaults;
/**
 * After a heal a board hears its neighbours' heights within an ALIVE interval, then pulls (next pull tick)
 * or streams (catch-up, at the next tick); a side that lost its leader elects one (grace is long past;
 * the election's term and the claim's settle time). Twice each, with slack: virtual time, so this is a
 * bound on the protocol, not on the machine.
 */
const CONVERGE_AFTER_HEAL_MS = 2 * (limits.aliveIntervalMs + limits.pullIntervalMs + limits.leaderClaimSettleMs + limits.leaderMinTermMs);
/** A returning island's leader steps down at the rival rule, within an ALIVE or two of the heal. */
const ONE_STREAM_AFTER_HEAL_MS = limits.aliveExpirationMs + limits.leaderMinTermMs + limits.leaderClaimSettleMs;
const SETTLE_MS = 30_000;

async function settled(seed: number): Promise<SimFleet> {
  const f = new SimFleet({ ...simFleetDefaults, boards: BOARDS, orgs: ORGS, seed, codec: 'stand-in', verifier: 'chain', link: { latencyMs: 2, jitterMs: 1, loss: 0 } });
  await f.startAll();
  assert.ok(await f.clock.runUntil(() => f.settled(), SETTLE_MS), 'the fleet settled');
  return f;
}

function maxStreamsPerOrg(f: SimFleet): number {
  return Math.max(0, ...f.orderer.streamsByOrg().values());
}

test('after any partition heals, every board holds every block, and each org is back to one stream', async () => {
  await fc.assert(fc.asyncProperty(
    fc.integer({ min: 1, max: 1_000_000 }),
    fc.array(fc.integer({ min: 0, max: 2 }), { minLength: BOARDS, maxLength: BOARDS }),
    fc.integer({ min: 100, max: 12_000 }),
    async (seed, sides, partitionMs) => {
      const f = await settled(seed);
      try {
        f.network.partition([0, 1, 2].map((s) => f.boards.filter((_, i) => sides[i] === s).map((b) => b.endpoint)));
        f.scheduleLoad(Math.max(1, Math.round((RATE_BLOCKS_PER_SEC * partitionMs) / 1000)), RATE_BLOCKS_PER_SEC);
        await f.clock.runFor(partitionMs);
        f.network.heal();
        const healed = f.clock.exactNow();
        const converged = await f.clock.runUntil(() => f.converged(), CONVERGE_AFTER_HEAL_MS);
        assert.ok(converged, `not converged ${CONVERGE_AFTER_HEAL_MS} ms after the heal: heights ${f.boards.map((b) => b.peer.height)} of ${f.orderer.height}`);
        const one = await f.clock.run(healed + ONE_STREAM_AFTER_HEAL_MS, () => f.settled());
        assert.ok(one, `streams by org ${JSON.stringify([...f.orderer.streamsByOrg()])} ${ONE_STREAM_AFTER_HEAL_MS} ms after the heal`);
        // And it stays so.
        let most = 0;
        await f.clock.run(f.clock.exactNow() + 5_000, () => { most = Math.max(most, maxStreamsPerOrg(f)); return false; });
        assert.equal(most, 1);
      } finally {
        await f.stop();
      }
    },
  ), { numRuns: 12, seed: 20_261_202 });
});

test('settled: one stream per org, and no second one opens under steady load', async () => {
  const f = await settled(3);
  const streams = f.orderer.streamLog.length;
  assert.equal(streams, ORGS);
  f.scheduleLoad(500, RATE_BLOCKS_PER_SEC);
  let most = 0;
  await f.clock.run(f.clock.exactNow() + 12_000, () => { most = Math.max(most, maxStreamsPerOrg(f)); return false; });
  assert.equal(most, 1);
  assert.equal(f.orderer.streamLog.length, streams, `streams opened under load: ${JSON.stringify(f.orderer.streamLog.slice(streams))}`);
  assert.ok(f.converged());
  await f.stop();
});

test('the simulator: the same options and seed give the same figures', async () => {
  const o = { ...fleetSimDefaults, boards: 10, orgs: 2, seed: 5, blocks: 60, jitterMs: 2, loss: 0.01, partitionMs: 2_000 };
  const a = JSON.stringify(await runFleetSim(o));
  const b = JSON.stringify(await runFleetSim(o));
  assert.equal(a, b);
  const r = JSON.parse(a) as { deliveryRatio: number; boards: number };
  assert.equal(r.boards, 10);
  assert.equal(r.deliveryRatio, 1);
});

/** Boards above aliveDirectMembersMax (32): every board relays (docs/protocol.md §12b.3). */
const RELAY_BOARDS = 48;
const RELAY_ORGS = 3;

test('above aliveDirectMembersMax (48 boards, 3 orgs): ALIVEs go to aliveFanout members an interval, views stay whole, one stream per org, and a partition heals', async () => {
  const f = new SimFleet({
    ...simFleetDefaults, boards: RELAY_BOARDS, orgs: RELAY_ORGS, seed: 4, codec: 'stand-in', verifier: 'chain', link: { latencyMs: 2, jitterMs: 1, loss: 0 },
  });
  try {
    await f.startAll();
    assert.ok(await f.clock.runUntil(() => f.settled(), SETTLE_MS), 'the fleet settled');
    const streams = f.orderer.streamLog.length;
    // Views fill by relay within a few intervals; then no healthy member is ever taken for dead.
    await f.clock.runFor(5 * limits.aliveIntervalMs);
    const aliveOut = (): number => f.boards.reduce((t, b) => t + (b.counters.messagesOut['alive'] ?? 0), 0);
    const before = aliveOut();
    const INTERVALS = 10;
    f.scheduleLoad(INTERVALS * RATE_BLOCKS_PER_SEC, RATE_BLOCKS_PER_SEC);
    let smallestView = RELAY_BOARDS;
    let most = 0;
    await f.clock.run(f.clock.exactNow() + INTERVALS * limits.aliveIntervalMs, () => {
      most = Math.max(most, maxStreamsPerOrg(f));
      for (const b of f.boards) smallestView = Math.min(smallestView, b.node.liveMembers().length);
      return false;
    });
    const perBoardPerInterval = (aliveOut() - before) / RELAY_BOARDS / INTERVALS;
    // aliveFanout each, and each leader to its org (15 boards) besides: about 5. All to all would be 47.
    assert.ok(perBoardPerInterval <= limits.aliveFanout + 2, `${perBoardPerInterval} ALIVE messages per board per interval`);
    assert.equal(smallestView, RELAY_BOARDS - 1, 'a healthy member was taken for dead');
    assert.equal(most, 1);
    assert.equal(f.orderer.streamLog.length, streams, `streams opened under load: ${JSON.stringify(f.orderer.streamLog.slice(streams))}`);
    assert.ok(await f.clock.runUntil(() => f.converged(), 2_000), 'the load reached every board');
    // A partition into halves, blocks cut all along; then the heal.
    const sides = [f.boards.filter((b) => b.index % 2 === 0), f.boards.filter((b) => b.index % 2 === 1)].map((s) => s.map((b) => b.endpoint));
    f.network.partition(sides);
    f.scheduleLoad(5 * RATE_BLOCKS_PER_SEC, RATE_BLOCKS_PER_SEC);
    await f.clock.runFor(5_000);
    f.network.heal();
    const healed = f.clock.exactNow();
    assert.ok(await f.clock.runUntil(() => f.converged(), CONVERGE_AFTER_HEAL_MS), `not converged ${CONVERGE_AFTER_HEAL_MS} ms after the heal: heights ${f.boards.map((b) => b.peer.height)} of ${f.orderer.height}`);
    assert.ok(await f.clock.run(healed + ONE_STREAM_AFTER_HEAL_MS, () => f.settled()), `streams by org ${JSON.stringify([...f.orderer.streamsByOrg()])} after the heal`);
  } finally {
    await f.stop();
  }
});
