// GossipNode's logic without TCP: a few boards of the real node (membership, election, leadership, push,
// pull, catch-up, the block server) over the in-memory network, on virtual time, with the real codec
// (every message Ed25519-signed and checked) and the peer's real BlockVerifier. Deterministic: the same
// seed gives the same run, so every figure below is exact, not a timing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { issueCertificate } from '../../../src/protocol/certificate.js';
import { generateKeyPair } from '../../../src/crypto/keys.js';
import { edgepeerBlockFormat } from '../../../src/channel/edgepeerFormat.js';
import { BlocksKind, GossipType, decodeGossip, signGossip } from '../../../src/gossip/messages.js';
import type { GossipTransport } from '../../../src/gossip/seams.js';
import type { BlockFormat, BlockReader } from '../../../src/protocol/blockFormat.js';
import { BlockLayout, LayoutError, locateBlock } from '../../../src/protocol/block.js';
import type { Signer } from '../../../src/protocol/envelope.js';
import { SimFleet, type SimFleetOptions, simFleetDefaults } from '../../helpers/sim/simFleet.js';

/** Short timings, so a test's virtual seconds are few; the node's logic is the same at any scale. */
const limits = {
  aliveIntervalMs: 100, aliveExpirationMs: 600, electionStartupGraceMs: 300, leaderClaimSettleMs: 150, leaderMinTermMs: 1_000,
  pullIntervalMs: 100, gapPullMinIntervalMs: 20, catchUpMinGapBlocks: 64,
};
/** Virtual time within which a fleet of a few boards elects and streams (grace + settle + a few ALIVEs). */
const SETTLE_WITHIN_MS = 3_000;

function fleet(o: Partial<SimFleetOptions> = {}): SimFleet {
  return new SimFleet({ ...simFleetDefaults, boards: 6, orgs: 2, seed: 7, ...o, limits: { ...limits, ...o.limits } });
}

