// Attackers against a real gossiping board (in process: real orderer, MQTT, LMDB, TCP): each test is one
// attack from docs/protocol.md §12b's threat list, and fails if the bound it names is missing.
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { test } from 'node:test';
import { submitLoad } from '../../src/client/broadcastClient.js';
import { systemClock } from '../../src/config/clock.js';
import { gossipDefaults } from '../../src/gossip/gossipDefaults.js';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { encodeFrame } from '../../src/gossip/frameCodec.js';
import { BlocksKind, GossipType, decodeGossip, signGossip } from '../../src/gossip/messages.js';
import { type GossipTransport, startTcpTransport } from '../../src/gossip/tcpTransport.js';
import { loadBoard, loadClient, loadOrgRoot } from '../../src/network/loadNetwork.js';
import { silentLogger } from '../../src/observability/logger.js';
import { HEADER_OFFSET, blockNumber, encodeHeader, readHeader } from '../../src/protocol/block.js';
import { issueCertificate } from '../../src/protocol/certificate.js';
import type { Signer } from '../../src/protocol/envelope.js';
import { type GossipBoard, networkSite, startGossipBoard, untilNodeEvent } from '../helpers/gossipBoard.js';
import { type InProcessNetwork, allCut, startInProcessNetwork, waitForHeight } from '../helpers/inProcessNetwork.js';
import { pollUntil, withTimeout } from '../helpers/wait.js';

/** An election, a sync or an answer on loopback that takes this long is not coming. */
const EVENT_TIMEOUT_MS = 20_000;
const LIMITS = { aliveIntervalMs: 100, aliveExpirationMs: 1_000, electionStartupGraceMs: 200, leaderClaimSettleMs: 150 };

interface Attacker {
  transport: GossipTransport;
  /** Every BLOCKS message received: its kind, first block number and block bytes. */
  blocks: { kind: number; first: number; count: number; bytes: number }[];
  onBlocks: (() => void) | null;
}

async function startAttacker(): Promise<Attacker> {
  const a: Attacker = { transport: null as unknown as GossipTransport, blocks: [], onBlocks: null };
  a.transport = await startTcpTransport({
    listen: '127.0.0.1:0', clock: systemClock, log: silentLogger(), limits: gossipDefaults,
    onMessage: (bytes) => {
      const m = decodeGossip(bytes).message;
      if (m.body.type !== GossipType.BLOCKS || m.body.blocks.length === 0) return true;
      let total = 0;
      for (const b of m.body.blocks) total += b.length;
      a.blocks.push({ kind: m.body.kind ?? BlocksKind.PUSH, first: blockNumber(m.body.blocks[0]!), count: m.body.blocks.length, bytes: total });
      a.onBlocks?.();
      return true;
    },
  });
  return a;
}

function alive(channel: string, s: Signer, endpoint: string, seq: number, height = 0, more: { incarnation?: number; leader?: boolean } = {}): Uint8Array {
  const c = s.certificate;
  return signGossip(channel, {
    type: GossipType.ALIVE, alive: { id: c.id, org: c.org, height, incarnation: more.incarnation ?? 1, seq, endpoint, leader: more.leader ?? false },
  }, s, Date.now());
}

/** org1's boards [0] and [1] gossiping (the first leads: it starts alone), with the drops each logged. */
async function org1Pair(net: InProcessNetwork, boards: GossipBoard[], limits: Record<string, number>): Promise<{ leader: GossipBoard; follower: GossipBoard; drops: string[] }> {
  const ids = net.summary.boards.filter((b) => b.org === 'org1').map((b) => b.id);
  const site = networkSite(net);
  const drops: string[] = [];
  const leader = await startGossipBoard(site, ids[0]!, { bootstrap: [], seed: 1, limits: { ...LIMITS, ...limits } });
  boards.push(leader);
  await untilNodeEvent([leader], 'role', () => leader.node.role() === 'leader', 'the first board to lead', EVENT_TIMEOUT_MS);
  const follower = await startGossipBoard(site, ids[1]!, { bootstrap: [leader.node.endpoint], seed: 2, limits: { ...LIMITS, ...limits } });
  boards.push(follower);
  for (const b of boards) b.node.on('dropped', (sender, reason) => drops.push(`${b.id}<-${sender}: ${reason}`));
  await pollUntil(() => (follower.node.leader === leader.id ? true : null), 'the follower to follow the first board', EVENT_TIMEOUT_MS);
  return { leader, follower, drops };
}

