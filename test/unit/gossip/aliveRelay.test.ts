// Relay-mode ALIVE dissemination's parts (src/gossip/aliveRelay.ts) on an injected clock: the queue of
// ALIVEs to relay and its bounds, which entries of a received ALIVES are opened, the mode switch, and the
// expiry that tells a member heard only now and then by relay from a dead one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ALIVES_OWN_ENTRIES, AliveRelayQueue, type AliveRelayLimits, aliveExpiryRule, alivesTaken, relayExpirationMs, relayMode,
} from '../../../src/gossip/aliveRelay.js';
import { gossipDefaults } from '../../../src/gossip/gossipDefaults.js';
import type { AliveBody } from '../../../src/gossip/messages.js';
import { Membership, memberKey } from '../../../src/gossip/membership.js';

const limits: AliveRelayLimits = {
  ...gossipDefaults, aliveRelayedPerMessageMax: 3, aliveRelayedBytesPerMessageMax: 100, aliveRelayedEntryBytesMax: 40, aliveRelayPendingMax: 5,
};
const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);

function alive(over: Partial<AliveBody>): AliveBody {
  return { id: 'board1', org: 'org1', height: 10, incarnation: 1, seq: 1, endpoint: 'h:1', leader: false, ...over };
}

test('the relay queue: one entry per member (its newest), newest first, within the count and byte bounds, emptied by take', () => {
  const q = new AliveRelayQueue(limits);
  const a1 = bytes(30, 1);
  const a2 = bytes(30, 2);
  const b = bytes(30, 3);
  const c = bytes(30, 4);
  const d = bytes(30, 5);
  q.offer('org1/a', a1);
  q.offer('org1/b', b);
  q.offer('org1/a', a2);
  q.offer('org1/c', c);
  q.offer('org1/d', d);
  assert.equal(q.size, 4, "a's newer ALIVE replaced its older one");
  // Newest first: d, c, a2 fill 90 of 100 bytes and the count of 3; b is left, and dropped.
  assert.deepEqual(q.take(), [d, c, a2]);
  assert.equal(q.size, 0, 'what one send does not carry is never relayed');
  assert.deepEqual(q.take(), []);
});

test('the relay queue: an entry larger than aliveRelayedEntryBytesMax is refused; past aliveRelayPendingMax the oldest go', () => {
  const q = new AliveRelayQueue(limits);
  assert.equal(q.offer('org1/big', bytes(41, 9)), false);
  assert.equal(q.size, 0);
  for (let i = 0; i < 20; i++) q.offer(`org1/m${i}`, bytes(10, i));
  assert.equal(q.size, limits.aliveRelayPendingMax);
  const out = q.take();
  assert.deepEqual(out.map((e) => e[0]), [19, 18, 17]);
});

test('the relay queue: byte bound skips a large entry and takes a smaller older one; entries carried anyway are skipped', () => {
  const q = new AliveRelayQueue(limits);
  const small = bytes(20, 1);
  const large1 = bytes(40, 2);
  const large2 = bytes(40, 3);
  const slot = bytes(10, 4);
  q.offer('org1/s', small);
  q.offer('org1/slot', slot);
  q.offer('org1/l1', large1);
  q.offer('org1/l2', large2);
  // l2 (40) + l1 (40) = 80; the slot is skipped; small (20) fits exactly: 100.
  assert.deepEqual(q.take(new Set([slot])), [large2, large1, small]);
});

test('entries of a received ALIVES opened: the own two and aliveRelayedPerMessageMax more, within the byte bound', () => {
  const e = (n: number): Uint8Array => bytes(n, 0);
  const countMax = ALIVES_OWN_ENTRIES + limits.aliveRelayedPerMessageMax;
  assert.deepEqual(alivesTaken(Array.from({ length: countMax }, () => e(10)), limits), { count: countMax, cut: null });
  const tooMany = alivesTaken(Array.from({ length: countMax + 7 }, () => e(10)), limits);
  assert.equal(tooMany.count, countMax);
  assert.match(tooMany.cut!, /past 5 are not opened/);
  // 100 + 2 x 40 = 180 bytes of entries at most; an oversized entry counts as its bound plus one.
  const heavy = alivesTaken([e(40), e(40), e(40), e(40), e(40)], limits);
  assert.equal(heavy.count, 4);
  assert.match(heavy.cut!, /past 180 bytes/);
  assert.equal(alivesTaken([e(5_000), e(10)], limits).count, 2, 'an oversized entry costs its bound, not its size');
});

