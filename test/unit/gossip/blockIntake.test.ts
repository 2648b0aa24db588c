// Blocks from other boards (src/gossip/blockIntake.ts): held until they continue the peer's chain and
// offered to it in order; pushed ones it took forwarded (pulled and streamed ones not); a gap a push
// reveals asked of its sender at once (not more often than gapPullMinIntervalMs); PULL answers taken
// only from members asked, RANGE blocks only when the catch-up says so; a block the peer rejects blamed
// on its sender; a forked peer takes nothing and is not repaired. Real edgepeer blocks, membership and
// pending store; the peer, catch-up, push and sending beside the unit are recorded stand-ins.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeBlock } from '../../../src/channel/blocks.js';
import { edgepeerBlockFormat } from '../../../src/channel/edgepeerFormat.js';
import { BlockIntake, type BlockIntakeLimits } from '../../../src/gossip/blockIntake.js';
import type { BlockPush } from '../../../src/gossip/blockPush.js';
import type { CatchUp } from '../../../src/gossip/catchUp.js';
import { Membership, memberKey } from '../../../src/gossip/membership.js';
import { BlocksKind, type GossipBody, GossipType, type RangePosition } from '../../../src/gossip/messages.js';
import type { GossipPeer } from '../../../src/gossip/seams.js';
import { ManualClock } from '../../helpers/fakes.js';

const LIMITS: BlockIntakeLimits = {
  pendingBlocksMax: 64, pendingPushedBytesMax: 1 << 20, pendingPushedAheadMaxBlocks: 32, pullBlocksMax: 16,
  blocksPerMessageMax: 8, pullIntervalMs: 250, aliveIntervalMs: 150, gapPullMinIntervalMs: 100,
};
const EXPIRE_MS = 1_500;
const FORGET_MS = 60_000;
const SELF = { id: 'org1-board3', org: 'org1' };
const A = { id: 'org1-board1', org: 'org1' };
const B = { id: 'org1-board2', org: 'org1' };
const KEY_A = memberKey(A.org, A.id);
const KEY_B = memberKey(B.org, B.id);

/** Blocks 0 .. count - 1 of a chain (unsigned: the intake does not verify, the peer does). */
function chain(count: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let prev = new Uint8Array(32);
  for (let n = 0; n < count; n++) {
    const b = makeBlock(n, prev, [new Uint8Array(16).fill(n % 256)], 0, []);
    out.push(b.bytes);
    prev = Uint8Array.from(b.hash);
  }
  return out;
}
const BLOCKS = chain(40);
const range = (from: number, to: number): Uint8Array[] => BLOCKS.slice(from, to + 1);

/** The peer: takes blocks that continue its chain, rejects the numbers in `rejects`, or is forked. */
class FakePeer {
  next = 0;
  readonly rejects = new Set<number>();
  isForked = false;
  isDelivering = false;
  /** Blocks it takes per offer at most (its buffer's room). */
  takeMax = Infinity;
  readonly offered: number[][] = [];
  private readonly reader = edgepeerBlockFormat.reader();

  nextNumber(): number {
    return this.next;
  }

  offerFromGossip(blocks: Uint8Array[], from: number): number {
    const numbers = blocks.slice(from).map((b) => (this.reader.locate(b), this.reader.number(b)));
    this.offered.push(numbers);
    let taken = 0;
    for (const n of numbers) {
      if (n < this.next) { taken++; continue; }
      if (n !== this.next || taken >= this.takeMax) break;
      if (this.rejects.has(n)) return -1;
      this.next++;
      taken++;
    }
    return taken;
  }
}

interface Rig {
  intake: BlockIntake;
  peer: FakePeer;
  clock: ManualClock;
  membership: Membership;
  sent: { to: string; body: GossipBody }[];
  drops: { from: string; reason: string }[];
  forwarded: { numbers: number[]; senders: string[] }[];
  received: [string, number][];
  duplicates: number[];
  misbehaved: string[];
  catchUp: { accept: boolean; starts: boolean; active: boolean; progress: number[]; ranges: RangePosition[] };
  /** Heard ALIVEs of A and B at these heights. */
  alive(heightA: number, heightB: number): void;
}