/** Sends `message()` to every board every `everyMs` for `forMs`, sampling `check` after each round; resolves when done. */
async function keepSending(a: Attacker, to: readonly GossipBoard[], message: (round: number) => Uint8Array, everyMs: number, forMs: number, check: () => void): Promise<void> {
  const until = Date.now() + forMs;
  for (let round = 1; Date.now() < until; round++) {
    const m = message(round);
    for (const b of to) a.transport.send(b.node.endpoint, m);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
    check();
  }
}

test('DIGESTs: a copy replayed a thousand times is answered once; a thousand fresh ones get the member its budget, not a thousand answers', { timeout: 60_000 }, async (t) => {
  const net = await startInProcessNetwork({ orgs: 1, boardsPerOrg: 3, batch: { maxMessageCount: 1 } });
  const boards: GossipBoard[] = [];
  let attacker: Attacker | null = null;
  t.after(async () => {
    await attacker?.transport.stop();
    for (const b of boards) await b.stop();
    await net.stop();
  });
  const BURST_BYTES = 16 * 1024;
  const RATE_BYTES_PER_S = 16 * 1024;
  const ids = net.summary.boards.map((b) => b.id);
  const board = await startGossipBoard(networkSite(net), ids[0]!, {
    bootstrap: [], seed: 1, limits: { ...LIMITS, digestAnswerBurstBytes: BURST_BYTES, digestAnswerBytesPerSecond: RATE_BYTES_PER_S },
  });
  boards.push(board);
  const drops: string[] = [];
  board.node.on('dropped', (sender, reason) => drops.push(`${sender}: ${reason}`));
  await untilNodeEvent(boards, 'role', () => board.node.role() === 'leader', 'the board to lead', EVENT_TIMEOUT_MS);
  const client = await net.client('org1');
  await submitLoad(client, 200, 64, 16);
  const height = await allCut(net);
  await waitForHeight(board.peer, height, EVENT_TIMEOUT_MS);
  let chainBytes = 0;
  for (let n = 0; n < height; n++) chainBytes += board.ledger.getBlock(n)!.length;
  assert.ok(chainBytes > 4 * BURST_BYTES, `the chain (${chainBytes} bytes) is several budgets long`);
  const lastBlockBytes = board.ledger.getBlock(height - 1)!.length;

  attacker = await startAttacker();
  const a = attacker;
  const channel = net.summary.channel;
  // Member identities (org1's other boards' keys) at the attacker's address: the board's answers to all
  // go down one connection, in order, so a probe's answer comes after every earlier one.
  const asker = loadBoard(net.summary.dir, ids[1]!).signer;
  const probe = loadBoard(net.summary.dir, ids[2]!).signer;
  a.transport.send(board.node.endpoint, alive(channel, asker, a.transport.endpoint, 1));
  a.transport.send(board.node.endpoint, alive(channel, probe, a.transport.endpoint, 1));
  let probes = 0;
  /** Sends a fresh probe DIGEST for the last block and awaits its answer: everything sent before it has arrived. */
  const drained = async (): Promise<void> => {
    probes++;
    const answered = new Promise<void>((resolve) => {
      a.onBlocks = () => { if (a.blocks.filter((m) => m.kind === BlocksKind.PULL && m.first === height - 1).length >= probes) resolve(); };
    });
    a.transport.send(board.node.endpoint, signGossip(channel, { type: GossipType.DIGEST, height: height - 1 }, probe, Date.now() + probes));
    await withTimeout(answered, "the probe's answer, after every earlier answer", EVENT_TIMEOUT_MS);
  };
  const sentFromZero = (): number => a.blocks.filter((m) => m.kind === BlocksKind.PULL && m.first === 0).reduce((n, m) => n + m.bytes, 0);
  const COPIES = 1_000;

  // One DIGEST, captured once and sent again and again (it is signed, so every copy authenticates).
  const digest = signGossip(channel, { type: GossipType.DIGEST, height: 0 }, asker, Date.now());
  for (let i = 0; i < COPIES; i++) assert.ok(a.transport.send(board.node.endpoint, digest), `copy ${i} queued`);
  await drained();
  const once = sentFromZero();
  assert.ok(once > 0 && once <= BURST_BYTES + lastBlockBytes, `${COPIES} copies were answered with ${once} bytes: one answer (unbounded: ${COPIES} × ${chainBytes})`);
  assert.equal(drops.filter((d) => d.includes('(a replay)')).length, COPIES - 1);

  // A member asking again and again, each DIGEST fresh (signed anew): its budget, refilled at the board's ticks.
  const startedAt = Date.now();
  for (let i = 1; i <= COPIES; i++) a.transport.send(board.node.endpoint, signGossip(channel, { type: GossipType.DIGEST, height: 0 }, asker, startedAt + i));
  await drained();
  const elapsedMs = Date.now() - startedAt;
  const sent = sentFromZero() - once;
  const boundBytes = BURST_BYTES + (RATE_BYTES_PER_S * (elapsedMs + LIMITS.aliveIntervalMs)) / 1000 + lastBlockBytes;
  assert.ok(sent <= boundBytes, `${COPIES} fresh DIGESTs made the board send ${sent} bytes in ${elapsedMs} ms; the budget allows ${Math.round(boundBytes)} (unbounded: ${COPIES} × ${chainBytes})`);
});