test('the mode: up to aliveDirectMembersMax live members direct, beyond it relay', () => {
  assert.equal(relayMode(gossipDefaults.aliveDirectMembersMax, gossipDefaults), false);
  assert.equal(relayMode(gossipDefaults.aliveDirectMembersMax + 1, gossipDefaults), true);
});

test('the relay expiry grows with the fleet: a round per aliveFanout x aliveRelayedPerMessageMax members, and one more', () => {
  const l = gossipDefaults;
  const perRound = l.aliveFanout * l.aliveRelayedPerMessageMax;
  assert.equal(relayExpirationMs(33, l), l.aliveExpirationMs + 2 * l.aliveRelayExpirationPerRoundMs);
  assert.equal(relayExpirationMs(perRound, l), l.aliveExpirationMs + 2 * l.aliveRelayExpirationPerRoundMs);
  assert.equal(relayExpirationMs(perRound + 1, l), l.aliveExpirationMs + 3 * l.aliveRelayExpirationPerRoundMs);
  assert.equal(relayExpirationMs(999, l), l.aliveExpirationMs + 9 * l.aliveRelayExpirationPerRoundMs);
  // The defaults: 29 s up to 128 members, 113 s at a thousand.
  assert.deepEqual([relayExpirationMs(100, l), relayExpirationMs(999, l)], [29_000, 113_000]);
});

/** A membership of `self` (org1/self) whose members were heard as `heard` says, on the injected clock. */
function membership(heard: (m: Membership) => void): Membership {
  const m = new Membership({ id: 'self', org: 'org1' }, gossipDefaults.aliveExpirationMs, gossipDefaults.messageTimeWindowMs);
  heard(m);
  return m;
}

const RELAY_LIVE = 999;

test('relay mode: a member heard by relay only now and then stays live past aliveExpirationMs, and dies after the relay expiry', () => {
  const l = gossipDefaults;
  const m = membership((ms) => { ms.heard(alive({ org: 'org2', id: 'far' }), 'peer', 0, { direct: false, bytes: null }); });
  const rule = aliveExpiryRule({ org: 'org1', liveMembers: RELAY_LIVE, limits: l });
  const expiry = relayExpirationMs(RELAY_LIVE, l);
  assert.ok(expiry > 3 * l.aliveExpirationMs);
  // Seven intervals of silence: a healthy member's ALIVE is still on its way by relay.
  assert.deepEqual(m.expire(7 * l.aliveIntervalMs, rule), []);
  assert.deepEqual(m.expire(expiry, rule), []);
  assert.deepEqual(m.expire(expiry + 1, rule).map((x) => x.key), ['org2/far']);
  // The rule the node used before relays: dead after aliveExpirationMs.
  const old = membership((ms) => { ms.heard(alive({ org: 'org2', id: 'far' }), 'peer', 0, { direct: false, bytes: null }); });
  assert.equal(old.expire(7 * l.aliveIntervalMs).length, 1);
});