async function settledFleet(o: Partial<SimFleetOptions> = {}): Promise<SimFleet> {
  const f = fleet(o);
  await f.startAll();
  assert.ok(await f.clock.runUntil(() => f.settled(), SETTLE_WITHIN_MS), `no settled leadership: ${JSON.stringify([...f.deliveringByOrg()])}`);
  return f;
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

test('one board per org streams from the orderer, only after its claim settled; followers never stream', async () => {
  const f = fleet();
  const startedAt = f.clock.now();
  await f.startAll();
  assert.ok(await f.clock.runUntil(() => f.settled(), SETTLE_WITHIN_MS));
  // Run on: the leadership holds, and nobody else opens a stream.
  await f.clock.runFor(2_000);
  const opened = f.orderer.streamLog;
  assert.equal(opened.length, 2, `streams opened: ${JSON.stringify(opened)}`);
  for (const org of ['org01', 'org02']) {
    const inOrg = f.boards.filter((b) => b.org === org);
    const stream = opened.find((e) => e.org === org)!;
    // Equal heights: the lowest id leads, and everyone in the org names it.
    assert.equal(stream.board, inOrg.map((b) => b.id).sort()[0]);
    assert.equal(stream.closedMs, null);
    for (const b of inOrg) assert.equal(b.node.leader, stream.board);
    // The startup grace, then the claim's settle time, before the stream opens.
    assert.ok(stream.openedMs - startedAt >= limits.electionStartupGraceMs + limits.leaderClaimSettleMs, `opened at ${stream.openedMs - startedAt} ms`);
  }
  await f.stop();
});

test('push: blocks travel down each org\'s tree (leader first, then by key, `fanout` children each): every board gets each block once, none is pulled', async () => {
  // Pull ticks far too slow to matter: a block push missed would show as pulled.
  const fanout = 2;
  const f = await settledFleet({ limits: { fanout, pullIntervalMs: 600_000 } });
  const BLOCKS = 40;
  // Blocks each board pushes and receives (BLOCKS of kind PUSH), read off the wire.
  const pushedBy = new Map<string, number>();
  const pushedTo = new Map<string, number>();
  f.network.tap = (from, to, bytes) => {
    const m = decodeGossip(bytes).message;
    if (m.body.type !== GossipType.BLOCKS || (m.body.kind ?? BlocksKind.PUSH) !== BlocksKind.PUSH) return;
    pushedBy.set(from, (pushedBy.get(from) ?? 0) + m.body.blocks.length);
    pushedTo.set(to, (pushedTo.get(to) ?? 0) + m.body.blocks.length);
  };
  f.scheduleLoad(BLOCKS, 20);
  assert.ok(await f.clock.runUntil(() => f.converged() && f.orderer.height === BLOCKS + 1, 5_000), `heights ${f.boards.map((b) => b.peer.height)}`);
  for (const org of ['org01', 'org02']) {
    const inOrg = f.boards.filter((b) => b.org === org);
    const leader = inOrg.find((b) => b.node.leader === b.id)!;
    assert.ok(leader !== undefined, `${org} has a leader`);
    const key = (b: { org: string; id: string }): string => `${b.org}/${b.id}`;
    const tree = [leader, ...inOrg.filter((b) => b !== leader).sort((x, y) => (key(x) < key(y) ? -1 : 1))];
    for (const [i, b] of tree.entries()) {
      const src = b.node.blocksBySource();
      const children = Math.max(0, Math.min(fanout, tree.length - (fanout * i + 1)));
      if (b === leader) assert.deepEqual(src, { orderer: BLOCKS, push: 0, pull: 0, catchup: 0 }, `${b.id} leads: every block from the orderer`);
      else assert.deepEqual(src, { orderer: 0, push: BLOCKS, pull: 0, catchup: 0 }, `${b.id} took every block by push, none pulled`);
      assert.equal(pushedTo.get(b.endpoint) ?? 0, b === leader ? 0 : BLOCKS, `${b.id} was pushed each block once`);
      assert.equal(pushedBy.get(b.endpoint) ?? 0, children * BLOCKS, `${b.id}, at ${i} in its org's tree, pushes each block to its ${children} children`);
    }
  }
  await f.stop();
});

test('pull: with push off (fanout 0) followers reach the orderer height by DIGEST answers alone', async () => {
  const f = await settledFleet({ limits: { fanout: 0 } });
  f.scheduleLoad(30, 50);
  assert.ok(await f.clock.runUntil(() => f.orderer.height === 31 && f.converged(), 5_000), `heights ${f.boards.map((b) => b.peer.height)}`);
  const followers = f.boards.filter((b) => !b.peer.isDelivering);
  assert.equal(followers.length, 4);
  for (const b of followers) {
    const src = b.node.blocksBySource();
    assert.equal(src.push, 0);
    assert.equal(src.pull, 30, `${b.id}: ${JSON.stringify(src)}`);
    assert.ok((b.counters.messagesOut['digest'] ?? 0) > 0);
  }
  await f.stop();
});

test('a pushed block past a gap makes its receiver ask the sender for the gap at once, not at the next pull tick', async () => {
  // The pull tick is a minute away: only the gap pull can repair within the bound below.
  const f = await settledFleet({ limits: { fanout: 5, pullIntervalMs: 60_000 } });
  const victim = f.boards.find((b) => !b.peer.isDelivering)!;
  f.network.partition([[victim.endpoint], f.boards.filter((b) => b !== victim).map((b) => b.endpoint)]);
  f.scheduleLoad(10, 100);
  await f.clock.runFor(200);
  assert.equal(victim.peer.height, 1, 'the partitioned board got nothing');
  f.network.heal();
  f.scheduleLoad(1, 1);
  const healedAt = f.clock.now();
  // One push (a link delay), one DIGEST and its answer (two more), a commit: well under one pull tick.
  assert.ok(await f.clock.runUntil(() => victim.peer.height === f.orderer.height, 100), `victim at ${victim.peer.height} of ${f.orderer.height}`);
  assert.ok(f.clock.now() - healedAt < 20, `repaired after ${f.clock.now() - healedAt} ms`);
  assert.equal(victim.node.blocksBySource().pull, 10);
  await f.stop();
});

test('a board restarted with an empty ledger far behind catches up by one RANGE stream, opening no Deliver stream', async () => {
  const f = await settledFleet();
  f.scheduleLoad(300, 500);
  assert.ok(await f.clock.runUntil(() => f.orderer.height === 301 && f.converged(), 5_000));
  const follower = f.boards.find((b) => !b.peer.isDelivering && b.org === 'org02')!;
  const streamsBefore = f.orderer.streamLog.length;
  await f.restartEmpty(follower.index);
  assert.equal(follower.peer.height, 1);
  assert.ok(await f.clock.runUntil(() => follower.peer.height === f.orderer.height, 5_000), `at ${follower.peer.height}`);
  const src = follower.node.blocksBySource();
  assert.equal(follower.node.transfers.catchUpStreams, 1);
  assert.ok(src.catchup >= 300 - limits.catchUpMinGapBlocks, `by source ${JSON.stringify(src)}`);
  assert.equal(f.orderer.streamLog.length, streamsBefore, 'no Deliver stream opened for the catch-up');
  await f.stop();
});

test('a forked follower is fetched nothing and offered nothing: no DIGEST, no catch-up stream, its height stays', async () => {
  const f = await settledFleet();
  const victim = f.boards.find((b) => !b.peer.isDelivering)!;
  victim.peer.isForked = true;
  const digests = victim.counters.messagesOut['digest'] ?? 0;
  // More than catchUpMinGapBlocks: a board that took nothing would open a catch-up stream.
  f.scheduleLoad(100, 200);
  const others = f.boards.filter((b) => b !== victim);
  assert.ok(await f.clock.runUntil(() => f.orderer.height === 101 && others.every((b) => b.peer.height === 101), 5_000));
  // Many pull ticks (pullIntervalMs 100) of virtual time more.
  await f.clock.runFor(20 * limits.pullIntervalMs);
  assert.equal(victim.peer.height, 1, 'nothing offered to it (pushes included)');
  assert.equal(victim.counters.messagesOut['digest'] ?? 0, digests, 'no DIGEST sent');
  assert.equal(victim.node.transfers.catchUpStreams, 0, 'no catch-up stream');
  await f.stop();
});

test('a member back from the dead is redialled by every board at once (its connections to it may be in backoff)', async () => {
  const f = await settledFleet();
  const follower = f.boards.find((b) => !b.peer.isDelivering && b.org === 'org02')!;
  await f.stopBoard(follower.index);
  await f.clock.runFor(limits.aliveExpirationMs * 2);
  const mark = f.network.redials.length;
  await f.resumeBoard(follower.index);
  const others = f.boards.filter((b) => b !== follower).map((b) => b.endpoint);
  const redialled = (): string[] => [...new Set(f.network.redials.slice(mark).filter((r) => r.to === follower.endpoint).map((r) => r.from))];
  assert.ok(await f.clock.runUntil(() => redialled().length === others.length, 5 * limits.aliveIntervalMs),
    `redialled by ${redialled().join(', ')} of ${others.join(', ')}`);
  await f.stop();
});

test('a leader that stops says so: its org-mate streams well before the leader would have expired', async () => {
  const f = await settledFleet();
  const leader = f.boards.find((b) => b.peer.isDelivering && b.org === 'org01')!;
  const stoppedAt = f.clock.now();
  await f.stopBoard(leader.index);
  assert.ok(await f.clock.runUntil(() => f.deliveringByOrg().get('org01')?.length === 1, 5_000));
  const heir = f.deliveringByOrg().get('org01')![0]!;
  assert.notEqual(heir, leader.id);
  // Election at once on the leaving ALIVE, then the claim's settle time; without it: aliveExpirationMs first.
  const took = f.clock.now() - stoppedAt;
  assert.ok(took < limits.aliveExpirationMs, `took over after ${took} ms`);
  assert.ok(took >= limits.leaderClaimSettleMs, `took over after ${took} ms, before the claim settled`);
  await f.stop();
});

test('the same seed gives the same run, message for message', async () => {
  const run = async (): Promise<string> => {
    const f = await settledFleet({ seed: 11, link: { latencyMs: 2, jitterMs: 3, loss: 0.02 } });
    f.scheduleLoad(50, 100);
    await f.clock.runFor(2_000);
    const out = JSON.stringify(f.boards.map((b) => [b.peer.height, b.counters, b.node.blocksBySource()]));
    await f.stop();
    return out;
  };
  assert.equal(await run(), await run());
});

test('block numbers are read through the injected BlockFormat', async () => {
  let numbersRead = 0;
  const counting: BlockFormat = {
    name: 'edgepeer',
    reader(): BlockReader {
      const r = edgepeerBlockFormat.reader();
      return {
        locate: (b) => r.locate(b),
        get locateError() { return r.locateError; },
        number: (b) => { numbersRead++; return r.number(b); },
        previousHashEquals: (b, h, o) => r.previousHashEquals(b, h, o),
        dataHashValid: (b) => r.dataHashValid(b),
        hashInto: (b, out, o) => r.hashInto(b, out, o),
        isConfig: (b) => r.isConfig(b),
      };
    },
  };
  const f = await settledFleet({ format: counting, boards: 4 });
  f.scheduleLoad(10, 50);
  assert.ok(await f.clock.runUntil(() => f.orderer.height === 11 && f.converged(), 5_000));
  // Intake reads the number of every block a follower received by gossip (two followers here: 4 boards, 2 orgs).
  const followers = f.boards.length - f.deliveringByOrg().size;
  assert.ok(followers >= 2 && numbersRead >= 10 * followers, `numbers read through the format: ${numbersRead}`);
  await f.stop();
});

/** An attacker's own transport on the simulated network, sending raw bytes to a board. */
async function attacker(f: SimFleet): Promise<GossipTransport> {
  return f.network.transport('sim:attacker')(() => true);
}

function foreignSigner(f: SimFleet, id: string, org: string): Signer {
  const keys = generateKeyPair();
  const root = generateKeyPair();
  const now = f.clock.now();
  const certificate = issueCertificate({ id, org, role: 'peer', publicKey: keys.publicKeyRaw, notBefore: now - 1_000, notAfter: now + 3_600_000 }, root.privateKey);
  return { certificate, privateKey: keys.privateKey };
}

test('forgeries: a foreign ALIVE, a block with a bad orderer signature and an unasked pull answer are dropped, nothing committed', async () => {
  const f = await settledFleet();
  f.scheduleLoad(5, 50);
  assert.ok(await f.clock.runUntil(() => f.orderer.height === 6 && f.converged(), 5_000));
  const target = f.boards.find((b) => !b.peer.isDelivering)!;
  const channel = f.channel.config.channel;
  const wire = await attacker(f);
  const dropsBefore = target.counters.dropped;

  // 1. A board whose certificate chains to no root of the channel: not a member, never elected.
  const foreign = foreignSigner(f, 'b0000', 'org01');
  wire.send(target.endpoint, signGossip(channel, {
    type: GossipType.ALIVE, alive: { id: 'b0000', org: 'org01', height: 1_000_000, incarnation: f.clock.now() * 2, seq: 1, endpoint: 'sim:attacker', leader: true },
  }, foreign, f.clock.now()));
  await f.clock.runFor(10);
  assert.equal(target.counters.dropped, dropsBefore + 1);
  assert.match(target.lastDrop!, /sender not allowed/);
  assert.ok(!target.node.liveMembers().some((m) => m.height === 1_000_000));

  // 2. A real member (an insider) pushes the next block with a flipped orderer-signature bit; it arrives
  // before the genuine one (one link delay against orderer link, commit and push).
  const insider = f.boards.find((b) => b !== target && !b.peer.isDelivering)!;
  const insiderSigner = f.channel.boards[insider.index]!.signer;
  const n = f.orderer.cut();
  const forged = f.orderer.chain[n]!.slice();
  const layout = new BlockLayout();
  assert.equal(locateBlock(forged, layout), LayoutError.ok);
  forged[layout.signaturesOffset + 2]! ^= 0x01;
  wire.send(target.endpoint, signGossip(channel, { type: GossipType.BLOCKS, blocks: [forged] }, insiderSigner, f.clock.now()));
  assert.ok(await f.clock.runUntil(() => target.peer.rejected > 0, 10), 'the forged block reached the peer and was rejected');
  assert.match(target.lastDrop!, new RegExp(`gossiped block ${n} rejected by verification`));
  // The genuine block follows; the ledger compares every committed block with the orderer's.
  assert.ok(await f.clock.runUntil(() => f.converged(), 2_000), `heights ${f.boards.map((b) => b.peer.height)}`);
  assert.equal(target.peer.rejected, 1);
  assert.equal(sum(f.boards.filter((b) => b !== target).map((b) => b.peer.rejected)), 0, 'the forged block was not forwarded');

  // 3. BLOCKS of kind PULL that no DIGEST asked for.
  const dropsBefore3 = target.counters.dropped;
  wire.send(target.endpoint, signGossip(channel, { type: GossipType.BLOCKS, kind: BlocksKind.PULL, blocks: [f.orderer.chain[1]!] }, insiderSigner, f.clock.now()));
  await f.clock.runFor(10);
  assert.equal(target.counters.dropped, dropsBefore3 + 1);
  assert.match(target.lastDrop!, /nobody asked/);
  await wire.stop();
  await f.stop();
});
