// Push (src/gossip/blockPush.ts): the leader's blocks go out as it takes them from the orderer, down the org's tree
// (the leader first, then the org's boards by key, `fanout` children each, as a heap), a copy to one board
// of each leaderless org, batched by count and bytes and sealed once per batch. Real edgepeer blocks; the
// membership, sealing and sending beside the unit are recorded stand-ins.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeBlock } from '../../../src/channel/blocks.js';
import { edgepeerBlockFormat } from '../../../src/channel/edgepeerFormat.js';
import { seededRandom } from '../../../src/config/random.js';
import { BlockPush, type BlockPushLimits, LEADERLESS_ORG_PUSH_TARGETS, type PushTarget } from '../../../src/gossip/blockPush.js';
import { GossipType, type GossipBody } from '../../../src/gossip/messages.js';

const LIMITS: BlockPushLimits = { fanout: 2, blocksPerMessageMax: 256, blocksMessageMaxBytes: 256 * 1024 };

/** Blocks first .. first + count - 1 of a chain (unsigned: push does not verify, the peer did). */
function blocks(first: number, count: number, envelopeBytes = 16): Uint8Array[] {
  const out: Uint8Array[] = [];
  let prev = new Uint8Array(32);
  for (let n = first; n < first + count; n++) {
    const b = makeBlock(n, prev, [new Uint8Array(envelopeBytes).fill(n % 256)], 0, []);
    out.push(b.bytes);
    prev = Uint8Array.from(b.hash);
  }
  return out;
}

const numberOf = (b: Uint8Array): number => {
  const r = edgepeerBlockFormat.reader();
  assert.ok(r.locate(b));
  return r.number(b);
};

function board(org: string, n: number, o: { leader?: boolean; role?: string } = {}): PushTarget {
  const id = `${org}-board${n}`;
  return { key: `${org}/${id}`, org, endpoint: `${id}:7000`, role: o.role ?? 'peer', leader: o.leader ?? false };
}

interface Sent {
  endpoint: string;
  /** Index into `sealed`: the same index to several endpoints is one message signed once. */
  message: number;
}

interface Rig {
  push: BlockPush;
  sealed: GossipBody[];
  sent: Sent[];
  /** Block numbers each endpoint received, in order. */
  received(endpoint: string): number[];
  endpoints(): string[];
}

function rig(o: { self: PushTarget; members: PushTarget[]; leader: boolean; limits?: Partial<BlockPushLimits>; seed?: number }): Rig {
  const sealed: GossipBody[] = [];
  const sent: Sent[] = [];
  const push = new BlockPush({
    limits: { ...LIMITS, ...o.limits },
    random: seededRandom(o.seed ?? 1),
    self: { key: o.self.key, org: o.self.org },
    isLeader: () => o.leader,
    members: () => o.members,
    seal: (body) => {
      sealed.push(body);
      return Uint8Array.of(sealed.length - 1);
    },
    sendBytes: (endpoint, message, kind) => {
      assert.equal(kind, 'blocks');
      sent.push({ endpoint, message: message[0]! });
      return true;
    },
  });
  const bodyBlocks = (i: number): Uint8Array[] => {
    const body = sealed[i]!;
    assert.equal(body.type, GossipType.BLOCKS);
    return body.type === GossipType.BLOCKS ? body.blocks : [];
  };
  return {
    push, sealed, sent,
    received: (endpoint) => sent.filter((s) => s.endpoint === endpoint).flatMap((s) => bodyBlocks(s.message).map(numberOf)),
    endpoints: () => [...new Set(sent.map((s) => s.endpoint))].sort(),
  };
}

/** org1 with boards 1..7; board 4 leads. */
const ORG1 = [1, 2, 3, 4, 5, 6, 7].map((n) => board('org1', n, { leader: n === 4 }));
const others = (self: PushTarget): PushTarget[] => ORG1.filter((m) => m.key !== self.key);

test('the leader pushes what it took from the orderer at once, without waiting for its commit, each run once', () => {
  const leader = ORG1[3]!;
  const r = rig({ self: leader, members: others(leader), leader: true });
  r.push.fromOrderer(blocks(10, 3));
  assert.deepEqual(r.received('org1-board1:7000'), [10, 11, 12], 'out before any commit');
  r.push.fromOrderer(blocks(13, 2));
  assert.deepEqual(r.received('org1-board1:7000'), [10, 11, 12, 13, 14], 'the next run after it, the first not again');
  r.push.fromOrderer([]);
  assert.equal(r.sealed.length, 2, 'an empty run is no message');
});

test('the tree: the leader first, then the org\'s boards by key, `fanout` children each', () => {
  // Order: board4 (leader), board1, board2, board3, board5, board6, board7; children of i: 2i+1, 2i+2.
  const expected: Record<number, number[]> = { 4: [1, 2], 1: [3, 5], 2: [6, 7], 3: [], 5: [], 6: [], 7: [] };
  for (const self of ORG1) {
    const n = Number(self.key.slice(-1));
    const isLeader = n === 4;
    const r = rig({ self, members: others(self), leader: isLeader });
    if (isLeader) {
      r.push.fromOrderer(blocks(1, 3));
    } else {
      r.push.forward(blocks(1, 3), new Set());
    }
    assert.deepEqual(r.endpoints(), expected[n]!.map((c) => `org1-board${c}:7000`), `board${n}'s children`);
    for (const e of r.endpoints()) assert.deepEqual(r.received(e), [1, 2, 3]);
  }
});

test('fanout 3 makes a wider, shallower tree', () => {
  const self = ORG1[0]!; // board1: second in the order, children 4..6 of the order: board5, board6, board7
  const r = rig({ self, members: others(self), leader: false, limits: { fanout: 3 } });
  r.push.forward(blocks(1, 1), new Set());
  assert.deepEqual(r.endpoints(), ['org1-board5:7000', 'org1-board6:7000', 'org1-board7:7000']);
});

