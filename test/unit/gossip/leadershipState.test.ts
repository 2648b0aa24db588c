// The leadership state machine (src/gossip/leadershipState.ts) on a manual clock: one org of boards, each
// seeing the others as their last ALIVE said (one tick old), its uplink up or cut by the test.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LeaderElection, StaticElection } from '../../../src/gossip/election.js';
import { type LeadershipDecision, type LeadershipParams, LeadershipMachine, type OrgMember } from '../../../src/gossip/leadershipState.js';

const TICK_MS = 100;
const election = { leaderHandoverMinBlocks: 16, leaderMinTermMs: 1_000, electionStartupGraceMs: 300, leaderLagSustainMs: 1_000 };
const P: LeadershipParams = { leaderClaimSettleMs: 250, leaderMinTermMs: 1_000, leaderUplinkYieldMs: 2_000, leaderYieldHoldMs: 5_000 };

interface SimBoard {
  id: string;
  machine: LeadershipMachine;
  height: number;
  /** The test cuts and restores it: a deliver client on a cut uplink hears nothing. */
  uplinkUp: boolean;
  /** When its deliver client (re)started or last heard the orderer, while it runs. */
  lastGoodMs: number | null;
  last: LeadershipDecision | null;
  alive: boolean;
}

/** One org on a manual clock: every tick each live board evaluates with what the others announced the tick before. */
class Org {
  nowMs = 0;
  readonly boards: SimBoard[];
  /** Ticks an ALIVE takes to be heard. */
  private readonly delayTicks: number;
  /** Ticks at which more than one board ran its deliver client. */
  doubleStreams = 0;
  /** Every change of who streams: [time, id or null]. */
  readonly streamers: [number, string | null][] = [];
  /** Whether `to` hears `from`'s ALIVEs (a partition when false). */
  hears: (to: string, from: string) => boolean = () => true;
  /** What each board announced, one entry per tick, newest last: a view is `delayTicks` old. */
  private readonly announced: OrgMember[][] = [];

  constructor(ids: string[], opts: { static?: string; delayTicks?: number } = {}) {
    this.delayTicks = opts.delayTicks ?? 1;
    this.boards = ids.map((id) => ({
      id,
      machine: opts.static === undefined
        ? new LeadershipMachine(id, new LeaderElection(id, election, 0), P, true)
        : new LeadershipMachine(id, new StaticElection(id, id === opts.static), P, false),
      height: 1, uplinkUp: true, lastGoodMs: null, last: null, alive: true,
    }));
  }

  board(id: string): SimBoard {
    return this.boards.find((b) => b.id === id)!;
  }

  streaming(): string[] {
    return this.boards.filter((b) => b.alive && b.last?.deliver === true).map((b) => b.id);
  }

  tick(): void {
    this.nowMs += TICK_MS;
    // What each board announced delayTicks ticks ago (an ALIVE is up to one interval old, plus its way).
    const heard = this.announced.length >= this.delayTicks ? this.announced[this.announced.length - this.delayTicks]! : [];
    for (const b of this.boards.filter((x) => x.alive)) {
      const delivering = b.last?.deliver === true;
      // A running client on a live uplink answers at once (its stream hears the orderer every tick).
      if (delivering && b.uplinkUp) b.lastGoodMs = this.nowMs;
      b.last = b.machine.update({
        members: heard.filter((m) => m.id !== b.id && this.hears(b.id, m.id)), height: b.height,
        uplink: { lastHeardMs: delivering ? b.lastGoodMs : null, reachable: b.uplinkUp },
      }, this.nowMs);
      if (b.last.deliver && !delivering) b.lastGoodMs = this.nowMs;
    }
    this.announced.push(this.boards.filter((b) => b.alive && b.last !== null).map((b) => ({
      id: b.id, height: b.height, leading: b.last!.claims, ...(b.last!.yielding ? { yielding: true } : {}),
    })));
    if (this.announced.length > this.delayTicks) this.announced.shift();
    const now = this.streaming();
    if (now.length > 1) this.doubleStreams++;
    const current = now[0] ?? null;
    if (this.streamers.at(-1)?.[1] !== current) this.streamers.push([this.nowMs, current]);
    // Everyone's ledger grows while the org has a stream (gossip spreads its blocks within a tick).
    if (now.some((id) => this.board(id).uplinkUp)) for (const b of this.boards) b.height++;
  }

  run(ms: number): void {
    for (let t = 0; t < ms; t += TICK_MS) this.tick();
  }

  /** Ticks until `done` holds; fails after `ms`. */
  until(done: () => boolean, what: string, ms: number): number {
    const from = this.nowMs;
    while (!done()) {
      if (this.nowMs - from > ms) assert.fail(`${what}: not within ${ms} ms (streaming: ${this.streaming().join(',') || 'nobody'})`);
      this.tick();
    }
    return this.nowMs - from;
  }
}

