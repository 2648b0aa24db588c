// Relay-mode ALIVE dissemination in the real node (GossipNode with aliveRelay.ts), on a few boards made to
// relay by a small aliveDirectMembersMax, over the in-memory network on virtual time, with the real codec
// (every message and every relayed entry Ed25519-signed and checked): what each board sends per interval,
// that views stay whole, that the org notices its leader's death as quickly as a small fleet does, that a
// restarted board hears its leader at once, and what an attacker's ALIVES can and cannot do.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { relayExpirationMs } from '../../../src/gossip/aliveRelay.js';
import { gossipDefaults } from '../../../src/gossip/gossipDefaults.js';
import { GossipType, decodeGossip, signGossip } from '../../../src/gossip/messages.js';
import { SimFleet, type SimFleetOptions, simFleetDefaults } from '../../helpers/sim/simFleet.js';

const BOARDS = 10;
const ORGS = 2;
/** Short timings; aliveDirectMembersMax 3 puts every board of ten in relay mode. */
const limits = {
  aliveIntervalMs: 100, aliveExpirationMs: 600, electionStartupGraceMs: 300, leaderClaimSettleMs: 150, leaderMinTermMs: 1_000,
  pullIntervalMs: 100, aliveDirectMembersMax: 3, aliveFanout: 2, aliveRelayedPerMessageMax: 4, aliveRelayExpirationPerRoundMs: 2_000,
};
const RELAY_EXPIRY_MS = relayExpirationMs(BOARDS - 1, { ...gossipDefaults, ...limits });
const SETTLE_WITHIN_MS = 5_000;

async function settledFleet(o: Partial<SimFleetOptions> = {}): Promise<SimFleet> {
  const f = new SimFleet({ ...simFleetDefaults, boards: BOARDS, orgs: ORGS, seed: 11, ...o, limits: { ...limits, ...o.limits } });
  await f.startAll();
  assert.ok(await f.clock.runUntil(() => f.settled(), SETTLE_WITHIN_MS), `no settled leadership: ${JSON.stringify([...f.deliveringByOrg()])}`);
  return f;
}