test('forward skips the boards that sent the blocks, whoever they are in the tree', () => {
  const self = ORG1[0]!; // children board3, board5
  const r = rig({ self, members: others(self), leader: false });
  r.push.forward(blocks(1, 2), new Set([ORG1[2]!.key]));
  assert.deepEqual(r.endpoints(), ['org1-board5:7000']);
});

test('of several boards saying they lead, the lowest key is the root', () => {
  const members = ORG1.map((m) => ({ ...m, leader: m.key.endsWith('4') || m.key.endsWith('6') }));
  const self = members[1]!; // board2
  const r = rig({ self, members: members.filter((m) => m.key !== self.key), leader: false });
  r.push.forward(blocks(1, 1), new Set());
  // Rooted at board4: board2 is third in the order, its children are board6 and board7.
  assert.deepEqual(r.endpoints(), ['org1-board6:7000', 'org1-board7:7000']);
});

test('no leader known: forward to up to `fanout` random boards of the org (never the senders, never another org)', () => {
  const leaderless = ORG1.map((m) => ({ ...m, leader: false }));
  const self = leaderless[0]!;
  const members = [...leaderless.filter((m) => m.key !== self.key), board('org2', 1), board('org2', 2)];
  const seen = new Set<string>();
  for (let seed = 1; seed <= 20; seed++) {
    const r = rig({ self, members, leader: false, seed });
    r.push.forward(blocks(1, 1), new Set([leaderless[1]!.key]));
    // `fanout` boards are drawn, then the senders among them dropped: a copy back would be wasted.
    assert.ok(r.endpoints().length >= 1 && r.endpoints().length <= LIMITS.fanout, r.endpoints().join(', '));
    for (const e of r.endpoints()) {
      assert.match(e, /^org1-/);
      assert.notEqual(e, 'org1-board2:7000', 'a sender gets no copy back');
      seen.add(e);
    }
  }
  assert.ok(seen.size > LIMITS.fanout, `the choice varies with the randomness: ${[...seen].join(', ')}`);
});

test('only boards are in the tree: clients and admins of the org get no blocks', () => {
  const self = board('org1', 1, { leader: true });
  const members = [board('org1', 2, { role: 'client' }), board('org1', 3, { role: 'admin' }), board('org1', 4)];
  const r = rig({ self, members, leader: true });
  r.push.fromOrderer(blocks(1, 1));
  assert.deepEqual(r.endpoints(), ['org1-board4:7000']);
});

test('a leader also pushes to one board of each other org none of whose boards says it leads', () => {
  const self = board('org1', 1);
  const members = [
    board('org1', 2),
    board('org2', 1), board('org2', 2), board('org2', 3),
    board('org3', 1), board('org3', 2, { leader: true }),
    board('org4', 1, { role: 'client' }),
  ];
  const r = rig({ self, members, leader: true });
  r.push.fromOrderer(blocks(1, 2));
  const got = r.endpoints();
  assert.ok(got.includes('org1-board2:7000'));
  const org2 = got.filter((e) => e.startsWith('org2-'));
  assert.equal(org2.length, LEADERLESS_ORG_PUSH_TARGETS, `one board of leaderless org2: ${got.join(', ')}`);
  assert.deepEqual(r.received(org2[0]!), [1, 2]);
  assert.ok(!got.some((e) => e.startsWith('org3-')), 'org3 has a leader: it takes its blocks from the orderer');
  assert.ok(!got.some((e) => e.startsWith('org4-')), 'a client is no board of a leaderless org');
});

test('forwarded blocks stay in the org: no copy to leaderless orgs', () => {
  const self = ORG1[0]!;
  const r = rig({ self, members: [...others(self), board('org2', 1)], leader: false });
  r.push.forward(blocks(1, 1), new Set());
  assert.ok(r.endpoints().every((e) => e.startsWith('org1-')), r.endpoints().join(', '));
});

test('fanout 0 turns push off: nothing is sent', () => {
  const leader = ORG1[3]!;
  const r = rig({ self: leader, members: others(leader), leader: true, limits: { fanout: 0 } });
  r.push.fromOrderer(blocks(1, 3));
  r.push.forward(blocks(1, 3), new Set());
  assert.deepEqual(r.sent, []);
});

test('batches: at most blocksPerMessageMax blocks and blocksMessageMaxBytes bytes, each sealed once for every target', () => {
  const leader = ORG1[3]!;
  const byCount = rig({ self: leader, members: others(leader), leader: true, limits: { blocksPerMessageMax: 4 } });
  byCount.push.fromOrderer(blocks(0, 10));
  const sizes = (r: Rig): number[] => r.sealed.map((b) => (b.type === GossipType.BLOCKS ? b.blocks.length : -1));
  assert.deepEqual(sizes(byCount), [4, 4, 2]);
  assert.equal(byCount.sent.length, 3 * LIMITS.fanout, 'each sealed message goes to both children');
  for (const e of byCount.endpoints()) assert.deepEqual(byCount.received(e), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

  const chain = blocks(0, 5, 1_000);
  const bytes = rig({ self: leader, members: others(leader), leader: true, limits: { blocksMessageMaxBytes: 2 * chain[1]!.length + 10 } });
  bytes.push.fromOrderer(chain);
  assert.deepEqual(sizes(bytes), [2, 2, 1]);

  const big = blocks(0, 3, 5_000);
  const oversized = rig({ self: leader, members: others(leader), leader: true, limits: { blocksMessageMaxBytes: 100 } });
  oversized.push.fromOrderer(big);
  assert.deepEqual(sizes(oversized), [1, 1, 1], 'a block larger than the bound goes alone');
});