function rig(): Rig {
  const reader = edgepeerBlockFormat.reader();
  const peer = new FakePeer();
  const clock = new ManualClock(1_000_000);
  const membership = new Membership(SELF, EXPIRE_MS, FORGET_MS);
  let seq = 0;
  const r: Omit<Rig, 'intake'> = {
    peer, clock, membership, sent: [], drops: [], forwarded: [], received: [], duplicates: [], misbehaved: [],
    catchUp: { accept: true, starts: false, active: false, progress: [], ranges: [] },
    alive: (heightA, heightB) => {
      seq++;
      for (const [m, height] of [[A, heightA], [B, heightB]] as const) {
        membership.heard({ ...m, height, incarnation: 1, seq, endpoint: `${m.id}:7000`, leader: false }, 'peer', clock.now());
      }
    },
  };
  const catchUp = {
    get active() { return r.catchUp.active; },
    received: (_from: string, pos: RangePosition) => { r.catchUp.ranges.push(pos); return r.catchUp.accept; },
    maybeStart: () => r.catchUp.starts,
    misbehaved: (member: string) => { r.misbehaved.push(member); },
    progress: (next: number) => { r.catchUp.progress.push(next); },
  } as unknown as CatchUp;
  const push = {
    forward: (blocks: readonly Uint8Array[], senders: ReadonlySet<string>) => {
      r.forwarded.push({ numbers: blocks.map((b) => (reader.locate(b), reader.number(b))), senders: [...senders] });
    },
  } as unknown as BlockPush;
  const intake = new BlockIntake({
    peer: peer as unknown as GossipPeer, membership, catchUp, push, reader, limits: LIMITS, clock,
    random: () => 0,
    metrics: { blocksReceived: (origin, n) => { r.received.push([origin, n]); }, duplicates: (n) => { r.duplicates.push(n); } },
    send: (to, body) => { r.sent.push({ to, body }); return true; },
    drop: (from, reason) => { r.drops.push({ from, reason }); },
  });
  return { ...r, intake };
}

test('pushed blocks that continue the chain are offered in order, counted as push, and forwarded with their senders', () => {
  const r = rig();
  r.alive(0, 0);
  r.intake.receive(A, range(0, 2), BlocksKind.PUSH, undefined);
  r.intake.receive(B, range(3, 4), BlocksKind.PUSH, undefined);
  assert.equal(r.peer.next, 5);
  assert.deepEqual(r.peer.offered, [[0, 1, 2], [3, 4]]);
  assert.deepEqual(r.forwarded, [{ numbers: [0, 1, 2], senders: [KEY_A] }, { numbers: [3, 4], senders: [KEY_B] }]);
  assert.deepEqual(r.received, [['push', 3], ['push', 2]]);
  assert.deepEqual(r.intake.blocksBySource(), { orderer: 0, push: 5, pull: 0, catchup: 0 });
  assert.deepEqual(r.catchUp.progress, [3, 5]);
  assert.deepEqual(r.sent, [], 'no gap, nothing asked');
  // The sender holds at least what it sent.
  assert.equal(r.membership.get(KEY_B)!.height, 5);
});

test('a push past a gap is held, its sender is asked for the gap at once (not again within gapPullMinIntervalMs), and the answer drains both in order', async () => {
  const r = rig();
  r.alive(0, 0);
  r.intake.receive(A, range(5, 6), BlocksKind.PUSH, undefined);
  assert.equal(r.peer.next, 0);
  assert.deepEqual(r.intake.pushedHeld, { blocks: 2, bytes: BLOCKS[5]!.length + BLOCKS[6]!.length });
  assert.deepEqual(r.sent, [{ to: KEY_A, body: { type: GossipType.DIGEST, height: 0 } }]);
  await r.clock.advance(LIMITS.gapPullMinIntervalMs - 1);
  r.intake.receive(A, range(7, 7), BlocksKind.PUSH, undefined);
  assert.equal(r.sent.length, 1, 'asked already');
  // The pull answer: 0..4 from A, who was asked.
  r.intake.receive(A, range(0, 4), BlocksKind.PULL, undefined);
  assert.equal(r.peer.next, 8);
  assert.deepEqual(r.peer.offered, [[0, 1, 2, 3, 4, 5, 6, 7]]);
  // Only the pushed blocks travel on: the pulled ones are this board's repair.
  assert.deepEqual(r.forwarded, [{ numbers: [5, 6, 7], senders: [KEY_A] }]);
  assert.deepEqual(r.intake.blocksBySource(), { orderer: 0, push: 3, pull: 5, catchup: 0 });
  assert.deepEqual(r.intake.pushedHeld, { blocks: 0, bytes: 0 });
  // Past the interval, a new gap is asked again.
  await r.clock.advance(LIMITS.gapPullMinIntervalMs);
  r.intake.receive(A, range(10, 10), BlocksKind.PUSH, undefined);
  assert.deepEqual(r.sent.at(-1), { to: KEY_A, body: { type: GossipType.DIGEST, height: 8 } });
});