test("relay mode: this org's leader, heard straight from since it leads, is dead after aliveExpirationMs (relays do not stretch it)", () => {
  const l = gossipDefaults;
  const rule = aliveExpiryRule({ org: 'org1', liveMembers: RELAY_LIVE, limits: l });
  const m = membership((ms) => {
    ms.heard(alive({ id: 'lead', leader: true, seq: 1 }), 'peer', 0, { direct: true, bytes: null });
    // Another org's leader, heard straight from: not this org's, so the relay expiry.
    ms.heard(alive({ org: 'org2', id: 'lead2', leader: true }), 'peer', 0, { direct: true, bytes: null });
    // A board of this org that leads, heard by relay only: the relay expiry until it is heard straight from.
    ms.heard(alive({ id: 'claim', leader: true }), 'peer', 0, { direct: false, bytes: null });
  });
  assert.deepEqual(m.expire(l.aliveExpirationMs, rule), []);
  assert.deepEqual(m.expire(l.aliveExpirationMs + 1, rule).map((x) => x.key), ['org1/lead']);
  assert.equal(m.get(memberKey('org2', 'lead2'))!.alive, true);
  assert.equal(m.get(memberKey('org1', 'claim'))!.alive, true);
});

test("relay mode: a relayed ALIVE of this org's leader newer than its last direct one keeps it live (it was signed since)", () => {
  const l = gossipDefaults;
  const rule = aliveExpiryRule({ org: 'org1', liveMembers: RELAY_LIVE, limits: l });
  const m = membership((ms) => { ms.heard(alive({ id: 'lead', leader: true, seq: 1 }), 'peer', 0, { direct: true, bytes: null }); });
  m.heard(alive({ id: 'lead', leader: true, seq: 2 }), 'peer', 4_000, { direct: false, bytes: null });
  assert.deepEqual(m.expire(l.aliveExpirationMs + 1_000, rule), []);
  // A stale copy (a replay of seq 2) refreshes nothing.
  assert.equal(m.heard(alive({ id: 'lead', leader: true, seq: 2 }), 'peer', 8_000, { direct: true, bytes: null }), 'stale');
  assert.equal(m.expire(4_000 + l.aliveExpirationMs + 1, rule).length, 1);
});

test('direct mode keeps the old expiry for members heard straight from; one last heard by relay gets the relay expiry', () => {
  const l = gossipDefaults;
  const rule = aliveExpiryRule({ org: 'org1', liveMembers: 10, limits: l });
  const m = membership((ms) => {
    ms.heard(alive({ id: 'near' }), 'peer', 0, { direct: true, bytes: null });
    ms.heard(alive({ id: 'far' }), 'peer', 0, { direct: false, bytes: null });
  });
  assert.deepEqual(m.expire(l.aliveExpirationMs + 1, rule).map((x) => x.key), ['org1/near']);
  assert.equal(m.get('org1/far')!.alive, true, 'a board that just left relay mode does not kill what it heard by relay');
});

test('a member whose ALIVEs begin to say leader: leaderSinceMs is when they began; a restart clears what was heard straight from it', () => {
  const m = membership(() => undefined);
  m.heard(alive({ seq: 1 }), 'peer', 0, { direct: true, bytes: null });
  m.heard(alive({ seq: 2, leader: true }), 'peer', 100, { direct: false, bytes: null });
  m.heard(alive({ seq: 3, leader: true }), 'peer', 200, { direct: true, bytes: null });
  const x = m.get('org1/board1')!;
  assert.deepEqual([x.leaderSinceMs, x.lastDirectMs, x.lastHeardMs], [100, 200, 200]);
  m.heard(alive({ incarnation: 2, seq: 1, leader: true }), 'peer', 300, { direct: false, bytes: null });
  assert.deepEqual([x.leaderSinceMs, x.lastDirectMs], [300, null]);
});

test('membersMax: a new member beyond it is not taken (full); known members still are, and forgetting makes room', () => {
  const m = new Membership({ id: 'self', org: 'org1' }, 1_000, 10_000, 3);
  for (let i = 0; i < 3; i++) assert.equal(m.heard(alive({ id: `b${i}` }), 'peer', 0), 'new');
  assert.equal(m.heard(alive({ id: 'minted' }), 'peer', 0), 'full');
  assert.equal(m.size, 3);
  assert.equal(m.heard(alive({ id: 'b0', seq: 2 }), 'peer', 10), 'updated');
  m.expire(1_500);
  m.expire(12_000);
  assert.equal(m.size, 0);
  assert.equal(m.heard(alive({ id: 'minted' }), 'peer', 12_000), 'new');
});
