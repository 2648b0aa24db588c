// Membership (src/gossip/membership.ts): members named by org and id, restarts, replays, forgetting.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AliveBody } from '../../../src/gossip/messages.js';
import { Membership, memberKey } from '../../../src/gossip/membership.js';

const EXPIRE_MS = 1_000;
const FORGET_MS = 10_000;

function alive(over: Partial<AliveBody>): AliveBody {
  return { id: 'board1', org: 'org1', height: 10, incarnation: 1, seq: 1, endpoint: 'h:1', leader: false, ...over };
}

test("another org's certificate with this org's board id is another member: the board's entry is untouched", () => {
  const m = new Membership({ id: 'board9', org: 'org1' }, EXPIRE_MS, FORGET_MS);
  assert.equal(m.heard(alive({ endpoint: 'real:1', leader: true }), 'peer', 0), 'new');
  // org2's admin mints { id: 'board1', org: 'org2' } and announces it from its own address.
  assert.equal(m.heard(alive({ org: 'org2', endpoint: 'evil:1', height: 1e9, incarnation: 2 ** 40, leader: true }), 'peer', 1), 'new');
  const real = m.get(memberKey('org1', 'board1'))!;
  assert.deepEqual([real.org, real.endpoint, real.height, real.leader], ['org1', 'real:1', 10, true]);
  assert.equal(m.get(memberKey('org2', 'board1'))!.endpoint, 'evil:1');
  assert.equal(m.live().length, 2);
  // The real board's next ALIVE is still taken (the forger's huge incarnation is its own entry's).
  assert.equal(m.heard(alive({ endpoint: 'real:1', seq: 2 }), 'peer', 2), 'updated');
});

test("this board's own id in another org is not this board", () => {
  const m = new Membership({ id: 'board1', org: 'org1' }, EXPIRE_MS, FORGET_MS);
  assert.equal(m.heard(alive({}), 'peer', 0), 'stale', 'its own ALIVE, echoed');
  assert.equal(m.heard(alive({ org: 'org2' }), 'peer', 0), 'new');
});

test('a restart (a new incarnation) resets the height to what the member says; within one incarnation it only rises', () => {
  const m = new Membership({ id: 'board9', org: 'org1' }, EXPIRE_MS, FORGET_MS);
  const key = memberKey('org1', 'board1');
  m.heard(alive({ height: 500 }), 'peer', 0);
  m.sawBlock(key, 799);
  assert.equal(m.get(key)!.height, 800);
  assert.equal(m.heard(alive({ height: 700, seq: 2 }), 'peer', 1), 'updated');
  assert.equal(m.get(key)!.height, 800, 'an ALIVE older than a block it sent does not lower it');
  // Restarted on an empty ledger.
  assert.equal(m.heard(alive({ height: 0, incarnation: 2, seq: 1 }), 'peer', 2), 'restarted');
  assert.equal(m.get(key)!.height, 0);
  assert.equal(m.heard(alive({ height: 900, incarnation: 1, seq: 99 }), 'peer', 3), 'stale', 'the old incarnation is over');
  assert.equal(m.get(key)!.height, 0);
});

test('a DIGEST or RANGE_REQUEST is taken once: a copy with the same timestamp, or an older one, is a replay', () => {
  const m = new Membership({ id: 'board9', org: 'org1' }, EXPIRE_MS, FORGET_MS);
  const key = memberKey('org1', 'board1');
  assert.equal(m.fresh(key, 'digest', 100), false, 'nobody to answer: not heard');
  m.heard(alive({}), 'peer', 0);
  assert.equal(m.fresh(key, 'digest', 100), true);
  assert.equal(m.fresh(key, 'digest', 100), false);
  assert.equal(m.fresh(key, 'digest', 99), false);
  assert.equal(m.fresh(key, 'digest', 101), true);
  assert.equal(m.fresh(key, 'range_request', 101), true, 'each kind on its own');
  assert.equal(m.fresh(memberKey('org2', 'board1'), 'digest', 500), false, 'another org\'s board1 is not this one');
});

test('a member dead for forgetAfterMs is forgotten: its next ALIVE is taken whatever its incarnation (a clock set back)', () => {
  const m = new Membership({ id: 'board9', org: 'org1' }, EXPIRE_MS, FORGET_MS);
  m.heard(alive({ incarnation: 5_000_000 }), 'peer', 0);
  assert.deepEqual(m.expire(EXPIRE_MS + 1).map((x) => x.key), ['org1/board1']);
  assert.equal(m.heard(alive({ incarnation: 1_000, seq: 1 }), 'peer', FORGET_MS), 'stale', 'within the window a lower incarnation is old');
  m.expire(FORGET_MS + 1);
  assert.equal(m.size, 0);
  assert.equal(m.heard(alive({ incarnation: 1_000, seq: 1 }), 'peer', FORGET_MS + 2), 'new');
});

test('the role is recorded, and a member that left is dead until its next ALIVE', () => {
  const m = new Membership({ id: 'board9', org: 'org1' }, EXPIRE_MS, FORGET_MS);
  m.heard(alive({ leader: true }), 'peer', 0);
  const key = memberKey('org1', 'board1');
  assert.equal(m.get(key)!.role, 'peer');
  assert.equal(m.left(key)!.leader, false);
  assert.equal(m.live().length, 0);
  assert.equal(m.heard(alive({ seq: 2 }), 'peer', 1), 'revived');
});