test('one stream per org: the best board claims, waits out the settle, then streams alone', () => {
  const org = new Org(['b1', 'b2', 'b3']);
  org.until(() => org.streaming().length === 1, 'a stream', 2_000);
  assert.deepEqual(org.streaming(), ['b1'], 'equal heights: the lowest id');
  const b1 = org.board('b1').last!;
  assert.equal(b1.state.kind, 'streaming');
  for (const id of ['b2', 'b3']) {
    assert.equal(org.board(id).last!.state.kind, 'follower');
    assert.equal(org.board(id).last!.leader, 'b1');
  }
  org.run(20_000);
  assert.equal(org.doubleStreams, 0);
  assert.equal(org.streamers.length, 1 + 1, 'nobody, then b1 for good: no flapping');
});

test('two boards that elected themselves before hearing each other: one steps down before either streams', () => {
  // Claims take two ticks to arrive (200 ms, less than the settle): streaming on the claim would be two streams.
  const org = new Org(['b1', 'b2'], { delayTicks: 2 });
  let apart = true;
  org.hears = () => !apart;
  org.until(() => org.boards.every((b) => b.last?.state.kind === 'claiming'), 'both claim, each alone', 2_000);
  apart = false;
  org.until(() => org.streaming().length === 1, 'one stream', 2_000);
  org.run(5_000);
  assert.deepEqual(org.streaming(), ['b1'], 'the higher id handed over');
  assert.equal(org.doubleStreams, 0);
});

test('a claim is not a stream: a claimant streams only after leaderClaimSettleMs with no rival claiming', () => {
  const org = new Org(['b1']);
  let claimedAt: number | null = null;
  org.until(() => {
    if (claimedAt === null && org.board('b1').last?.state.kind === 'claiming') claimedAt = org.nowMs;
    return org.streaming().length === 1;
  }, 'b1 streams', 2_000);
  assert.ok(claimedAt !== null, 'it claimed first');
  assert.ok(org.nowMs - claimedAt >= P.leaderClaimSettleMs, `streamed ${org.nowMs - claimedAt} ms after its claim`);
});

test("the leader's uplink cut: it yields after leaderUplinkYieldMs, another board streams, and the cut board does not win back while its uplink stays dead", () => {
  const org = new Org(['b1', 'b2', 'b3']);
  org.until(() => org.streaming()[0] === 'b1', 'b1 streams', 2_000);
  org.run(3_000);
  org.board('b1').uplinkUp = false;
  const cutAt = org.nowMs;
  org.until(() => org.board('b1').last!.state.kind === 'yielding', 'b1 yields', 10_000);
  const yieldedAfterMs = org.nowMs - cutAt;
  assert.ok(yieldedAfterMs >= P.leaderUplinkYieldMs && yieldedAfterMs <= P.leaderUplinkYieldMs + 2 * TICK_MS, `yielded ${yieldedAfterMs} ms after the cut`);
  assert.equal(org.board('b1').last!.deliver, false, 'a yielding board runs no deliver client');
  assert.equal(org.board('b1').last!.claims, false);
  const tookMs = org.until(() => org.streaming().length === 1 && org.streaming()[0] !== 'b1', 'another board streams', 5_000);
  // Heard one tick later, then a claim that settles.
  assert.ok(tookMs <= 2 * TICK_MS + P.leaderClaimSettleMs + 2 * TICK_MS, `the org streamed again ${tookMs} ms after the yield`);
  assert.equal(org.streaming()[0], 'b2');
  // Ten holds later, b1's uplink still dead: it never leads again, and b2 never stops.
  const mark = org.streamers.length;
  org.run(10 * P.leaderYieldHoldMs);
  assert.equal(org.board('b1').last!.state.kind, 'yielding');
  assert.equal(org.streamers.length, mark, `no change of stream: ${JSON.stringify(org.streamers.slice(mark))}`);
  assert.equal(org.doubleStreams, 0);
});

test('an uplink back after the hold: the yielded board is a candidate again, and does not take over from a healthy leader', () => {
  const org = new Org(['b1', 'b2']);
  org.until(() => org.streaming()[0] === 'b1', 'b1 streams', 2_000);
  org.board('b1').uplinkUp = false;
  org.until(() => org.streaming()[0] === 'b2', 'b2 streams', 10_000);
  org.board('b1').uplinkUp = true;
  org.until(() => org.board('b1').last!.state.kind === 'follower', 'b1 a follower (candidate) again', P.leaderYieldHoldMs + 1_000);
  assert.equal(org.board('b1').last!.leader, 'b2');
  const mark = org.streamers.length;
  org.run(30_000);
  assert.equal(org.streamers.length, mark, 'b2 keeps the stream: no flapping back to b1');
  assert.equal(org.doubleStreams, 0);
});

