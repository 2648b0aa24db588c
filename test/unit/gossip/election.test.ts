import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Election, LeaderElection, StaticElection, chooseLeader } from '../../../src/gossip/election.js';

const p = { leaderHandoverMinBlocks: 10, leaderMinTermMs: 1_000, electionStartupGraceMs: 500, leaderLagSustainMs: 0 };

test('the highest height wins', () => {
  assert.equal(chooseLeader([{ id: 'a', height: 5 }, { id: 'b', height: 9 }, { id: 'c', height: 7 }], null, 0, 0, p), 'b');
});

test('ties go to the lowest id', () => {
  assert.equal(chooseLeader([{ id: 'c', height: 9 }, { id: 'a', height: 9 }, { id: 'b', height: 9 }], null, 0, 0, p), 'a');
});

test('hysteresis: a challenger must lead by leaderHandoverMinBlocks, and not during the min term', () => {
  const live = [{ id: 'a', height: 100 }, { id: 'b', height: 109 }];
  assert.equal(chooseLeader(live, 'a', 0, 5_000, p), 'a', 'ahead by 9 < 10: the incumbent stays');
  live[1]!.height = 110;
  assert.equal(chooseLeader(live, 'a', 0, 5_000, p), 'b', 'ahead by 10: handover');
  assert.equal(chooseLeader(live, 'a', 4_500, 5_000, p), 'a', 'within the min term: the incumbent stays');
});

test('a dead leader is replaced at once, even within its term', () => {
  assert.equal(chooseLeader([{ id: 'b', height: 1 }, { id: 'c', height: 1 }], 'a', 4_900, 5_000, p), 'b');
});

test('the state machine waits out the startup grace, then keeps its leader until the rule says otherwise', () => {
  const e = new LeaderElection('b', p, 0);
  const live = [{ id: 'a', height: 3 }, { id: 'b', height: 3 }];
  assert.equal(e.update(live, 100), false);
  assert.equal(e.leader, null);
  assert.equal(e.update(live, 500), true);
  assert.equal(e.leader, 'a');
  assert.equal(e.isLeader, false);
  // b pulls ahead, but not by enough.
  assert.equal(e.update([{ id: 'a', height: 3 }, { id: 'b', height: 12 }], 5_000), false);
  // a dies.
  assert.equal(e.update([{ id: 'b', height: 12 }], 5_100), true);
  assert.ok(e.isLeader);
  // a comes back higher, within b's term: b holds.
  assert.equal(e.update([{ id: 'a', height: 50 }, { id: 'b', height: 12 }], 5_200), false);
  assert.equal(e.update([{ id: 'a', height: 50 }, { id: 'b', height: 12 }], 6_200), true);
  assert.equal(e.leader, 'a');
});

test('a board that joins late keeps the member that already leads, even against a lower id', () => {
  const e = new LeaderElection('a', p, 0);
  assert.equal(e.update([{ id: 'a', height: 3 }, { id: 'b', height: 3, leading: true }], 600), true);
  assert.equal(e.leader, 'b');
  assert.equal(chooseLeader([{ id: 'a', height: 3 }, { id: 'b', height: 3 }], null, 0, 0, p), 'a', 'without the claim: lowest id');
});

test('two boards that elected themselves: the higher id hands over unless it leads by the handover margin', () => {
  const b = new LeaderElection('b', p, 0);
  assert.equal(b.update([{ id: 'b', height: 3 }], 600), true);
  assert.ok(b.isLeader);
  assert.equal(b.update([{ id: 'a', height: 3, leading: true }, { id: 'b', height: 3 }], 700), true);
  assert.equal(b.leader, 'a');
  const c = new LeaderElection('c', p, 0);
  c.update([{ id: 'c', height: 20 }], 600);
  assert.equal(c.update([{ id: 'a', height: 3, leading: true }, { id: 'c', height: 20 }], 700), false, 'ahead by 17 >= 10: c keeps it');
  const a = new LeaderElection('a', p, 0);
  a.update([{ id: 'a', height: 3 }], 600);
  assert.equal(a.update([{ id: 'a', height: 3 }, { id: 'c', height: 20, leading: true }], 700), false, 'within the min term a keeps it');
  assert.equal(a.update([{ id: 'a', height: 3 }, { id: 'c', height: 20, leading: true }], 1_700), true, 'then hands over to c');
  assert.equal(a.leader, 'c');
});

test('static: the configured board leads from the start, with no grace, whatever the heights', () => {
  const e: Election = new StaticElection('b', true);
  assert.equal(e.leader, 'b');
  assert.ok(e.isLeader);
  assert.equal(e.update([{ id: 'a', height: 900, leading: true }, { id: 'b', height: 1 }], 0), false, 'never changes');
  assert.equal(e.leader, 'b');
  assert.ok(e.isLeader);
});