test('PULL answers are taken only from a member asked, and only for a while after asking', async () => {
  const r = rig();
  r.alive(10, 10);
  r.intake.receive(B, range(0, 2), BlocksKind.PULL, undefined);
  assert.equal(r.peer.next, 0);
  assert.deepEqual(r.drops, [{ from: KEY_B, reason: 'pull answer nobody asked for' }]);
  // repair() asks a member ahead (random 0: the first live one, A).
  r.intake.repair(r.clock.now());
  assert.deepEqual(r.sent, [{ to: KEY_A, body: { type: GossipType.DIGEST, height: 0 } }]);
  r.intake.receive(B, range(0, 2), BlocksKind.PULL, undefined);
  assert.equal(r.peer.next, 0, 'B was not the one asked');
  await r.clock.advance(2 * LIMITS.pullIntervalMs + LIMITS.aliveIntervalMs);
  r.intake.receive(A, range(0, 2), BlocksKind.PULL, undefined);
  assert.equal(r.peer.next, 3, 'within 2 pull intervals and an ALIVE interval');
  await r.clock.advance(2 * LIMITS.pullIntervalMs + LIMITS.aliveIntervalMs + 1);
  r.intake.receive(A, range(3, 4), BlocksKind.PULL, undefined);
  assert.equal(r.peer.next, 3, 'too late');
  assert.equal(r.drops.at(-1)!.reason, 'pull answer nobody asked for');
});

test('repair: a DIGEST to a member ahead at most every pullIntervalMs; none while delivering, forked, catching up, or with nobody ahead', async () => {
  const r = rig();
  r.alive(0, 0);
  r.intake.repair(r.clock.now());
  assert.deepEqual(r.sent, [], 'nobody ahead');
  r.alive(0, 7);
  r.intake.repair(r.clock.now());
  assert.deepEqual(r.sent, [{ to: KEY_B, body: { type: GossipType.DIGEST, height: 0 } }]);
  await r.clock.advance(LIMITS.pullIntervalMs - 1);
  r.intake.repair(r.clock.now());
  assert.equal(r.sent.length, 1);
  await r.clock.advance(1);
  r.peer.isDelivering = true;
  r.intake.repair(r.clock.now());
  r.peer.isDelivering = false;
  r.peer.isForked = true;
  r.intake.repair(r.clock.now());
  r.peer.isForked = false;
  r.catchUp.active = true;
  r.intake.repair(r.clock.now());
  r.catchUp.active = false;
  r.catchUp.starts = true;
  r.intake.repair(r.clock.now());
  assert.equal(r.sent.length, 1, 'delivering, forked, a stream running, a stream started: no DIGEST');
  r.catchUp.starts = false;
  r.intake.repair(r.clock.now());
  assert.equal(r.sent.length, 2);
});

test('RANGE blocks are taken only when the catch-up takes the message, and count as catchup', () => {
  const r = rig();
  r.alive(20, 0);
  r.catchUp.accept = false;
  r.intake.receive(A, range(0, 3), BlocksKind.RANGE, { session: 1, seq: 1, last: false });
  assert.equal(r.peer.next, 0);
  r.intake.receive(A, range(0, 3), BlocksKind.RANGE, undefined);
  assert.deepEqual(r.catchUp.ranges, [{ session: 1, seq: 1, last: false }], 'no range position: not even asked');
  r.catchUp.accept = true;
  r.intake.receive(A, range(0, 3), BlocksKind.RANGE, { session: 1, seq: 2, last: false });
  assert.equal(r.peer.next, 4);
  assert.deepEqual(r.intake.blocksBySource(), { orderer: 0, push: 0, pull: 0, catchup: 4 });
  assert.deepEqual(r.forwarded, []);
});