test("an org admin's certificate with another org's board id: a member of its own org, not a takeover of that board", { timeout: 60_000 }, async (t) => {
  const net = await startInProcessNetwork({ orgs: 2, boardsPerOrg: 2 });
  const boards: GossipBoard[] = [];
  let attacker: Attacker | null = null;
  t.after(async () => {
    await attacker?.transport.stop();
    for (const b of boards) await b.stop();
    await net.stop();
  });
  const { leader, follower } = await org1Pair(net, boards, {});
  attacker = await startAttacker();
  const a = attacker;
  // org2's admin (its root key) issues a board certificate carrying the org1 leader's id.
  const root = loadOrgRoot(net.summary.dir, 'org2');
  const keys = generateKeyPair();
  const now = Date.now();
  const certificate = issueCertificate({
    id: leader.id, org: 'org2', role: 'peer', publicKey: keys.publicKeyRaw, notBefore: now - 60_000, notAfter: now + 3_600_000,
  }, root.privateKey);
  const impostor: Signer = { certificate, privateKey: keys.privateKey };
  let doubleStreams = 0;
  // Announced from the attacker's address, claiming the lead with a huge height and incarnation, for
  // long enough that a takeover would have moved the election (a dead leader is replaced at once).
  await keepSending(a, boards, (round) => alive(net.summary.channel, impostor, a.transport.endpoint, round, 1e9, { incarnation: 2 ** 40, leader: true }),
    LIMITS.aliveIntervalMs, 4 * LIMITS.aliveExpirationMs, () => {
      if (leader.peer.isDelivering && follower.peer.isDelivering) doubleStreams++;
    });
  assert.equal(doubleStreams, 0, 'org1 never had two Deliver streams');
  assert.equal(follower.node.leader, leader.id, 'the follower still follows the real board');
  assert.equal(leader.node.role(), 'leader');
  assert.ok(leader.peer.isDelivering);
  const seen = follower.node.liveMembers();
  assert.deepEqual(seen.filter((m) => m.id === leader.id).map((m) => m.org).sort(), ['org1', 'org2'], 'two members: org1\'s board and org2\'s impostor');
  assert.ok(seen.find((m) => m.id === leader.id && m.org === 'org1')!.height < 1e9, 'the real board\'s entry kept its own height');
});