/** ALIVE and ALIVES messages each board sends, read off the wire, and the entries their ALIVES carry. */
function aliveTap(f: SimFleet): { sent: Map<string, number>; relayed: Uint8Array[][] } {
  const sent = new Map<string, number>();
  const relayed: Uint8Array[][] = [];
  f.network.tap = (from, _to, bytes) => {
    const body = decodeGossip(bytes).message.body;
    if ((body.type !== GossipType.ALIVE && body.type !== GossipType.ALIVES) || from === 'sim:attacker') return;
    sent.set(from, (sent.get(from) ?? 0) + 1);
    if (body.type === GossipType.ALIVES) relayed.push(body.alives);
  };
  return { sent, relayed };
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

test('relay mode: a follower sends its ALIVE to aliveFanout members an interval, yet every board keeps every other live', async () => {
  const f = await settledFleet();
  await f.clock.runFor(2_000);
  const tap = aliveTap(f);
  const INTERVALS = 40;
  let smallestView = BOARDS;
  for (let i = 0; i < INTERVALS; i++) {
    await f.clock.runFor(limits.aliveIntervalMs);
    for (const b of f.boards) smallestView = Math.min(smallestView, b.node.liveMembers().length);
  }
  assert.equal(smallestView, BOARDS - 1, 'no healthy member was taken for dead');
  const followers = f.boards.filter((b) => b.node.leader !== b.id);
  for (const b of followers) {
    const perInterval = (tap.sent.get(b.endpoint) ?? 0) / INTERVALS;
    // aliveFanout; an answer or an introduction now and then at most. All to all would be BOARDS - 1.
    assert.ok(perInterval <= limits.aliveFanout + 0.25, `${b.id} sent ${perInterval} ALIVEs an interval`);
  }
  // A leader also says itself to its whole org every interval.
  for (const b of f.boards.filter((x) => x.node.leader === x.id)) {
    const orgOthers = f.boards.filter((x) => x.org === b.org).length - 1;
    assert.ok((tap.sent.get(b.endpoint) ?? 0) / INTERVALS >= orgOthers, `${b.id} leads`);
  }
  // Relayed entries are there and bounded: own + leader slot + aliveRelayedPerMessageMax.
  assert.ok(tap.relayed.some((a) => a.length > 2));
  assert.ok(tap.relayed.every((a) => a.length <= 2 + limits.aliveRelayedPerMessageMax));
  await f.stop();
});

test('entering relay mode, a board says itself once to every member: boards that were not listening at its first ALIVE know it an interval later', async () => {
  const f = new SimFleet({ ...simFleetDefaults, boards: BOARDS, orgs: ORGS, seed: 11, limits });
  const tap = aliveTap(f);
  // Boards start one after another at the same virtual moment: the first one's first ALIVE finds nobody
  // listening, while it hears everyone's.
  await f.startAll();
  const first = f.boards[0]!;
  await f.clock.runFor(limits.aliveIntervalMs + 3 * f.o.link.latencyMs);
  for (const b of f.boards.slice(1)) assert.ok(b.node.liveMembers().some((m) => m.id === first.id), `${b.id} does not know ${first.id}`);
  // Its second ALIVE (the first in relay mode) went to everyone, once; later ones to aliveFanout.
  assert.ok((tap.sent.get(first.endpoint) ?? 0) >= 2 * (BOARDS - 1));
  const afterEntry = tap.sent.get(first.endpoint) ?? 0;
  await f.clock.runFor(10 * limits.aliveIntervalMs);
  // aliveFanout, and its org while it leads: far below once more to every member each interval.
  assert.ok((tap.sent.get(first.endpoint) ?? 0) - afterEntry <= 10 * (limits.aliveFanout + BOARDS / ORGS) + 5, 'and not again');
  await f.stop();
});

test("relay mode: the org notices its leader's death within aliveExpirationMs and a successor streams, long before the relay expiry", async () => {
  const f = await settledFleet();
  await f.clock.runFor(2_000);
  const org = 'org01';
  const leader = f.boards.find((b) => b.org === org && b.peer.isDelivering)!;
  const diedAt = f.clock.exactNow();
  // A crash, not a stop: no leaving ALIVE; its links simply go silent.
  f.network.partition([[leader.endpoint]]);
  const successor = await f.clock.runUntil(
    () => f.boards.some((b) => b !== leader && b.org === org && b.peer.isDelivering), RELAY_EXPIRY_MS,
  );
  assert.ok(successor, 'no successor within the relay expiry');
  const tookMs = f.clock.exactNow() - diedAt;
  // Death noticed after aliveExpirationMs (from its last ALIVE, up to an interval earlier), at the next tick,
  // then the claim settles.
  const boundMs = limits.aliveExpirationMs + 3 * limits.aliveIntervalMs + limits.leaderClaimSettleMs;
  assert.ok(tookMs <= boundMs, `successor streamed ${tookMs} ms after the death (bound ${boundMs}, relay expiry ${RELAY_EXPIRY_MS})`);
  await f.stop();
});

test('relay mode: a leader whose uplink goes silent yields, its org hears it at once and another board streams', async () => {
  const YIELD_MS = 1_000;
  const f = await settledFleet({ limits: { leaderUplinkYieldMs: YIELD_MS } });
  await f.clock.runFor(2_000);
  const org = 'org02';
  const leader = f.boards.find((b) => b.org === org && b.peer.isDelivering)!;
  const cutAt = f.clock.now();
  // Its Deliver stream hears nothing from now on, and its link to the orderer is known down.
  leader.peer.uplink = () => ({ lastHeardMs: cutAt, reachable: false });
  const others = f.boards.filter((b) => b.org === org && b !== leader);
  const took = await f.clock.runUntil(() => others.some((b) => b.peer.isDelivering), RELAY_EXPIRY_MS);
  assert.ok(took, 'no other board of the org streams');
  const tookMs = f.clock.now() - cutAt;
  // Silent for leaderUplinkYieldMs (noticed at a tick), the yield said to the org at once, a claim settles.
  const boundMs = YIELD_MS + 2 * limits.aliveIntervalMs + limits.leaderClaimSettleMs + 4 * f.o.link.latencyMs;
  assert.ok(tookMs <= boundMs, `another board streamed ${tookMs} ms after the cut (bound ${boundMs})`);
  assert.equal(leader.peer.isDelivering, false);
  const successor = others.find((b) => b.peer.isDelivering)!;
  assert.ok(await f.clock.runUntil(() => f.boards.filter((b) => b.org === org).every((b) => b.node.leader === successor.id), 5 * limits.aliveIntervalMs));
  assert.equal(f.orderer.streamsByOrg().get(org), 1);
  await f.stop();
});

test('relay mode: a board restarted on an empty ledger hears its org\'s leader in the first answers, and opens no stream', async () => {
  const f = await settledFleet();
  await f.clock.runFor(2_000);
  const i = f.boards.findIndex((b) => b.org === 'org02' && !b.peer.isDelivering);
  const leader = f.boards.find((b) => b.org === 'org02' && b.peer.isDelivering)!;
  const streams = f.orderer.streamLog.length;
  await f.restartEmpty(i);
  const b = f.boards[i]!;
  // Its first ALIVE goes out at start; the answers (with the org's leader's ALIVE) come back a round trip later.
  await f.clock.runFor(4 * f.o.link.latencyMs);
  assert.ok(b.node.liveMembers().some((m) => m.id === leader.id), `knows ${b.node.liveMembers().map((m) => m.id)}`);
  assert.ok(await f.clock.runUntil(() => b.node.leader === leader.id, limits.electionStartupGraceMs + limits.aliveIntervalMs));
  assert.ok(await f.clock.runUntil(() => f.converged(), 3_000));
  assert.equal(f.orderer.streamLog.length, streams, `streams opened: ${JSON.stringify(f.orderer.streamLog.slice(streams))}`);
  await f.stop();
});

test('an attacker\'s ALIVES: forged, replayed, client and over-bound entries are dropped, none relayed on, nothing held', async () => {
  const f = await settledFleet();
  await f.clock.runFor(1_000);
  const channel = f.channel.config.channel;
  const target = f.boards.find((b) => !b.peer.isDelivering)!;
  const victim = f.boards.find((b) => b !== target && !b.peer.isDelivering)!;
  // A captured ALIVE of the victim, signed by it: taken off the wire.
  let captured: Uint8Array | null = null;
  f.network.tap = (from, _to, bytes) => {
    const body = decodeGossip(bytes).message.body;
    if (from === victim.endpoint && body.type === GossipType.ALIVES) captured ??= body.alives[0]!.slice();
  };
  assert.ok(await f.clock.runUntil(() => captured !== null, 5_000), 'an ALIVE of the victim seen');
  await f.clock.runFor(5 * limits.aliveIntervalMs);
  // The insider: a real board's key, misused (its own entry first, as the form requires).
  const insider = f.boards.find((b) => b !== target && b !== victim)!;
  const insiderSigner = f.channel.boards[insider.index]!.signer;
  const now = f.clock.now();
  const own = signGossip(channel, {
    type: GossipType.ALIVE,
    alive: { id: insider.id, org: insider.org, height: insider.peer.height, incarnation: now * 3, seq: 1, endpoint: insider.endpoint, leader: false },
  }, insiderSigner, now);
  // 1. The victim's ALIVE with a huge height, under the victim's certificate but signed with the insider's
  // key: what forging another member's ALIVE comes to without its key.
  const forged = signGossip(channel, {
    type: GossipType.ALIVE,
    alive: { id: victim.id, org: victim.org, height: 1_000_000, incarnation: now * 3, seq: 1, endpoint: 'sim:attacker', leader: true },
  }, { certificate: f.channel.boards[victim.index]!.signer.certificate, privateKey: insiderSigner.privateKey }, now);
  // 2. The victim's captured ALIVE itself: older than what the target holds.
  const replay = captured!;
  // 3. A client's certificate, admitted by the Readers policy: no board.
  const client = f.channel.client;
  const clientAlive = signGossip(channel, {
    type: GossipType.ALIVE,
    alive: { id: client.certificate.id, org: client.certificate.org, height: 1_000_000, incarnation: now, seq: 1, endpoint: 'sim:attacker', leader: true },
  }, client, now);
  // 4. The victim's ALIVE signed by the insider's key but naming the victim: another member's ALIVE forged.
  const impersonation = signGossip(channel, {
    type: GossipType.ALIVE,
    alive: { id: victim.id, org: victim.org, height: 1_000_000, incarnation: now * 3, seq: 1, endpoint: 'sim:attacker', leader: true },
  }, insiderSigner, now);
  // 5. Padding: a hundred entries, most past the bounds.
  const padding = Array.from({ length: 100 }, () => replay);
  const evil = [forged, replay, clientAlive, impersonation];
  const msg = signGossip(channel, { type: GossipType.ALIVES, alives: [own, ...evil, ...padding] }, insiderSigner, now);
  const drops: string[] = [];
  target.node.on('dropped', (_s, reason) => drops.push(reason));
  const tap = aliveTap(f);
  const wire = await f.network.transport('sim:attacker')(() => true);
  // Only the attacker reaches the target now, so what it opens is the attacker's message alone.
  f.network.partition([[target.endpoint, 'sim:attacker']]);
  const before = target.node.relayedAlives;
  wire.send(target.endpoint, msg);
  await f.clock.runFor(3 * limits.aliveIntervalMs);
  assert.ok(drops.some((r) => /bad signature/.test(r)), `drops: ${drops.join(' | ')}`);
  assert.ok(drops.some((r) => /client certificate/.test(r)));
  assert.ok(drops.some((r) => /signed by another member/.test(r)));
  assert.ok(drops.some((r) => /are not opened/.test(r)), 'entries past the bounds are not opened');
  // Of the 2 + aliveRelayedPerMessageMax entries looked at, the replay and the first copy of the padding
  // are known stale from their bytes: left unopened, no signature checked; the forged, the client's and
  // the impersonation are opened (and dropped).
  const after = target.node.relayedAlives;
  assert.deepEqual([after.opened - before.opened, after.stale - before.stale], [3, 2]);
  const seen = target.node.liveMembers();
  assert.ok(!seen.some((m) => m.height === 1_000_000), 'no forged height taken');
  assert.ok(!seen.some((m) => m.id === client.certificate.id), 'no client taken as a member');
  assert.equal(seen.find((m) => m.id === victim.id)?.height, victim.peer.height);
  // What the target relays next carries none of them (the insider's own, genuine, may go on).
  const relayedByTarget = tap.relayed.flat();
  evil.forEach((e, k) => assert.ok(!relayedByTarget.some((r) => sameBytes(r, e)), `evil entry ${k} was relayed on`));
  await wire.stop();
  await f.stop();
});
