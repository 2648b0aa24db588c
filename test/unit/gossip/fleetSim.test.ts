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