test('static: a follower never leads, and reports the live member that says it leads', () => {
  const e: Election = new StaticElection('a', false);
  assert.equal(e.leader, null);
  assert.equal(e.isLeader, false);
  // Alone and the highest: a dynamic election would pick it; static does not.
  assert.equal(e.update([{ id: 'a', height: 50 }], 10_000), false);
  assert.equal(e.leader, null);
  assert.equal(e.update([{ id: 'a', height: 50 }, { id: 'c', height: 3, leading: true }], 10_100), true);
  assert.equal(e.leader, 'c');
  assert.equal(e.isLeader, false);
  assert.equal(e.update([{ id: 'a', height: 50 }, { id: 'c', height: 4, leading: true }], 10_200), false);
  // The leader dies: nobody takes over (static), the follower says it has no leader.
  assert.equal(e.update([{ id: 'a', height: 50 }], 10_300), true);
  assert.equal(e.leader, null);
  assert.equal(e.isLeader, false);
});

test('static: two boards configured as leader (a misconfiguration): every follower names the same one', () => {
  const live = [{ id: 'd', height: 1, leading: true }, { id: 'b', height: 1, leading: true }, { id: 'a', height: 1 }];
  const a = new StaticElection('a', false);
  const z = new StaticElection('z', false);
  a.update(live, 0);
  z.update([...live].reverse(), 0);
  assert.equal(a.leader, 'b');
  assert.equal(z.leader, 'b');
});

test('a follower does not take its own claim for a leader', () => {
  const e = new StaticElection('a', false);
  assert.equal(e.update([{ id: 'a', height: 1, leading: true }], 0), false);
  assert.equal(e.leader, null);
});

test('the dynamic election is an Election too', () => {
  const e: Election = new LeaderElection('a', p, 0);
  assert.equal(e.update([{ id: 'a', height: 1 }], 600), true);
  assert.ok(e.isLeader);
});

test('a live leader that only looks behind for less than leaderLagSustainMs keeps the role; one that stays behind hands over', () => {
  const q = { ...p, leaderLagSustainMs: 3_000 };
  const e = new LeaderElection('b', q, 0);
  e.update([{ id: 'a', height: 3 }, { id: 'b', height: 3 }], 500);
  assert.equal(e.leader, 'a');
  // The leader's ALIVE is a second old under load: b looks 40 ahead, then a's next ALIVE catches up.
  assert.equal(e.update([{ id: 'a', height: 10 }, { id: 'b', height: 50 }], 5_000), false);
  assert.equal(e.update([{ id: 'a', height: 60 }, { id: 'b', height: 62 }], 6_000), false);
  assert.equal(e.update([{ id: 'a', height: 60 }, { id: 'b', height: 100 }], 8_500), false, 'a new lag starts its own clock');
  assert.equal(e.leader, 'a');
  // a is stuck (its orderer link is down) while b goes on: after 3 s of lag b takes over.
  assert.equal(e.update([{ id: 'a', height: 60 }, { id: 'b', height: 140 }], 10_000), false);
  assert.equal(e.update([{ id: 'a', height: 60 }, { id: 'b', height: 180 }], 11_500), true);
  assert.equal(e.leader, 'b');
  // A dead leader is replaced at once, sustain or not.
  const f = new LeaderElection('b', q, 0);
  f.update([{ id: 'a', height: 3 }, { id: 'b', height: 3 }], 500);
  assert.equal(f.update([{ id: 'b', height: 3 }], 600), true);
  assert.ok(f.isLeader);
});

test('a follower that adopted a claim which was then withdrawn follows the member that claims now', () => {
  // org2-board8 joins while board2 still claims (board1 and board2 elected themselves together); board2
  // then steps down to board1. With equal heights, nothing else would ever move board8 off board2.
  const e = new LeaderElection('h', p, 0);
  assert.equal(e.update([{ id: 'b', height: 1, leading: true }, { id: 'a', height: 1, leading: true }, { id: 'h', height: 1 }], 600), true);
  assert.equal(e.leader, 'a', 'two claims: the best claimant');
  const f = new LeaderElection('h', p, 0);
  f.update([{ id: 'b', height: 1, leading: true }, { id: 'h', height: 1 }], 600);
  assert.equal(f.leader, 'b', 'only b claimed when h elected');
  assert.equal(f.update([{ id: 'b', height: 1, leading: false }, { id: 'a', height: 1, leading: true }, { id: 'h', height: 1 }], 5_000), true);
  assert.equal(f.leader, 'a');
  // A leader that says nothing about itself (no claim either way) is not second-guessed.
  const g = new LeaderElection('h', p, 0);
  g.update([{ id: 'b', height: 1, leading: true }, { id: 'h', height: 1 }], 600);
  assert.equal(g.update([{ id: 'b', height: 1 }, { id: 'a', height: 1, leading: true }, { id: 'h', height: 1 }], 5_000), false);
  assert.equal(g.leader, 'b');
});