test('a message with something that is not a block is dropped whole; blocks the peer has already are duplicates', () => {
  const r = rig();
  r.alive(0, 0);
  r.intake.receive(A, [BLOCKS[0]!, new Uint8Array([1, 2, 3])], BlocksKind.PUSH, undefined);
  assert.equal(r.peer.next, 0);
  assert.match(r.drops[0]!.reason, /^not a block: /);
  r.intake.receive(A, range(0, 2), BlocksKind.PUSH, undefined);
  r.intake.receive(B, range(1, 3), BlocksKind.PUSH, undefined);
  assert.equal(r.peer.next, 4);
  assert.deepEqual(r.duplicates, [2]);
});

test('pushed blocks too far ahead are not held, and the drop says how far', () => {
  const r = rig();
  r.alive(0, 0);
  const far = chain(LIMITS.pendingPushedAheadMaxBlocks + 1).at(-1)!;
  r.intake.receive(A, [far], BlocksKind.PUSH, undefined);
  assert.deepEqual(r.intake.pushedHeld, { blocks: 0, bytes: 0 });
  assert.deepEqual(r.drops, [{ from: KEY_A, reason: `pushed blocks ${LIMITS.pendingPushedAheadMaxBlocks} or more ahead of block 0 not held` }]);
});

test('a block the peer rejects is blamed on its sender and dropped; the run stops there and what came before is kept', () => {
  const r = rig();
  r.alive(0, 0);
  r.peer.rejects.add(2);
  r.intake.receive(A, range(0, 4), BlocksKind.PUSH, undefined);
  assert.equal(r.peer.next, 2);
  assert.deepEqual(r.misbehaved, [KEY_A]);
  assert.deepEqual(r.drops, [{ from: KEY_A, reason: 'gossiped block 2 rejected by verification' }]);
  assert.deepEqual(r.forwarded, [{ numbers: [0, 1], senders: [KEY_A] }]);
  // 3 and 4 stay held for when a good block 2 comes.
  r.peer.rejects.clear();
  r.intake.receive(B, range(2, 2), BlocksKind.PUSH, undefined);
  assert.equal(r.peer.next, 5);
});

test('a peer that takes only part of a run (its buffer full) is not offered the rest again until the next drain', () => {
  const r = rig();
  r.alive(0, 0);
  r.peer.takeMax = 2;
  r.intake.receive(A, range(0, 4), BlocksKind.PUSH, undefined);
  assert.deepEqual(r.peer.offered, [[0, 1, 2, 3, 4]]);
  assert.equal(r.peer.next, 2);
  assert.equal(r.intake.pushedHeld.blocks, 3);
  r.intake.drain();
  assert.deepEqual(r.peer.offered, [[0, 1, 2, 3, 4], [2, 3, 4]]);
  assert.equal(r.peer.next, 4);
});

test('a forked peer takes nothing: gossiped blocks are not even held', () => {
  const r = rig();
  r.alive(0, 0);
  r.intake.receive(A, range(3, 5), BlocksKind.PUSH, undefined);
  assert.equal(r.intake.pushedHeld.blocks, 3);
  r.peer.isForked = true;
  r.intake.receive(B, range(0, 2), BlocksKind.PUSH, undefined);
  assert.deepEqual(r.peer.offered, []);
  assert.equal(r.intake.pushedHeld.blocks, 3);
});

test('a fork found while gossiped blocks are offered: everything held is let go, and the sender is not blamed', () => {
  const r = rig();
  r.alive(0, 0);
  r.intake.receive(A, range(2, 4), BlocksKind.PUSH, undefined);
  // The peer refuses block 0 because its own chain conflicts with it (an orderer-signed fork).
  r.peer.rejects.add(0);
  const offer = r.peer.offerFromGossip.bind(r.peer);
  r.peer.offerFromGossip = (blocks, from) => {
    const taken = offer(blocks, from);
    if (taken < 0) r.peer.isForked = true;
    return taken;
  };
  r.intake.receive(B, range(0, 1), BlocksKind.PUSH, undefined);
  assert.deepEqual(r.peer.offered, [[0, 1, 2, 3, 4]]);
  assert.deepEqual(r.misbehaved, []);
  assert.deepEqual(r.drops, []);
  assert.deepEqual(r.intake.pushedHeld, { blocks: 0, bytes: 0 });
});

test('blocks from the orderer are counted beside the gossiped ones', () => {
  const r = rig();
  r.intake.fromOrderer(5);
  assert.deepEqual(r.intake.blocksBySource(), { orderer: 5, push: 0, pull: 0, catchup: 0 });
  assert.deepEqual(r.received, [['orderer', 5]]);
});