test("a client's certificate claiming a huge height and the lead: dropped (only boards gossip), never elected", { timeout: 60_000 }, async (t) => {
  const net = await startInProcessNetwork({ orgs: 1, boardsPerOrg: 2 });
  const boards: GossipBoard[] = [];
  let attacker: Attacker | null = null;
  t.after(async () => {
    await attacker?.transport.stop();
    for (const b of boards) await b.stop();
    await net.stop();
  });
  // A short lag sustain: a challenger far ahead takes over within a second, if it is a candidate at all.
  const { leader, follower, drops } = await org1Pair(net, boards, { leaderLagSustainMs: 300, leaderMinTermMs: 300 });
  attacker = await startAttacker();
  const a = attacker;
  const client = loadClient(net.summary.dir, 'org1');
  assert.equal(client.certificate.role, 'client');
  let lost = 0;
  await keepSending(a, boards, (round) => alive(net.summary.channel, client, a.transport.endpoint, round, 1e9, { leader: true }),
    LIMITS.aliveIntervalMs, 3_000, () => {
      if (leader.node.leader !== leader.id || follower.node.leader !== leader.id) lost++;
    });
  assert.equal(lost, 0, 'nobody ever named the client as leader');
  assert.ok(leader.peer.isDelivering, 'the leader still streams');
  assert.ok(!follower.node.liveMembers().some((m) => m.id === client.certificate.id), 'the client is no member');
  assert.ok(drops.some((d) => d.includes(`org1/${client.certificate.id}`) && d.includes("only boards (role 'peer') gossip")), drops.join('\n'));
});

test('a member restarted on an empty ledger (a new incarnation) is known at the height it says, not the one it had', { timeout: 60_000 }, async (t) => {
  const net = await startInProcessNetwork({ orgs: 1, boardsPerOrg: 3 });
  const boards: GossipBoard[] = [];
  let attacker: Attacker | null = null;
  t.after(async () => {
    await attacker?.transport.stop();
    for (const b of boards) await b.stop();
    await net.stop();
  });
  const { leader } = await org1Pair(net, boards, {});
  attacker = await startAttacker();
  const member = loadBoard(net.summary.dir, net.summary.boards[2]!.id).signer;
  const channel = net.summary.channel;
  const heightSeen = (): number | undefined => leader.node.liveMembers().find((m) => m.id === member.certificate.id)?.height;
  attacker.transport.send(leader.node.endpoint, alive(channel, member, attacker.transport.endpoint, 1, 5_000, { incarnation: 1_000 }));
  await pollUntil(() => (heightSeen() === 5_000 ? true : null), 'the member at 5,000', EVENT_TIMEOUT_MS);
  // Restarted: a new incarnation, its ledger emptied (it holds the genesis block).
  attacker.transport.send(leader.node.endpoint, alive(channel, member, attacker.transport.endpoint, 1, 1, { incarnation: 2_000 }));
  await pollUntil(() => (heightSeen() === 1 ? true : null), 'the member known at height 1 after its restart', EVENT_TIMEOUT_MS);
});

