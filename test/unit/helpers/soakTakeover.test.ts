// The soak's takeover invariant (test/helpers/soak.ts, takeoverOrder): the heir's own log must show the
// leader gone, then its own election, then its stream request at least leaderClaimSettleMs later. Checked
// on made-up records, so that each way a takeover can be out of order is seen refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { takeoverOrder } from '../../helpers/soak.js';

const LEADER = 'org1/org1-board1';
const HEIR = 'org1-board2';
const SETTLE_MS = 450;

const dead = (time: number): Record<string, unknown> => ({ msg: 'gossip member dead', member: LEADER, time });
const left = (time: number): Record<string, unknown> => ({ msg: 'gossip member left', member: LEADER, time });
const elected = (time: number, leader = HEIR): Record<string, unknown> => ({ msg: 'gossip leader elected', leader, time });
const requested = (time: number): Record<string, unknown> => ({ msg: 'deliver stream requested', time });
const noise = (time: number): Record<string, unknown> => ({ msg: 'gossip member dead', member: 'org2/org2-board1', time });

test('a takeover in the protocol\'s order: what the heir noticed first is returned', () => {
  assert.deepEqual(takeoverOrder([noise(1), dead(1_500), elected(1_520), requested(1_980)], LEADER, HEIR, SETTLE_MS), { noticed: 'gossip member dead' });
  assert.deepEqual(takeoverOrder([left(10), elected(12), requested(12 + SETTLE_MS)], LEADER, HEIR, SETTLE_MS), { noticed: 'gossip member left' });
  // A rival's claim in between (the heir yields, then leads again): still in order.
  assert.deepEqual(takeoverOrder([dead(0), elected(5), elected(20, 'org1-board3'), elected(40), requested(600)], LEADER, HEIR, SETTLE_MS),
    { noticed: 'gossip member dead' });
});

test('a takeover out of order is refused, saying how', () => {
  const problem = (records: Record<string, unknown>[]): string => {
    const r = takeoverOrder(records, LEADER, HEIR, SETTLE_MS);
    assert.ok('problem' in r, JSON.stringify(r));
    return r.problem;
  };
  assert.match(problem([elected(0), dead(10), requested(1_000)]), /elected itself before it saw org1\/org1-board1 gone/);
  assert.match(problem([dead(0), elected(10), requested(100)]), /streamed 90 ms after electing itself, before leaderClaimSettleMs \(450 ms\)/);
  assert.match(problem([noise(0), elected(10), requested(1_000)]), /never logged org1\/org1-board1 dead or leaving/);
  assert.match(problem([dead(0), elected(10, 'org1-board3'), requested(1_000)]), /never logged electing itself/);
  assert.match(problem([dead(0), requested(5), elected(10)]), /never logged a Deliver stream request after electing itself/);
});