test('a yielded board whose uplink is back at once still sits out leaderYieldHoldMs (no flapping)', () => {
  const org = new Org(['b1', 'b2']);
  org.until(() => org.streaming()[0] === 'b1', 'b1 streams', 2_000);
  org.board('b1').uplinkUp = false;
  org.until(() => org.board('b1').last!.state.kind === 'yielding', 'b1 yields', 10_000);
  const yieldedAt = org.nowMs;
  org.board('b1').uplinkUp = true;
  org.until(() => org.board('b1').last!.state.kind !== 'yielding', 'b1 back', 2 * P.leaderYieldHoldMs);
  assert.ok(org.nowMs - yieldedAt >= P.leaderYieldHoldMs, `back after ${org.nowMs - yieldedAt} ms`);
});

test('an uplink blip shorter than leaderUplinkYieldMs changes nothing', () => {
  const org = new Org(['b1', 'b2']);
  org.until(() => org.streaming()[0] === 'b1', 'b1 streams', 2_000);
  const mark = org.streamers.length;
  for (let i = 0; i < 10; i++) {
    org.board('b1').uplinkUp = false;
    org.run(P.leaderUplinkYieldMs - 3 * TICK_MS);
    org.board('b1').uplinkUp = true;
    org.run(2_000);
  }
  assert.equal(org.streamers.length, mark);
  assert.equal(org.board('b1').last!.state.kind, 'streaming');
});

test('a lone board keeps its stream (and its retries) however long its uplink fails: nobody else could lead', () => {
  const org = new Org(['b1']);
  org.until(() => org.streaming()[0] === 'b1', 'b1 streams', 2_000);
  org.board('b1').uplinkUp = false;
  org.run(10 * P.leaderUplinkYieldMs);
  assert.equal(org.board('b1').last!.state.kind, 'streaming');
});

test('the board that took over dies while the yielded one is still cut: the yielded one leads again, as a lone board would', () => {
  const org = new Org(['b1', 'b2']);
  org.until(() => org.streaming()[0] === 'b1', 'b1 streams', 2_000);
  org.board('b1').uplinkUp = false;
  org.until(() => org.streaming()[0] === 'b2', 'b2 streams', 10_000);
  org.board('b2').alive = false;
  // Nobody else can lead: b1 streams again (its deliver client retries) rather than leaving its org without one.
  org.until(() => org.streaming()[0] === 'b1', 'b1 streams again', 5_000);
});

test('every uplink dead: at most one stream at a time, the org never left without one, and the boards that yielded stay out while dead', () => {
  const org = new Org(['b1', 'b2', 'b3']);
  org.until(() => org.streaming().length === 1, 'a stream', 2_000);
  for (const b of org.boards) b.uplinkUp = false;
  org.run(60_000);
  assert.equal(org.doubleStreams, 0);
  // b1 yields to b2, b2 to b3; b3 has nobody left to yield to and goes on retrying.
  assert.deepEqual(org.streamers.map(([, id]) => id), [null, 'b1', null, 'b2', null, 'b3']);
  assert.deepEqual(org.boards.map((b) => b.last!.state.kind), ['yielding', 'yielding', 'streaming']);
  // The orderer is back: b3's stream heals; the others return as followers.
  for (const b of org.boards) b.uplinkUp = true;
  org.run(P.leaderYieldHoldMs + 1_000);
  assert.deepEqual(org.boards.map((b) => b.last!.state.kind), ['follower', 'follower', 'streaming']);
});

test('a leader that dies is replaced; one that comes back within the new leader\'s term does not take over (the election rules kept)', () => {
  const org = new Org(['b1', 'b2', 'b3']);
  org.until(() => org.streaming()[0] === 'b1', 'b1 streams', 2_000);
  org.board('b1').alive = false;
  org.until(() => org.streaming()[0] === 'b2', 'b2 streams', 3_000);
  const b1 = org.board('b1');
  b1.alive = true;
  b1.last = null;
  b1.machine = new LeadershipMachine('b1', new LeaderElection('b1', election, org.nowMs), P, true);
  org.run(20_000);
  assert.deepEqual(org.streaming(), ['b2']);
  assert.equal(b1.last!.leader, 'b2', 'the returning board adopts the claimant');
  assert.equal(org.doubleStreams, 0);
});

test('static: the configured board streams and never yields; the others never lead', () => {
  const org = new Org(['b1', 'b2'], { static: 'b2' });
  org.until(() => org.streaming()[0] === 'b2', 'b2 streams', 2_000);
  org.board('b2').uplinkUp = false;
  org.run(10 * P.leaderUplinkYieldMs);
  assert.deepEqual(org.streaming(), ['b2'], 'a static leader has nobody to yield to');
  assert.equal(org.board('b1').last!.leader, 'b2');
  assert.equal(org.board('b1').last!.claims, false);
});

test('two static leaders (a misconfiguration): neither streams, and each reports the other as a persistent rival', () => {
  const org = new Org(['b1', 'b2'], { static: 'b1' });
  // Make b2 a second static leader.
  org.board('b2').machine = new LeadershipMachine('b2', new StaticElection('b2', true), P, false);
  org.run(5_000);
  assert.deepEqual(org.streaming(), []);
  assert.deepEqual(org.board('b1').last!.persistentRivals, ['b2']);
  assert.deepEqual(org.board('b2').last!.persistentRivals, ['b1']);
});