test('a member pushing large blocks far ahead: what the board holds stays within its byte and distance bounds, and it goes on syncing', { timeout: 90_000 }, async (t) => {
  const net = await startInProcessNetwork({ orgs: 1, boardsPerOrg: 3, batch: { maxMessageCount: 1 } });
  const boards: GossipBoard[] = [];
  let attacker: Attacker | null = null;
  t.after(async () => {
    await attacker?.transport.stop();
    for (const b of boards) await b.stop();
    await net.stop();
  });
  const PENDING_BYTES_MAX = 4 * 1024 * 1024;
  const AHEAD_MAX_BLOCKS = 64;
  // While a forged block is held under a number, the honest push of that number is dropped as a duplicate
  // (src/gossip/pendingBlocks.ts); once the forged one fails verification the honest one comes with the
  // next pull, so the pull interval sets how long the follower takes to get past the forged blocks (about
  // 10 s at the default 1 s for this test's 32 numbers).
  const PULL_INTERVAL_MS = 200;
  const { leader, follower, drops } = await org1Pair(net, boards, {
    pendingPushedBytesMax: PENDING_BYTES_MAX, pendingPushedAheadMaxBlocks: AHEAD_MAX_BLOCKS, pullIntervalMs: PULL_INTERVAL_MS,
  });
  const client = await net.client('org1');
  // One large real block (a 200 KB transaction): the forger's copies are as large.
  await submitLoad(client, 1, 200_000, 1);
  const height = await allCut(net);
  await waitForHeight(follower.peer, height, EVENT_TIMEOUT_MS);
  const big = leader.ledger.getBlock(height - 1)!;
  attacker = await startAttacker();
  const forger = loadBoard(net.summary.dir, net.summary.boards[2]!.id).signer;
  const channel = net.summary.channel;
  const renumbered = (n: number): Uint8Array => {
    const b = Uint8Array.from(big);
    b.set(encodeHeader({ ...readHeader(big), number: n }), HEADER_OFFSET);
    return b;
  };
  let maxHeld = 0;
  const next = height;
  // 200 blocks within the distance bound (200 × 200 KB = 40 MB unbounded) and 200 far beyond the chain.
  for (let i = 0; i < 200; i++) {
    const n = i % 2 === 0 ? next + 2 + (i % AHEAD_MAX_BLOCKS) : next + 1_000_000 + i;
    attacker.transport.send(follower.node.endpoint, signGossip(channel, { type: GossipType.BLOCKS, blocks: [renumbered(n)] }, forger, Date.now()));
    maxHeld = Math.max(maxHeld, follower.node.pushedHeld.bytes);
  }
  await pollUntil(() => (drops.some((d) => d.includes('ahead of block')) && drops.some((d) => d.includes('pending (left to pull')) ? true : null),
    'the follower to refuse pushes beyond each bound', EVENT_TIMEOUT_MS, () => drops.join('\n'));
  maxHeld = Math.max(maxHeld, follower.node.pushedHeld.bytes);
  assert.ok(maxHeld <= PENDING_BYTES_MAX, `held ${maxHeld} bytes of pushed blocks; bound ${PENDING_BYTES_MAX}`);
  assert.ok(follower.node.pushedHeld.blocks <= AHEAD_MAX_BLOCKS);
  // Honest blocks still arrive: the forged ones are refused by verification when their turn comes, and
  // the real ones are pulled.
  await submitLoad(client, 100, 64, 8);
  const after = await allCut(net);
  await waitForHeight(follower.peer, after, EVENT_TIMEOUT_MS);
});

test('a raw TCP client sending well-framed junk to a board: closed once it has sent inboundUnauthenticatedBytesMax; members are not', { timeout: 60_000 }, async (t) => {
  const net = await startInProcessNetwork({ orgs: 1, boardsPerOrg: 2 });
  const boards: GossipBoard[] = [];
  const socket = new Socket();
  t.after(async () => {
    socket.destroy();
    for (const b of boards) await b.stop();
    await net.stop();
  });
  const LIMIT = 64 * 1024;
  const { leader, follower } = await org1Pair(net, boards, { inboundUnauthenticatedBytesMax: LIMIT });
  const [host, port] = leader.node.endpoint.split(':');
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await withTimeout(new Promise<void>((resolve) => socket.connect(Number(port), host!, resolve)), 'connect', EVENT_TIMEOUT_MS);
  // Frames of a CBOR byte string each: decoded, refused (malformed), never authenticated.
  const junk = encodeFrame(Uint8Array.from([0x59, 0x0f, 0xfc, ...new Uint8Array(4_092)]));
  let sent = 0;
  // Until the board resets the connection (the socket is destroyed at the first error it reads).
  while (!socket.destroyed && sent < 100 * LIMIT) {
    await new Promise<void>((resolve) => socket.write(junk, () => resolve()));
    sent += junk.length;
  }
  await withTimeout(closed, 'the junk connection closed', EVENT_TIMEOUT_MS);
  assert.ok(sent < 100 * LIMIT, `closed after ${sent} bytes, not let run`);
  // The member's connection to the leader carried far more than LIMIT in ALIVEs and stays: it still follows.
  await submitLoad(await net.client('org1'), 20, 64, 4);
  await waitForHeight(follower.peer, await allCut(net), EVENT_TIMEOUT_MS);
  assert.equal(follower.node.leader, leader.id);
});
